/** The sandbox's message templates (what `GET /{version}/{waba-id}/message_templates` lists). */
export interface SandboxTemplate {
  id: string;
  name: string;
  language: string;
  status: 'APPROVED' | 'PENDING' | 'REJECTED' | 'PAUSED' | 'DISABLED';
  category: 'UTILITY' | 'MARKETING' | 'AUTHENTICATION';
  components: { type: 'HEADER' | 'BODY' | 'FOOTER' | 'BUTTONS'; format?: string; text?: string }[];
}

export function seedTemplates(): SandboxTemplate[] {
  return [
    { id: '900000000000001', name: 'hello_world', language: 'en_US', status: 'APPROVED', category: 'UTILITY',
      components: [{ type: 'HEADER', format: 'TEXT', text: 'Hello World' }, { type: 'BODY', text: 'Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta.' }, { type: 'FOOTER', text: 'WhatsApp Business Platform sample message' }] },
    { id: '900000000000002', name: 'sample_shipping_confirmation', language: 'en_US', status: 'APPROVED', category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Your package has been shipped. It will be delivered in {{1}} business days.' }] },
    { id: '900000000000003', name: 'order_update', language: 'en_US', status: 'APPROVED', category: 'UTILITY',
      components: [{ type: 'BODY', text: 'Hi {{1}}, your order {{2}} is now {{3}}.' }] },
    { id: '900000000000004', name: 'abandoned_cart', language: 'en', status: 'REJECTED', category: 'MARKETING',
      components: [{ type: 'BODY', text: 'You left {{1}}{{2}} in your cart.' }] },
    { id: '900000000000005', name: 'seasonal_promo', language: 'en_US', status: 'PAUSED', category: 'MARKETING',
      components: [{ type: 'BODY', text: 'Our {{1}} sale starts now.' }] },
  ];
}

/** Distinct `{{n}}` placeholders in the template's body. */
export function bodyParameterCount(t: Pick<SandboxTemplate, 'components'>): number {
  const body = t.components.find((c) => c.type === 'BODY')?.text ?? '';
  return new Set([...body.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])).size;
}
