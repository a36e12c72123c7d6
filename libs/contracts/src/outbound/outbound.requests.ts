import { z } from 'zod';
import { defineRequest } from '../define';

/**
 * Outbound WhatsApp sends, answered by notifications. Limits follow REFERENCE §2 (text ≤ 4096 chars,
 * ≤ 3 reply buttons with titles ≤ 20 chars, ≤ 10 list rows); a request over them is refused with code
 * VALIDATION and a message naming the field, and nothing is queued.
 */

const waMessageId = z.string().trim().min(1).max(512);

export const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;
export type MediaType = (typeof MEDIA_TYPES)[number];

const textMessage = z.object({
  type: z.literal('text'),
  body: z
    .string()
    .max(4096, 'text is longer than 4096 characters')
    .refine((s) => s.trim().length > 0, 'text must not be empty'),
  previewUrl: z.boolean().optional(),
});

/**
 * REFERENCE §3: largest file per media type, and the MIME types each accepts (checked by the gateway's attachment
 * upload and by notifications before a send by media id).
 */
export const MEDIA_LIMITS: Record<MediaType, { maxBytes: number; mime: string[] }> = {
  audio: { maxBytes: 16 << 20, mime: ['audio/aac', 'audio/amr', 'audio/mpeg', 'audio/mp4', 'audio/ogg'] },
  document: {
    maxBytes: 100 << 20,
    mime: [
      'text/plain', 'application/pdf', 'application/vnd.ms-excel', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'application/msword', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', 'application/vnd.ms-powerpoint',
      'application/vnd.openxmlformats-officedocument.presentationml.presentation',
    ],
  },
  image: { maxBytes: 5 << 20, mime: ['image/jpeg', 'image/png'] },
  sticker: { maxBytes: 500 << 10, mime: ['image/webp'] },
  video: { maxBytes: 16 << 20, mime: ['video/mp4', 'video/3gpp'] },
};

/** The media type a MIME type is sent as (null: WhatsApp accepts no such file). */
export function mediaTypeOfMime(mime: string): MediaType | null {
  const m = mime.split(';')[0].trim().toLowerCase();
  return (MEDIA_TYPES.find((t) => MEDIA_LIMITS[t].mime.includes(m)) as MediaType | undefined) ?? null;
}

const mediaFields = {
  /** A media id from `POST /{phone-number-id}/media`. Exactly one of id / link / uploadId. */
  id: z.string().trim().min(1).max(256).optional(),
  /** A file stored in ingest (PutUploadChunkV1): notifications uploads it to the Graph API and sends its media id. */
  uploadId: z.string().uuid().optional(),
  link: z.string().url().max(2048).refine((u) => /^https?:\/\//i.test(u), 'link must be an http(s) URL').optional(),
  caption: z.string().max(1024).optional(),
  filename: z.string().max(240).optional(),
};
const mediaMessage = (type: MediaType) =>
  z.object({ type: z.literal(type), ...mediaFields });

const templateParameter = z
  .object({ type: z.string().min(1).max(32), text: z.string().max(32_768).optional() })
  .passthrough();
const templateComponent = z
  .object({
    type: z.enum(['header', 'body', 'button', 'footer', 'HEADER', 'BODY', 'BUTTON', 'FOOTER']),
    sub_type: z.string().max(32).optional(),
    index: z.union([z.string(), z.number()]).optional(),
    parameters: z.array(templateParameter).max(100).default([]),
  })
  .passthrough();

const templateMessage = z.object({
  type: z.literal('template'),
  name: z.string().trim().min(1).max(512),
  /** Language code, e.g. `en_US`. */
  language: z.string().trim().min(2).max(16),
  components: z.array(templateComponent).max(20).optional(),
});

const interactiveHeader = z.object({ type: z.literal('text'), text: z.string().min(1).max(60) });
const interactiveCommon = {
  header: interactiveHeader.optional(),
  body: z.object({ text: z.string().min(1).max(1024) }),
  footer: z.object({ text: z.string().min(1).max(60) }).optional(),
};
const interactiveButton = z.object({
  type: z.literal('button'),
  ...interactiveCommon,
  buttons: z
    .array(z.object({ id: z.string().trim().min(1).max(256), title: z.string().trim().min(1).max(20) }))
    .min(1)
    .max(3),
});
const interactiveList = z.object({
  type: z.literal('list'),
  ...interactiveCommon,
  /** The button that opens the list. */
  button: z.string().trim().min(1).max(20),
  sections: z
    .array(
      z.object({
        title: z.string().max(24).optional(),
        rows: z
          .array(
            z.object({
              id: z.string().trim().min(1).max(200),
              title: z.string().trim().min(1).max(24),
              description: z.string().max(72).optional(),
            }),
          )
          .min(1)
          .max(10),
      }),
    )
    .min(1)
    .max(10)
    .refine((s) => s.reduce((n, x) => n + x.rows.length, 0) <= 10, 'a list has at most 10 rows in total'),
});

const interactiveMessage = z.object({
  type: z.literal('interactive'),
  interactive: z.discriminatedUnion('type', [interactiveButton, interactiveList]),
});

const reactionMessage = z.object({
  type: z.literal('reaction'),
  messageId: waMessageId,
  /** Empty string removes the reaction. */
  emoji: z.string().max(16),
});

export const OutboundMessage = z.discriminatedUnion('type', [
  textMessage,
  mediaMessage('image'),
  mediaMessage('video'),
  mediaMessage('audio'),
  mediaMessage('document'),
  mediaMessage('sticker'),
  templateMessage,
  interactiveMessage,
  reactionMessage,
]);
export type OutboundMessage = z.infer<typeof OutboundMessage>;

export const SEND_STATUSES = ['queued', 'sent', 'failed'] as const;

export const SendMessageRequest = z
  .object({
    /** Client-chosen; the same key returns the first result and never sends twice. */
    idempotencyKey: z.string().trim().min(1).max(200),
    /** The business number (Meta's phone_number_id) to send from. */
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, 'phoneNumberId must be digits'),
    /** wa_id (digits) or BSUID. */
    to: z.string().trim().min(1).max(140),
    /** When set, must be a conversation notifications knows; its window applies. */
    conversationId: z.string().uuid().nullable(),
    senderId: z.string().max(200).nullable(),
    senderName: z.string().max(200).nullable(),
    message: OutboundMessage,
    /** Quote a message (reply). */
    context: z.object({ messageId: waMessageId }).optional(),
  })
  .superRefine((r, ctx) => {
    const m = r.message;
    if ((MEDIA_TYPES as readonly string[]).includes(m.type)) {
      const media = m as { id?: string; link?: string; uploadId?: string; caption?: string; filename?: string };
      if ([media.id, media.link, media.uploadId].filter((x) => x !== undefined).length !== 1)
        ctx.addIssue({ code: 'custom', path: ['message', 'id'], message: 'exactly one of message.id, message.link or message.uploadId is required' });
      if (media.caption !== undefined && (m.type === 'audio' || m.type === 'sticker'))
        ctx.addIssue({ code: 'custom', path: ['message', 'caption'], message: `${m.type} cannot have a caption` });
      if (media.filename !== undefined && m.type !== 'document')
        ctx.addIssue({ code: 'custom', path: ['message', 'filename'], message: 'only a document has a filename' });
    }
  });
export type SendMessageRequest = z.infer<typeof SendMessageRequest>;

export const SendMessageResponse = z.object({
  sendId: z.string().uuid(),
  status: z.enum(SEND_STATUSES),
  waMessageId: z.string().nullable(),
  /** True when the idempotency key was seen before: this is the first request's result. */
  duplicate: z.boolean(),
});
export type SendMessageResponse = z.infer<typeof SendMessageResponse>;

/**
 * Queue one WhatsApp message. Answers once the send is durably queued (status `queued`), or at once with the
 * earlier result for a repeated idempotency key. Refusals: VALIDATION (bad field; free-form outside the 24 h
 * window — a template is needed; template not approved or wrong parameter count), NOT_FOUND (unknown conversation).
 */
export const SendMessageV1 = defineRequest({
  subject: 'notifications.send-message.v1',
  service: 'notifications',
  request: SendMessageRequest,
  response: SendMessageResponse,
  timeoutMs: 2_000,
});

/**
 * Would SendMessageV1 accept this send? The same checks (fields, conversation, 24 h window, template, media id;
 * a used idempotency key: the same message passes with `duplicate: true`, another is CONFLICT), nothing queued.
 * The gateway asks before claiming a conversation for a reply, so a refused send changes no ownership.
 */
export const CheckSendV1 = defineRequest({
  subject: 'notifications.check-send.v1',
  service: 'notifications',
  request: SendMessageRequest,
  response: z.object({ ok: z.literal(true), duplicate: z.boolean() }),
  timeoutMs: 2_000,
});

/** Mark an inbound message read (and optionally show the typing indicator). A no-op when disabled in config. */
export const MarkReadV1 = defineRequest({
  subject: 'notifications.mark-read.v1',
  service: 'notifications',
  request: z.object({
    phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, 'phoneNumberId must be digits'),
    waMessageId,
    typing: z.boolean().default(false),
  }),
  response: z.object({ done: z.boolean() }),
  timeoutMs: 2_000,
});

export const TemplateSummary = z.object({
  name: z.string(),
  language: z.string(),
  category: z.string().nullable(),
  /** The BODY text with its {{1}}… placeholders, as Meta stores it (null if not synced with components). */
  body: z.string().nullable(),
  /** Distinct placeholders in the body = the bodyParameters a send must give (null: unknown yet). */
  bodyParameterCount: z.number().int().nullable(),
});
export type TemplateSummary = z.infer<typeof TemplateSummary>;

/**
 * The APPROVED templates a business number can send (the same set SendMessageV1 checks a template send
 * against), ordered by name and language. Answered by notifications' templates module.
 */
export const ListTemplatesV1 = defineRequest({
  subject: 'notifications.list-templates.v1',
  service: 'notifications',
  request: z.object({ phoneNumberId: z.string().trim().regex(/^\d{1,32}$/, 'phoneNumberId must be digits') }),
  response: z.object({ items: z.array(TemplateSummary) }),
  timeoutMs: 2_000,
});

/** Turn zod issues into one message that names each field (`message.body: text must not be empty`). */
export function describeIssues(issues: z.ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'request'}: ${i.message}`)
    .join('; ');
}
