import { randomUUID } from 'node:crypto';

/** A WhatsApp webhook body (exact Meta envelope, REFERENCE §1.4) carrying one customer text message. */
export function textWebhook(o: {
  phoneNumberId: string;
  from: string;
  text: string;
  name?: string;
  wamid?: string;
  /** Unix seconds; default now. */
  ts?: number;
  displayPhoneNumber?: string;
}): string {
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: '102290129340398',
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: { display_phone_number: o.displayPhoneNumber ?? o.phoneNumberId, phone_number_id: o.phoneNumberId },
              contacts: [{ profile: { name: o.name ?? 'Customer' }, wa_id: o.from }],
              messages: [
                {
                  from: o.from,
                  id: o.wamid ?? `wamid.${randomUUID()}`,
                  timestamp: String(o.ts ?? Math.floor(Date.now() / 1000)),
                  type: 'text',
                  text: { body: o.text },
                },
              ],
            },
          },
        ],
      },
    ],
  });
}
