import { z } from 'zod';
import { defineEvent, eventBase } from '../define';

/**
 * Notices to people (the in-app notification centre). Any service asks for one by writing
 * `inbox.notice.requested.v1` to its outbox; the gateway (which owns users and teams) resolves the
 * audience, stores one row per recipient (idempotent by event id + user) and pushes it over the WebSocket.
 */
export const NOTICE_KINDS = [
  'assigned', // a conversation was given to you (by a person or the routing rules)
  'unassigned', // a conversation was taken from you (reassigned by the system, taken over, handed off)
  'mention', // you were @mentioned in a note
  'reminder', // a reminder you (or a rule) set fired
  'snooze.woke', // a snoozed conversation of yours is open again
  'sla.warning', // an SLA target of a conversation is at its warning point
  'sla.breach', // an SLA target was breached
  'window.closing', // the 24-hour customer-service window closes soon while the customer waits
  'queue', // something about a team's queue (e.g. a conversation returned to it)
  'system', // anything else
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export const NoticeRequestedV1 = defineEvent({
  subject: 'inbox.notice.requested.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    kind: z.enum(NOTICE_KINDS),
    /** Who gets it: these users, plus the managers of `teamManagersOf` (resolved by the gateway). */
    audience: z.object({
      userIds: z.array(z.string().uuid()).max(500).default([]),
      teamManagersOf: z.string().uuid().nullable().default(null),
    }),
    conversationId: z.string().uuid().nullable(),
    title: z.string().min(1).max(200),
    body: z.string().max(2000).nullable().default(null),
    /** Small machine-readable extras (e.g. { target: 'firstResponse', dueAt }). Never secrets. */
    data: z.record(z.unknown()).nullable().default(null),
    /** The service that asked (for the list and for debugging). */
    source: z.string().max(40),
  }),
});

export const NoticeView = z.object({
  id: z.string().uuid(),
  kind: z.enum(NOTICE_KINDS),
  conversationId: z.string().uuid().nullable(),
  title: z.string(),
  body: z.string().nullable(),
  data: z.record(z.unknown()).nullable(),
  source: z.string(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
export type NoticeView = z.infer<typeof NoticeView>;
