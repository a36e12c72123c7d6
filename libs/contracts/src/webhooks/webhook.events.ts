import { z } from 'zod';
import { defineEvent } from '../define';

/**
 * A signed WhatsApp webhook POST, stored by the gateway in `gateway.webhook_receipt` before it answered 200,
 * then relayed here (msg id = receipt id). `body` is the exact raw text Meta sent.
 */
export const WebhookReceivedV1 = defineEvent({
  subject: 'webhook.whatsapp.received.v1',
  stream: 'WEBHOOKS',
  schema: z.object({
    eventId: z.string().uuid(), // = receipt id
    occurredAt: z.string(), // when the gateway received it
    body: z.string(),
  }),
});
export type WebhookReceived = z.infer<typeof WebhookReceivedV1.schema>;
