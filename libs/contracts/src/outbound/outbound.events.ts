import { z } from 'zod';
import { defineEvent, eventBase } from '../define';

/**
 * Notifications owns the send queue and publishes each send's lifecycle; ingest owns the message and
 * records these against it (creating the outbound message on `queued`, linking the wamid on `sent`).
 */
const sendRef = {
  sendId: z.string().uuid(),
  phoneNumberId: z.string(),
  conversationId: z.string().uuid().nullable(),
};

export const OutboundQueuedV1 = defineEvent({
  subject: 'inbox.outbound.queued.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    ...sendRef,
    to: z.string(), // wa_id or BSUID
    kind: z.string(), // text | image | template | interactive | reaction | …
    text: z.string(), // text rendering
    content: z.record(z.unknown()), // the Graph API message body (without messaging_product/to)
    senderId: z.string().nullable(), // user or API key that asked; null = system
    senderName: z.string().nullable(),
  }),
});

export const OutboundSentV1 = defineEvent({
  subject: 'inbox.outbound.sent.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({ ...eventBase, ...sendRef, waMessageId: z.string() }),
});

export const OutboundFailedV1 = defineEvent({
  subject: 'inbox.outbound.failed.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    ...sendRef,
    code: z.number().nullable(), // Meta error code
    title: z.string().nullable(),
    explanation: z.string(), // in words, for the agent
  }),
});
