import { z } from 'zod';
import { defineEvent, defineRequest, eventBase } from '../define';
import { Actor, PRIORITIES } from '../routing/routing.requests';

/**
 * SLA (issue 7), owned by the sla service: policies per team (+ optional priority), business-hours calendars,
 * per-conversation clocks, the 24-hour window, reminders and follow-up rules. The gateway passes the acting
 * user; sla lets admins change everything and managers only their own teams' policies and rules.
 */
export const CLOCK_TARGETS = ['firstResponse', 'nextResponse', 'resolution'] as const;
export type ClockTarget = (typeof CLOCK_TARGETS)[number];
export const CLOCK_STATES = ['ok', 'warning', 'breached', 'met'] as const;
export const BREACH_ACTIONS = ['none', 'raise-priority', 'requeue'] as const;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const uuid = z.string().uuid();
const minutes = z.number().int().positive('must be a positive number of minutes').max(366 * 24 * 60);
const hhmm = z.string().regex(/^(([01]\d|2[0-3]):[0-5]\d|24:00)$/, 'must be HH:MM (00:00–24:00)');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

// ------------------------------------------------------------------ policies

export const SlaPolicyInput = z.object({
  name: z.string().trim().min(1).max(100),
  teamId: uuid,
  priority: z.enum(PRIORITIES).nullable().optional(),
  firstResponseMinutes: minutes,
  nextResponseMinutes: minutes.nullable().optional(),
  resolutionMinutes: minutes.nullable().optional(),
  /** No calendar = around the clock. */
  businessHoursId: uuid.nullable().optional(),
  /** The warning point, as a share of the target (default 80 %). */
  warnAtPercent: z.number().int().min(1).max(99).optional(),
  /** What happens at a breach besides telling the team's managers. */
  onBreach: z.enum(BREACH_ACTIONS).optional(),
  /** With onBreach = raise-priority (default urgent). */
  raiseTo: z.enum(PRIORITIES).optional(),
  /** The owner is warned this long before the 24-hour window closes while the customer waits (default 120). */
  windowWarningMinutes: z.number().int().min(1).max(23 * 60).optional(),
});
export type SlaPolicyInput = z.infer<typeof SlaPolicyInput>;

export const SlaPolicyView = z.object({
  id: uuid,
  name: z.string(),
  teamId: uuid,
  priority: z.enum(PRIORITIES).nullable(),
  firstResponseMinutes: z.number(),
  nextResponseMinutes: z.number().nullable(),
  resolutionMinutes: z.number().nullable(),
  businessHoursId: uuid.nullable(),
  warnAtPercent: z.number(),
  onBreach: z.enum(BREACH_ACTIONS),
  raiseTo: z.enum(PRIORITIES),
  windowWarningMinutes: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type SlaPolicyView = z.infer<typeof SlaPolicyView>;

// ------------------------------------------------------------------ business hours

export const BusinessHoursInput = z.object({
  name: z.string().trim().min(1).max(100),
  /** IANA time zone, e.g. Europe/Berlin. */
  timeZone: z.string().trim().min(1).max(64),
  weekly: z.array(z.object({ day: z.enum(WEEKDAYS), open: hhmm, close: hhmm })).min(1, 'weekly needs at least one interval').max(70),
  holidays: z.array(z.object({ date: isoDate, name: z.string().max(100).optional() })).max(500).default([]),
});
export type BusinessHoursInput = z.infer<typeof BusinessHoursInput>;
export const BusinessHoursView = BusinessHoursInput.extend({ id: uuid, createdAt: z.string(), updatedAt: z.string() });
export type BusinessHoursView = z.infer<typeof BusinessHoursView>;

// ------------------------------------------------------------------ follow-up rules and reminders

export const FOLLOW_UP_ACTIONS = ['remind-owner', 'send-template'] as const;
export const FollowUpRuleInput = z
  .object({
    teamId: uuid,
    /** Pending with no customer reply for this long → act. */
    afterMinutes: minutes,
    action: z.enum(FOLLOW_UP_ACTIONS),
    /** For send-template: an approved template (name, language, body parameters). */
    template: z
      .object({ name: z.string().min(1).max(512), language: z.string().min(2).max(15), bodyParameters: z.array(z.string().max(1000)).max(20).default([]) })
      .optional(),
    /** At most this many automatic follow-ups per pending period. */
    maxTimes: z.number().int().min(1).max(20).default(1),
  })
  .refine((r) => r.action !== 'send-template' || r.template !== undefined, { message: 'send-template needs template', path: ['template'] });
export const FollowUpRuleView = z.object({
  id: uuid,
  teamId: uuid,
  afterMinutes: z.number(),
  action: z.enum(FOLLOW_UP_ACTIONS),
  template: z.object({ name: z.string(), language: z.string(), bodyParameters: z.array(z.string()) }).nullable(),
  maxTimes: z.number(),
  createdAt: z.string(),
});
export type FollowUpRuleView = z.infer<typeof FollowUpRuleView>;

export const ReminderView = z.object({
  id: uuid,
  conversationId: uuid,
  userId: z.string(),
  at: z.string(),
  note: z.string().nullable(),
  state: z.enum(['pending', 'fired', 'cancelled']),
  firedAt: z.string().nullable(),
  cancelledReason: z.string().nullable(),
  createdAt: z.string(),
  /** Only on the answer to a `nextDayAt` reminder: the time zone it was resolved in ('UTC' when the team has no hours). */
  timeZone: z.string().optional(),
  /** True on someone else's reminder listed to an admin or the team's manager: time and state only, the note is its owner's. */
  noteHidden: z.boolean().optional(),
});
export type ReminderView = z.infer<typeof ReminderView>;

// ------------------------------------------------------------------ clocks on a conversation

export const ClockView = z.object({
  startedAt: z.string(),
  dueAt: z.string().nullable(), // null while paused
  warnAt: z.string().nullable(),
  state: z.enum(CLOCK_STATES),
  paused: z.boolean(),
  pausedMs: z.number(),
  warnedAt: z.string().nullable(),
  breachedAt: z.string().nullable(),
  metAt: z.string().nullable(),
  policyId: uuid.nullable(),
});
export type ClockView = z.infer<typeof ClockView>;

export const ConversationSlaView = z.object({
  conversationId: uuid,
  sla: z.object({ firstResponse: ClockView.nullable(), nextResponse: ClockView.nullable(), resolution: ClockView.nullable() }),
  window: z.object({ closesAt: z.string().nullable(), open: z.boolean() }),
  /** What the system did (warnings, breaches, escalation actions, follow-ups), oldest first. */
  escalations: z.array(z.object({ at: z.string(), target: z.string(), level: z.string(), actions: z.array(z.string()), late: z.boolean() })),
});
export type ConversationSlaView = z.infer<typeof ConversationSlaView>;

// ------------------------------------------------------------------ requests

const admin = { actor: Actor };
const byId = z.object({ ...admin, id: uuid });
const deleted = z.object({ deleted: z.literal(true) });

export const CreateSlaPolicyV1 = defineRequest({ subject: 'sla.create-policy.v1', service: 'sla', request: z.object({ ...admin, policy: SlaPolicyInput }), response: SlaPolicyView, timeoutMs: 2_000 });
export const ListSlaPoliciesV1 = defineRequest({
  subject: 'sla.list-policies.v1',
  service: 'sla',
  request: z.object({ ...admin, teamId: uuid.optional() }),
  response: z.object({ items: z.array(SlaPolicyView) }),
  timeoutMs: 2_000,
});
export const UpdateSlaPolicyV1 = defineRequest({
  subject: 'sla.update-policy.v1',
  service: 'sla',
  request: z.object({ ...admin, id: uuid, patch: SlaPolicyInput.partial() }),
  response: SlaPolicyView,
  timeoutMs: 2_000,
});
export const DeleteSlaPolicyV1 = defineRequest({ subject: 'sla.delete-policy.v1', service: 'sla', request: byId, response: deleted, timeoutMs: 2_000 });

export const CreateBusinessHoursV1 = defineRequest({
  subject: 'sla.create-business-hours.v1',
  service: 'sla',
  request: z.object({ ...admin, hours: BusinessHoursInput }),
  response: BusinessHoursView,
  timeoutMs: 2_000,
});
export const ListBusinessHoursV1 = defineRequest({
  subject: 'sla.list-business-hours.v1',
  service: 'sla',
  request: z.object(admin),
  response: z.object({ items: z.array(BusinessHoursView) }),
  timeoutMs: 2_000,
});
export const UpdateBusinessHoursV1 = defineRequest({
  subject: 'sla.update-business-hours.v1',
  service: 'sla',
  request: z.object({ ...admin, id: uuid, hours: BusinessHoursInput }),
  response: BusinessHoursView,
  timeoutMs: 2_000,
});
export const DeleteBusinessHoursV1 = defineRequest({ subject: 'sla.delete-business-hours.v1', service: 'sla', request: byId, response: deleted, timeoutMs: 2_000 });

export const CreateFollowUpRuleV1 = defineRequest({
  subject: 'sla.create-follow-up-rule.v1',
  service: 'sla',
  request: z.object({ ...admin, rule: FollowUpRuleInput }),
  response: FollowUpRuleView,
  timeoutMs: 2_000,
});
export const ListFollowUpRulesV1 = defineRequest({
  subject: 'sla.list-follow-up-rules.v1',
  service: 'sla',
  request: z.object({ ...admin, teamId: uuid.optional() }),
  response: z.object({ items: z.array(FollowUpRuleView) }),
  timeoutMs: 2_000,
});
export const DeleteFollowUpRuleV1 = defineRequest({ subject: 'sla.delete-follow-up-rule.v1', service: 'sla', request: byId, response: deleted, timeoutMs: 2_000 });

/** The gateway has already checked (with routing) that the actor may see the conversation. */
export const CreateReminderV1 = defineRequest({
  subject: 'sla.create-reminder.v1',
  service: 'sla',
  request: z
    .object({
      ...admin,
      conversationId: uuid,
      at: z.string().datetime({ offset: true }).optional(),
      /** Or: the next calendar day at this wall time in the team's business-hours time zone (none: UTC). */
      nextDayAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'nextDayAt: a time HH:MM (00:00–23:59)').optional(),
      /** The conversation's team as routing has it (the gateway read it); absent: the team sla's projection knows. */
      teamId: uuid.nullable().optional(),
      note: z.string().max(500).nullable(),
    })
    .refine((r) => (r.at === undefined) !== (r.nextDayAt === undefined), { message: 'exactly one of at or nextDayAt is required' }),
  response: ReminderView,
  timeoutMs: 2_000,
});
/**
 * Reminders are personal: the actor's own, with their notes. Admins and managers of the conversation's team also
 * get everyone else's (time and state, `note: null, noteHidden: true`); anyone else only their own.
 */
export const ListRemindersV1 = defineRequest({
  subject: 'sla.list-reminders.v1',
  service: 'sla',
  /** teamId: the conversation's team as routing has it (the gateway read it); absent: the team sla's projection knows. */
  request: z.object({ ...admin, conversationId: uuid, teamId: uuid.nullable().optional() }),
  response: z.object({ items: z.array(ReminderView) }),
  timeoutMs: 2_000,
});
export const CancelReminderV1 = defineRequest({
  subject: 'sla.cancel-reminder.v1',
  service: 'sla',
  request: z.object({ ...admin, conversationId: uuid, id: uuid }),
  response: ReminderView,
  timeoutMs: 2_000,
});

/** Clocks and window of conversations (unknown ones come back with empty clocks and a closed window). */
export const GetConversationSlaV1 = defineRequest({
  subject: 'sla.get-conversation-sla.v1',
  service: 'sla',
  request: z.object({ conversationIds: z.array(uuid).min(1).max(200) }),
  response: z.object({ items: z.array(ConversationSlaView) }),
  timeoutMs: 2_000,
});

export const SLA_SORTS = ['due-soonest', 'at-risk', 'breached'] as const;
/**
 * Conversation ids ordered by SLA: `due-soonest` = running clocks by nearest due time; `at-risk` = clocks in
 * warning (nearest due first); `breached` = breached and not yet met (oldest breach first). The gateway passes
 * them as `ids` to routing's list, which keeps those the caller may see.
 */
export const RankBySlaV1 = defineRequest({
  subject: 'sla.rank-by-sla.v1',
  service: 'sla',
  request: z.object({ sort: z.enum(SLA_SORTS), limit: z.number().int().min(1).max(500).default(500) }),
  response: z.object({ ids: z.array(uuid) }),
  timeoutMs: 2_000,
});

// ------------------------------------------------------------------ events

/**
 * What sla did about a conversation (warning, breach, window closing, follow-up): routing appends it to the
 * audit trail (actor = system `sla`), so a manager reads when each target was due and what happened.
 */
export const SlaEscalatedV1 = defineEvent({
  subject: 'inbox.sla.escalated.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    conversationId: uuid,
    teamId: uuid.nullable(),
    /** firstResponse | nextResponse | resolution | window | followUp */
    target: z.string().max(40),
    /** warning | breach | window.closing | follow-up */
    level: z.string().max(40),
    dueAt: z.string().nullable(),
    /** e.g. notify-owner, notify-managers, raise-priority:urgent, requeue, send-template:x, remind-owner */
    actions: z.array(z.string().max(100)).max(10),
    /** The timer fired later than its due time (the service was down or behind). */
    late: z.boolean(),
  }),
});

/** The system actor sla uses for routing requests (escalations, follow-ups). */
export const SLA_ACTOR = { type: 'system' as const, id: 'sla', name: 'SLA', role: 'admin' as const, teamIds: [] as string[] };
