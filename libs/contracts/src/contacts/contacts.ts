import { z } from 'zod';
import { defineRequest } from '../define';
import { ConversationSummary } from '../inbox/inbox.requests';
import { Actor } from '../routing/routing.requests';

/**
 * The contacts API (issue 13, part 2). Ingest owns contacts and answers these; the gateway decides who may call
 * which (roles, scopes) and asks routing which of a contact's conversations the caller may see. Every change is
 * written by ingest with `inbox.directory.changed.v1` (`entityType: contact`) to its outbox, so it joins routing's
 * audit trail; those entries never carry personal data (no names, phone numbers or attribute values).
 */

export const CONTACT_NAME_MAX = 200;
export const CONTACT_LABELS_MAX = 20;
export const CONTACT_LABEL_MAX = 50;
export const CONTACT_ATTRIBUTES_MAX = 50;
export const CONTACT_ATTRIBUTE_KEY = /^[A-Za-z0-9_.-]{1,64}$/;
export const CONTACT_ATTRIBUTE_VALUE_MAX = 1000;
/** Conversation ids carried per contact in a list page (a person has one conversation per business number). */
export const CONTACT_CONVERSATIONS_MAX = 100;

export const ContactView = z.object({
  id: z.string().uuid(),
  /** BSUID (business-scoped user id), the key. */
  userId: z.string().nullable(),
  /** Phone number as WhatsApp reports it; optional and mutable. */
  waId: z.string().nullable(),
  /** The WhatsApp profile name (updated by incoming messages). */
  profileName: z.string().nullable(),
  /** The name people gave the contact (never overwritten by WhatsApp); null = none. */
  name: z.string().nullable(),
  attributes: z.record(z.string()),
  labels: z.array(z.string()),
  blocked: z.boolean(),
  blockedAt: z.string().nullable(),
  erasedAt: z.string().nullable(),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The contact's conversations (all numbers; at most CONTACT_CONVERSATIONS_MAX, newest first). */
  conversationIds: z.array(z.string().uuid()),
});
export type ContactView = z.infer<typeof ContactView>;

const contactId = z.string().uuid();
const page = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

/**
 * Contacts, newest first (opaque cursor); merged contacts (tombstones) are left out. `q` matches name, profile
 * name, wa_id (also as typed digits) or user_id, case-insensitive and literally; `key` is an exact wa_id or user_id.
 */
export const ListContactsV1 = defineRequest({
  subject: 'ingest.list-contacts.v1',
  service: 'ingest',
  request: z.object({
    q: z.string().trim().min(1).max(100).optional(),
    key: z.string().trim().min(1).max(100).optional(),
    label: z.string().trim().min(1).max(CONTACT_LABEL_MAX).optional(),
    blocked: z.boolean().optional(),
    cursor: z.string().max(200).nullable().optional(),
    limit: z.number().int().min(1).max(500).default(50),
  }),
  response: page(ContactView),
  timeoutMs: 5_000,
});

/** One contact with its conversations across numbers. A merged contact answers with its survivor (`redirectedFrom`). */
export const GetContactV1 = defineRequest({
  subject: 'ingest.get-contact.v1',
  service: 'ingest',
  request: z.object({ contactId }),
  response: z.object({
    contact: ContactView,
    redirectedFrom: z.string().uuid().nullable(),
    /** Conversations absorbed by a merge (their messages moved to the survivor's conversation) are left out. */
    conversations: z.array(ConversationSummary),
  }),
  timeoutMs: 2_000,
});

const attributeKey = z.string().regex(CONTACT_ATTRIBUTE_KEY, 'attribute keys are 1–64 of A-Z a-z 0-9 _ . -');

/**
 * Name / attributes / labels / blocked. `attributes` is a patch: a key set to null is removed; the result may hold
 * at most CONTACT_ATTRIBUTES_MAX keys. `labels` replaces the list (the gateway checks them against its catalogue).
 * `version`, when given, must be the current one (else CONFLICT with `details.current`). No-op changes write nothing.
 */
export const UpdateContactV1 = defineRequest({
  subject: 'ingest.update-contact.v1',
  service: 'ingest',
  request: z.object({
    actor: Actor,
    contactId,
    version: z.number().int().min(1).optional(),
    name: z.string().trim().min(1).max(CONTACT_NAME_MAX).nullable().optional(),
    attributes: z
      .record(attributeKey, z.string().max(CONTACT_ATTRIBUTE_VALUE_MAX).nullable())
      .refine((a) => Object.keys(a).length <= CONTACT_ATTRIBUTES_MAX, `at most ${CONTACT_ATTRIBUTES_MAX} attributes`)
      .optional(),
    labels: z.array(z.string().trim().min(1).max(CONTACT_LABEL_MAX)).max(CONTACT_LABELS_MAX).optional(),
    blocked: z.boolean().optional(),
  }),
  response: ContactView,
  timeoutMs: 5_000,
});

/**
 * Two contacts are the same person: `mergedId` becomes a tombstone redirecting to `survivorId`. Its conversations
 * move to the survivor; where both had a conversation on the same number, the merged one's messages move into the
 * survivor's and the emptied conversation is kept as an absorbed skeleton (`absorbedConversationIds`, whose work
 * items the gateway resolves). Idempotent: repeating a done merge changes nothing (`alreadyMerged: true`).
 */
export const MergeContactsV1 = defineRequest({
  subject: 'ingest.merge-contacts.v1',
  service: 'ingest',
  request: z.object({ actor: Actor, survivorId: contactId, mergedId: contactId }).refine((r) => r.survivorId !== r.mergedId, 'a contact cannot be merged into itself'),
  response: z.object({
    contact: ContactView,
    mergedId: z.string().uuid(),
    alreadyMerged: z.boolean(),
    movedConversationIds: z.array(z.string().uuid()),
    absorbedConversationIds: z.array(z.object({ from: z.string().uuid(), into: z.string().uuid() })),
    movedMessages: z.number().int(),
  }),
  timeoutMs: 10_000,
});

/**
 * The WhatsApp ids (wa_id, BSUID) of a contact and of every contact merged into it, and all their conversations
 * (absorbed skeletons included): an erasure uses them first to find copies the gateway keeps (signed webhook
 * bodies, event-webhook deliveries), so a retried erasure still finds them. Never shown to clients.
 */
export const ContactKeysV1 = defineRequest({
  subject: 'ingest.contact-keys.v1',
  service: 'ingest',
  request: z.object({ contactId }),
  response: z.object({ contactId: z.string().uuid(), keys: z.array(z.string()), conversationIds: z.array(z.string().uuid()).default([]) }),
  timeoutMs: 2_000,
});

/**
 * GDPR erasure of a person (the contact and every contact merged into it): message texts, captions and contents
 * redacted, media files deleted from the MediaStore, profile name / name / wa_id / attributes cleared, the BSUID
 * replaced (a later message starts a new contact). Conversations and message skeletons (direction, type, times,
 * statuses) stay for reports. The audit entry says who erased when, with the counts — never the content.
 */
export const EraseContactV1 = defineRequest({
  subject: 'ingest.erase-contact.v1',
  service: 'ingest',
  request: z.object({ actor: Actor, contactId }),
  response: z.object({
    contactId: z.string().uuid(),
    erasedAt: z.string(),
    contacts: z.number().int(),
    conversations: z.number().int(),
    messages: z.number().int(),
    mediaFiles: z.number().int(),
  }),
  timeoutMs: 30_000,
});

/**
 * GDPR erasure, notifications' part: outbound sends to the person (by conversation or by recipient id from
 * ContactKeysV1) lose their Graph body (reply texts, template parameters) and recipient number; a still-queued
 * one fails instead of being sent. Per-number pacing and the contact projection forget the ids. Rows, statuses,
 * attempts and counts stay for reports. Idempotent: a repeat redacts 0.
 */
export const EraseRecipientV1 = defineRequest({
  subject: 'notifications.erase-recipient.v1',
  service: 'notifications',
  request: z.object({ conversationIds: z.array(z.string().uuid()), recipients: z.array(z.string()) }),
  response: z.object({ outboundSends: z.number().int(), contactRefs: z.number().int() }),
  timeoutMs: 10_000,
});

/**
 * GDPR erasure, routing's part: internal note bodies on the person's conversations and the route context (opening
 * message text, contact attributes) are cleared; notes keep author, time and mentions. Routing's audit trail is not
 * touched (it never holds note bodies). Idempotent: a repeat clears 0.
 */
export const EraseConversationContentV1 = defineRequest({
  subject: 'routing.erase-conversation-content.v1',
  service: 'routing',
  request: z.object({ conversationIds: z.array(z.string().uuid()) }),
  response: z.object({ notes: z.number().int(), routeContexts: z.number().int() }),
  timeoutMs: 10_000,
});
