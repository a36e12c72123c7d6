import { z } from 'zod';
import { defineRequest } from '../define';

/**
 * The work state of a conversation (owner, team, status, …), owned by routing. Every change carries the
 * `version` the client saw; a stale one is refused with CONFLICT and `details.current` = the state now.
 * The gateway passes the acting user with each request; routing enforces who may see and do what
 * (a conversation the actor may not see answers NOT_FOUND, never its data).
 */

export const ROLES = ['admin', 'manager', 'agent', 'viewer'] as const;
export const WORK_STATUSES = ['open', 'pending', 'snoozed', 'resolved'] as const;
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;

export const Actor = z.object({
  /** `bot`: an integrator's API key with the `bot` scope, which may hold conversations (see bot.ts). */
  type: z.enum(['user', 'api_key', 'bot', 'system']),
  id: z.string().min(1).max(100),
  name: z.string().max(200).nullable(),
  role: z.enum(ROLES),
  teamIds: z.array(z.string().uuid()).max(500),
});
export type Actor = z.infer<typeof Actor>;

/** A user named as the target of an assignment or handoff, resolved by the gateway (which owns users). */
export const UserRef = z.object({
  id: z.string().uuid(),
  role: z.enum(ROLES),
  teamIds: z.array(z.string().uuid()).max(500),
});
export type UserRef = z.infer<typeof UserRef>;

export const WorkState = z.object({
  conversationId: z.string().uuid(),
  phoneNumberId: z.string(),
  contactId: z.string().uuid(),
  teamId: z.string().uuid().nullable(),
  ownerId: z.string().uuid().nullable(),
  status: z.enum(WORK_STATUSES),
  snoozeUntil: z.string().nullable(),
  priority: z.enum(PRIORITIES),
  labels: z.array(z.string()),
  version: z.number().int(),
  openedAt: z.string(),
  lastMessageAt: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  updatedAt: z.string(),
  /** The bot holding the conversation (routing and SLA wait; only it replies); null or absent (older events) = none. */
  bot: z.object({ id: z.string(), name: z.string().nullable(), since: z.string() }).nullable().optional(),
});
export type WorkState = z.infer<typeof WorkState>;

export const NoteView = z.object({
  id: z.string().uuid(),
  conversationId: z.string().uuid(),
  author: z.object({ type: z.string(), id: z.string(), name: z.string().nullable() }),
  body: z.string(),
  mentions: z.array(z.string().uuid()),
  createdAt: z.string(),
});
export type NoteView = z.infer<typeof NoteView>;

export const AuditEntryView = z.object({
  id: z.string().uuid(),
  seq: z.string(),
  conversationId: z.string().uuid().nullable(),
  teamId: z.string().uuid().nullable(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  action: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  note: z.string().nullable(),
  requestId: z.string().nullable(),
  createdAt: z.string(),
});
export type AuditEntryView = z.infer<typeof AuditEntryView>;

const base = { actor: Actor, conversationId: z.string().uuid() };
const versioned = { ...base, version: z.number().int().min(1) };
const label = z.string().trim().min(1).max(50);
const page = <T extends z.ZodTypeAny>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const GetWorkV1 = defineRequest({
  subject: 'routing.get-work.v1',
  service: 'routing',
  request: z.object(base),
  response: WorkState,
  timeoutMs: 2_000,
});

export const LIST_VIEWS = ['mine', 'unassigned', 'team', 'all'] as const;
/** Conversations the actor may see, newest activity first. */
export const ListWorkV1 = defineRequest({
  subject: 'routing.list-work.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    view: z.enum(LIST_VIEWS).default('all'),
    status: z.enum(WORK_STATUSES).optional(),
    teamId: z.string().uuid().optional(),
    assigneeId: z.string().uuid().optional(),
    label: label.optional(),
    phoneNumberId: z.string().max(64).optional(),
    /** Only these conversations (e.g. the matches of a search in ingest); an empty list matches nothing. */
    ids: z.array(z.string().uuid()).max(500).optional(),
    cursor: z.string().max(200).nullable().optional(),
    limit: z.number().int().min(1).max(200).default(50),
  }),
  response: page(WorkState),
  timeoutMs: 2_000,
});

/** Take an unassigned conversation. Exactly one of any number of simultaneous claimers wins. */
export const ClaimV1 = defineRequest({
  subject: 'routing.claim.v1',
  service: 'routing',
  request: z.object(versioned),
  response: WorkState,
  timeoutMs: 2_000,
});

/** Manager/admin: set the team and/or the owner. */
export const AssignV1 = defineRequest({
  subject: 'routing.assign.v1',
  service: 'routing',
  request: z
    .object({ ...versioned, assignee: UserRef.nullable().optional(), teamId: z.string().uuid().nullable().optional() })
    .refine((r) => r.assignee !== undefined || r.teamId !== undefined, 'assigneeId or teamId is required'),
  response: WorkState,
  timeoutMs: 2_000,
});

/** Transfer to a person or a team with a required note. */
export const HandoffV1 = defineRequest({
  subject: 'routing.handoff.v1',
  service: 'routing',
  request: z
    .object({
      ...versioned,
      toUser: UserRef.optional(),
      toTeamId: z.string().uuid().optional(),
      note: z.string().trim().min(1).max(4000),
    })
    .refine((r) => r.toUser !== undefined || r.toTeamId !== undefined, 'toUserId or toTeamId is required'),
  response: WorkState,
  timeoutMs: 2_000,
});

export const SetStatusV1 = defineRequest({
  subject: 'routing.set-status.v1',
  service: 'routing',
  request: z.object({ ...versioned, status: z.enum(WORK_STATUSES), snoozeUntil: z.string().datetime({ offset: true }).optional() }),
  response: WorkState,
  timeoutMs: 2_000,
});

/** Manager/admin: become the owner whoever owns it now; the previous owner is told (assigned event). */
export const TakeoverV1 = defineRequest({
  subject: 'routing.takeover.v1',
  service: 'routing',
  request: z.object(versioned),
  response: WorkState,
  timeoutMs: 2_000,
});

export const SetLabelsV1 = defineRequest({
  subject: 'routing.set-labels.v1',
  service: 'routing',
  request: z.object({ ...versioned, labels: z.array(label).max(20) }),
  response: WorkState,
  timeoutMs: 2_000,
});

export const SetPriorityV1 = defineRequest({
  subject: 'routing.set-priority.v1',
  service: 'routing',
  request: z.object({ ...versioned, priority: z.enum(PRIORITIES) }),
  response: WorkState,
  timeoutMs: 2_000,
});

/** Internal note (never sent to the customer). Does not change the version; a given version is checked. */
export const AddNoteV1 = defineRequest({
  subject: 'routing.add-note.v1',
  service: 'routing',
  request: z.object({
    ...base,
    version: z.number().int().min(1).optional(),
    body: z.string().trim().min(1).max(4000),
    mentions: z.array(z.string().uuid()).max(50).default([]),
  }),
  response: NoteView,
  timeoutMs: 2_000,
});

/**
 * Before a free-form reply: the actor must be the owner. An unassigned conversation is claimed atomically
 * first; one owned by someone else is refused with CONFLICT and `details.ownerId`.
 */
export const PrepareReplyV1 = defineRequest({
  subject: 'routing.prepare-reply.v1',
  service: 'routing',
  request: z.object({ ...base, version: z.number().int().min(1).optional() }),
  response: z.object({ state: WorkState, claimed: z.boolean() }),
  timeoutMs: 2_000,
});

/** Notes and audit events of one conversation, oldest first. */
export const GetActivityV1 = defineRequest({
  subject: 'routing.get-activity.v1',
  service: 'routing',
  request: z.object({ ...base, limit: z.number().int().min(1).max(2000).default(500) }),
  response: z.object({ notes: z.array(NoteView), events: z.array(AuditEntryView) }),
  timeoutMs: 2_000,
});

/** The audit trail, newest first, limited to what the actor may see (managers: their teams). */
export const ListAuditV1 = defineRequest({
  subject: 'routing.list-audit.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    conversationId: z.string().uuid().optional(),
    actorId: z.string().max(100).optional(),
    action: z.string().max(100).optional(),
    from: z.string().datetime({ offset: true }).optional(),
    to: z.string().datetime({ offset: true }).optional(),
    cursor: z.string().max(100).nullable().optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  response: page(AuditEntryView),
  timeoutMs: 2_000,
});

/** Admin: the team whose queue new conversations on a business number land in (null = unassigned queue). */
export const SetNumberTeamV1 = defineRequest({
  subject: 'routing.set-number-team.v1',
  service: 'routing',
  request: z.object({ actor: Actor, phoneNumberId: z.string().trim().min(1).max(64), teamId: z.string().uuid().nullable() }),
  response: z.object({ phoneNumberId: z.string(), teamId: z.string().uuid().nullable() }),
  timeoutMs: 2_000,
});

/**
 * System (sla escalations, automation): put a conversation back in its team's queue, without an owner, so the
 * routing strategy picks again. Not versioned (the caller acts on a timer, not on a view); audited with `reason`.
 */
export const RequeueV1 = defineRequest({
  subject: 'routing.requeue.v1',
  service: 'routing',
  request: z.object({ ...base, reason: z.string().trim().min(1).max(200) }),
  response: WorkState,
  timeoutMs: 2_000,
});
