import type { OutboundMessage, SendMessageRequest } from '@app/contracts';

/** The Graph message body beyond messaging_product/to (REFERENCE §2), as published in OutboundQueuedV1.content. */
export function graphContent(req: Pick<SendMessageRequest, 'message' | 'context'>): Record<string, unknown> {
  const m = req.message;
  const ctx = req.context ? { context: { message_id: req.context.messageId } } : {};
  switch (m.type) {
    case 'text':
      return { type: 'text', text: { body: m.body, ...(m.previewUrl !== undefined ? { preview_url: m.previewUrl } : {}) }, ...ctx };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker': {
      // upload_id: a file stored in ingest, uploaded to the Graph API (and replaced by its id) by the sender
      const media: Record<string, unknown> = m.id ? { id: m.id } : m.uploadId ? { upload_id: m.uploadId } : { link: m.link };
      if (m.caption !== undefined) media.caption = m.caption;
      if (m.filename !== undefined) media.filename = m.filename;
      return { type: m.type, [m.type]: media, ...ctx };
    }
    case 'template':
      return {
        type: 'template',
        template: { name: m.name, language: { code: m.language }, ...(m.components ? { components: m.components } : {}) },
        ...ctx,
      };
    case 'interactive': {
      const i = m.interactive;
      const common = { ...(i.header ? { header: i.header } : {}), body: i.body, ...(i.footer ? { footer: i.footer } : {}) };
      const action =
        i.type === 'button'
          ? { buttons: i.buttons.map((b) => ({ type: 'reply', reply: { id: b.id, title: b.title } })) }
          : { button: i.button, sections: i.sections };
      return { type: 'interactive', interactive: { type: i.type, ...common, action }, ...ctx };
    }
    case 'reaction':
      return { type: 'reaction', reaction: { message_id: m.messageId, emoji: m.emoji }, ...ctx };
  }
}

/** One line for lists and search. */
export function textOf(m: OutboundMessage): string {
  switch (m.type) {
    case 'text':
      return m.body;
    case 'template':
      return `[template ${m.name}]`;
    case 'interactive':
      return m.interactive.body.text;
    case 'reaction':
      return m.emoji ? `[reaction ${m.emoji}]` : '[reaction removed]';
    default:
      return m.caption ?? `[${m.type}]`;
  }
}

/** Body parameters given in a template send. */
export function bodyParameterCount(m: OutboundMessage): number {
  if (m.type !== 'template') return 0;
  return (m.components ?? []).filter((c) => c.type.toLowerCase() === 'body').reduce((n, c) => n + (c.parameters?.length ?? 0), 0);
}

/** Free-form = anything but a template: allowed only inside the 24 h window (REFERENCE §2.1). */
export const isFreeForm = (m: OutboundMessage) => m.type !== 'template';
