import { z } from 'zod';
import { defineRequest } from '../define';

export const ConversationSummary = z.object({
  id: z.string().uuid(),
  phoneNumberId: z.string(),
  contact: z.object({
    id: z.string().uuid(),
    name: z.string().nullable(),
    waId: z.string().nullable(),
    userId: z.string().nullable(),
    /** Blocked contacts get no replies (the gateway refuses sends) and their messages do not reopen or route. */
    blocked: z.boolean().optional(),
  }),
  status: z.enum(['open', 'resolved']),
  lastMessageAt: z.string(),
  lastInboundAt: z.string().nullable(), // the 24 h customer-service window runs from here
  lastMessageText: z.string().nullable(),
  messageCount: z.number(),
  createdAt: z.string(),
});
export type ConversationSummary = z.infer<typeof ConversationSummary>;

export const MessageView = z.object({
  id: z.string().uuid(),
  conversationId: z.string().uuid(),
  waMessageId: z.string().nullable(),
  direction: z.enum(['inbound', 'outbound']),
  origin: z.string(), // customer | echo | inbox | system
  type: z.string(),
  text: z.string(),
  content: z.unknown(), // the type-specific fields, whole
  status: z.string().nullable(),
  errors: z.array(z.unknown()),
  contextWaMessageId: z.string().nullable(),
  contextMessageId: z.string().uuid().nullable(),
  forwarded: z.boolean(),
  media: z
    .object({ mediaId: z.string(), mimeType: z.string().nullable(), size: z.number().nullable(), sha256: z.string().nullable(), state: z.string(), url: z.string().nullable() })
    .nullable(),
  sentAt: z.string(),
  createdAt: z.string(),
  statusUpdatedAt: z.string().nullable(),
  /** Click-to-WhatsApp ad/post the message came from (`referral` object, whole), when present. */
  referral: z.unknown().optional(),
});
export type MessageView = z.infer<typeof MessageView>;

const page = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/** Newest activity first; opaque cursor. */
export const ListConversationsV1 = defineRequest({
  subject: 'ingest.list-conversations.v1',
  service: 'ingest',
  request: z.object({
    cursor: z.string().nullable().optional(),
    limit: z.number().int().min(1).max(200).default(50),
    phoneNumberId: z.string().optional(),
    ids: z.array(z.string().uuid()).max(500).optional(),
  }),
  response: page(ConversationSummary),
  timeoutMs: 2_000,
});

export const GetConversationV1 = defineRequest({
  subject: 'ingest.get-conversation.v1',
  service: 'ingest',
  request: z.object({ conversationId: z.string().uuid() }),
  response: ConversationSummary,
  timeoutMs: 2_000,
});

/** In order (oldest first), by WhatsApp timestamp then arrival; opaque cursor. */
export const ListMessagesV1 = defineRequest({
  subject: 'ingest.list-messages.v1',
  service: 'ingest',
  request: z.object({
    conversationId: z.string().uuid(),
    cursor: z.string().nullable().optional(),
    limit: z.number().int().min(1).max(500).default(100),
    /** `newest`: pages backwards from the latest message (items newest first); the cursor keeps the order. */
    order: z.enum(['oldest', 'newest']).default('oldest'),
  }),
  response: page(MessageView),
  timeoutMs: 2_000,
});

/** Largest media chunk per request: base64 of it stays well under NATS's default 1 MiB payload. */
export const MEDIA_CHUNK_MAX = 384 * 1024;

/**
 * An agent's attachment (gateway `POST /api/v1/conversations/:id/attachments`) stored in ingest's media store,
 * written in chunks in order (offset 0 first). `uploadId` is derived from the conversation and the request's
 * Idempotency-Key, so a retry writes the same upload; a different file under a used id is CONFLICT. The answer
 * says whether the whole file is stored (then its sha256 was checked). Notifications reads it back with
 * GetUploadChunkV1 to upload it to the Graph API; ingest links it to the outbound message (the timeline's media).
 */
export const PutUploadChunkV1 = defineRequest({
  subject: 'ingest.put-upload-chunk.v1',
  service: 'ingest',
  request: z.object({
    uploadId: z.string().uuid(),
    conversationId: z.string().uuid(),
    mimeType: z.string().min(1).max(200),
    filename: z.string().max(240).nullable(),
    size: z.number().int().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    offset: z.number().int().min(0),
    data: z.string().max(Math.ceil((MEDIA_CHUNK_MAX * 4) / 3) + 4), // base64
  }),
  response: z.object({ stored: z.boolean(), received: z.number().int() }),
  timeoutMs: 2_000,
});

/** A chunk of a stored upload (see PutUploadChunkV1), for notifications' Graph API upload. */
export const GetUploadChunkV1 = defineRequest({
  subject: 'ingest.get-upload-chunk.v1',
  service: 'ingest',
  request: z.object({
    uploadId: z.string().uuid(),
    offset: z.number().int().min(0).default(0),
    length: z.number().int().min(1).max(MEDIA_CHUNK_MAX).default(MEDIA_CHUNK_MAX),
  }),
  response: z.object({
    mimeType: z.string(),
    filename: z.string().nullable(),
    size: z.number().int(),
    offset: z.number().int(),
    data: z.string(), // base64
  }),
  timeoutMs: 2_000,
});

/**
 * A stored media file of a message, read in chunks over the bus (files are up to 100 MB; NATS messages are not).
 * The gateway checks `conversationId` against the caller's permissions before streaming anything.
 */
export const GetMediaChunkV1 = defineRequest({
  subject: 'ingest.get-media-chunk.v1',
  service: 'ingest',
  request: z.object({
    messageId: z.string().uuid(),
    offset: z.number().int().min(0).default(0),
    length: z.number().int().min(1).max(MEDIA_CHUNK_MAX).default(MEDIA_CHUNK_MAX),
  }),
  response: z.object({
    conversationId: z.string().uuid(),
    mimeType: z.string().nullable(),
    size: z.number().int(),
    sha256: z.string().nullable(),
    offset: z.number().int(),
    data: z.string(), // base64
  }),
  timeoutMs: 2_000,
});
