import { z } from 'zod';
import { defineRequest } from '../define';

/** Template statuses Meta reports (REFERENCE §2.2); the admin screen filters on them. */
export const TEMPLATE_STATUSES = [
  'APPROVED',
  'PENDING',
  'REJECTED',
  'PAUSED',
  'DISABLED',
  'IN_APPEAL',
  'PENDING_DELETION',
  'DELETED',
  'ARCHIVED',
  'LIMIT_EXCEEDED',
] as const;
export type TemplateStatus = (typeof TEMPLATE_STATUSES)[number];

const wabaId = z.string().regex(/^\d{1,32}$/, 'wabaId must be digits');

/** One stored template of a WABA, whatever its status, as last synced from the Graph API (or changed by a status webhook). */
export const StoredTemplate = z.object({
  wabaId: z.string(),
  /** Meta's template id (null if Meta did not give one). */
  templateId: z.string().nullable(),
  name: z.string(),
  language: z.string(),
  status: z.string(),
  category: z.string().nullable(),
  /** HEADER / BODY / FOOTER / BUTTONS as Meta stores them. */
  components: z.unknown(),
  /** The BODY text with its {{1}}… placeholders (null: no body synced). */
  body: z.string().nullable(),
  bodyParameterCount: z.number().int().nullable(),
  /** When the Graph API last listed it. */
  syncedAt: z.string().nullable(),
  /** Last change (sync or status webhook). */
  updatedAt: z.string(),
});
export type StoredTemplate = z.infer<typeof StoredTemplate>;

/**
 * Admin screen: every stored template of the given WABAs (all of them when `wabaIds` is absent), any status unless
 * `status` is given, ordered by WABA, name, language. Answered by notifications' templates module.
 */
export const ListStoredTemplatesV1 = defineRequest({
  subject: 'notifications.list-stored-templates.v1',
  service: 'notifications',
  request: z.object({ wabaIds: z.array(wabaId).max(500).optional(), status: z.enum(TEMPLATE_STATUSES).optional() }),
  response: z.object({
    items: z.array(StoredTemplate),
    /** The WABAs notifications syncs (WHATSAPP_WABA_IDS). */
    syncedWabaIds: z.array(z.string()),
    /** When the last successful sync finished (null: none since this replica started and nothing stored). */
    lastSyncedAt: z.string().nullable(),
  }),
  timeoutMs: 3_000,
});

/**
 * Sync now: fetch every configured WABA's templates from the Graph API and store them. Answers the count stored and
 * the WABAs that failed (Meta's error or why it was unreachable); UNAVAILABLE (503) when no WABA could be synced
 * (the Graph API is down, or refused every one), naming each WABA and the reason.
 * The timeout covers a few pages of Graph calls (each bounded by GRAPH_API_TIMEOUT_MS).
 */
export const SyncTemplatesV1 = defineRequest({
  subject: 'notifications.sync-templates.v1',
  service: 'notifications',
  request: z.object({}),
  response: z.object({
    synced: z.number().int(),
    wabaIds: z.array(z.string()),
    failures: z.array(z.object({ wabaId: z.string(), reason: z.string() })),
    syncedAt: z.string(),
  }),
  timeoutMs: 25_000,
});
