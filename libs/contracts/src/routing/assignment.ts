import { z } from 'zod';
import { defineRequest } from '../define';
import { Actor, PRIORITIES, ROLES } from './routing.requests';

/**
 * Automatic assignment, owned by routing: agent availability and capacity, team strategies, ordered rules and
 * the team queues. The gateway (which owns users and teams) checks that named teams and people exist and passes
 * the acting user; routing enforces who may change what (admins everything, managers their teams).
 */

export const AGENT_STATUSES = ['online', 'away', 'offline'] as const;
export type AgentStatus = (typeof AGENT_STATUSES)[number];
export const STRATEGIES = ['round_robin', 'least_loaded', 'sticky', 'manual'] as const;
export type Strategy = (typeof STRATEGIES)[number];
/** What happens to an owner's open conversations when the owner goes offline. */
export const ON_OWNER_OFFLINE = ['keep', 'queue', 'reassign'] as const;

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'time must be HH:MM (00:00–23:59)');
const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, 'unknown time zone');
const word = z.string().trim().min(1).max(100);
const label = z.string().trim().min(1).max(50);

/** Every given condition must hold (AND); within a list, any entry matches (OR). No conditions = every conversation. */
export const RuleConditions = z
  .object({
    /** The business number (Meta's phone_number_id) the customer wrote to. */
    phoneNumberIds: z.array(z.string().trim().min(1).max(64)).min(1).max(100).optional(),
    /** new = first conversation with the business; returning = had one before (or this one was reopened). */
    contact: z.enum(['new', 'returning']).optional(),
    /** The contact carries any of these labels. */
    contactLabels: z.array(label).min(1).max(20).optional(),
    /** The contact's attributes equal all of these (case-insensitive). */
    contactAttributes: z.record(z.string().min(1).max(64), z.string().max(200)).optional(),
    /** The first message contains any of these words or phrases (case-insensitive, whole words). */
    keywords: z.array(word).min(1).max(100).optional(),
    /**
     * The language, e.g. "de" ("de" also matches "de-AT"): the opening message's, as ingest detected it, else (too
     * short or unclear to tell) the contact's `language` attribute; neither known = no match.
     */
    languages: z.array(z.string().trim().min(2).max(10)).min(1).max(20).optional(),
    /** The first message's type (text, image, audio, …). */
    messageTypes: z.array(z.string().trim().min(1).max(30)).min(1).max(20).optional(),
    /** true: came through an ad or post (a referral); false: did not. */
    referral: z.boolean().optional(),
    /** The referral's source id (e.g. the ad id). */
    referralSourceIds: z.array(z.string().trim().min(1).max(100)).min(1).max(100).optional(),
    /** Local time of day in a time zone; `from` > `to` spans midnight; days 0 = Sunday. */
    timeOfDay: z
      .object({ from: HHMM, to: HHMM, timeZone, days: z.array(z.number().int().min(0).max(6)).min(1).max(7).optional() })
      .strict()
      .optional(),
    /** Business hours (asked of sla): of this calendar, or of this team, or of the rule's target team. */
    businessHours: z
      .object({ state: z.enum(['open', 'closed']), businessHoursId: z.string().uuid().optional(), teamId: z.string().uuid().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type RuleConditions = z.infer<typeof RuleConditions>;

export const RuleActions = z
  .object({
    teamId: z.string().uuid().optional(),
    priority: z.enum(PRIORITIES).optional(),
    labels: z.array(label).min(1).max(20).optional(),
    /** Give it to this person (when online and under capacity; else the team's queue). */
    assigneeId: z.string().uuid().optional(),
    /** Only agents with every one of these skills receive it. */
    skills: z.array(label).min(1).max(10).optional(),
  })
  .strict()
  .refine((a) => Object.keys(a).length > 0, 'a rule needs at least one action (teamId, priority, labels, assigneeId, skills)');
export type RuleActions = z.infer<typeof RuleActions>;

export const RuleView = z.object({
  id: z.string().uuid(),
  name: z.string(),
  position: z.number().int(),
  enabled: z.boolean(),
  conditions: RuleConditions,
  actions: z.record(z.unknown()),
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Times the rule failed at run time (skipped, the conversation went on without it) and the last reason. */
  errorCount: z.number().int(),
  lastError: z.string().nullable(),
});
export type RuleView = z.infer<typeof RuleView>;

const ruleName = z.string().trim().min(1).max(120);

export const ListRulesV1 = defineRequest({
  subject: 'routing.list-rules.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: z.object({ items: z.array(RuleView) }),
  timeoutMs: 2_000,
});

export const CreateRuleV1 = defineRequest({
  subject: 'routing.create-rule.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    name: ruleName,
    /** 1-based; default: last. */
    position: z.number().int().min(1).optional(),
    enabled: z.boolean().default(true),
    conditions: RuleConditions,
    actions: RuleActions,
  }),
  response: RuleView,
  timeoutMs: 2_000,
});

export const UpdateRuleV1 = defineRequest({
  subject: 'routing.update-rule.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    ruleId: z.string().uuid(),
    name: ruleName.optional(),
    position: z.number().int().min(1).optional(),
    enabled: z.boolean().optional(),
    conditions: RuleConditions.optional(),
    actions: RuleActions.optional(),
  }),
  response: RuleView,
  timeoutMs: 2_000,
});

export const DeleteRuleV1 = defineRequest({
  subject: 'routing.delete-rule.v1',
  service: 'routing',
  request: z.object({ actor: Actor, ruleId: z.string().uuid() }),
  response: z.object({ deleted: z.boolean() }),
  timeoutMs: 2_000,
});

/** The given rules take, in this order, the positions they hold now (a manager reorders the rules of their teams). */
export const ReorderRulesV1 = defineRequest({
  subject: 'routing.reorder-rules.v1',
  service: 'routing',
  request: z.object({ actor: Actor, ids: z.array(z.string().uuid()).min(1).max(500) }),
  response: z.object({ items: z.array(RuleView) }),
  timeoutMs: 2_000,
});

/** Why a conversation goes (or went) where it does: the matching rule, and whom the strategy would pick now. */
export const RouteExplanation = z.object({
  rule: z.object({ id: z.string().uuid(), name: z.string() }).nullable(),
  /** Rules that could not be evaluated (e.g. business hours while sla is down), skipped. */
  skipped: z.array(z.object({ ruleId: z.string().uuid(), name: z.string(), reason: z.string() })),
  teamId: z.string().uuid().nullable(),
  priority: z.enum(PRIORITIES).nullable(),
  labels: z.array(z.string()),
  skills: z.array(z.string()),
  strategy: z.enum(STRATEGIES),
  agentId: z.string().uuid().nullable(),
  /** One sentence: "rule X → team Sales; round_robin picked …" or why it would wait in the queue. */
  reason: z.string(),
});
export type RouteExplanation = z.infer<typeof RouteExplanation>;

export const DryRunRulesV1 = defineRequest({
  subject: 'routing.dry-run-rules.v1',
  service: 'routing',
  request: z.object({ actor: Actor, conversationId: z.string().uuid(), at: z.string().datetime({ offset: true }).optional() }),
  response: RouteExplanation,
  timeoutMs: 4_000,
});

export const TeamRouting = z.object({
  teamId: z.string().uuid(),
  strategy: z.enum(STRATEGIES),
  /** sticky: back to the customer's previous owner if that owner had them within this many days. */
  stickyDays: z.number().int(),
  /** Each agent's maximum of open conversations while receiving work of this team (null = no limit). */
  maxOpenPerAgent: z.number().int().nullable(),
  /** The team's maximum of open, owned conversations at once (null = no limit). */
  maxOpenTeam: z.number().int().nullable(),
  /** Reassign when the owner has not answered a waiting customer within this many minutes (null = never). */
  reassignUnansweredMinutes: z.number().int().nullable(),
  onOwnerOffline: z.enum(ON_OWNER_OFFLINE),
  updatedAt: z.string().nullable(),
});
export type TeamRouting = z.infer<typeof TeamRouting>;

export const GetTeamRoutingV1 = defineRequest({
  subject: 'routing.get-team-routing.v1',
  service: 'routing',
  request: z.object({ actor: Actor, teamId: z.string().uuid() }),
  response: TeamRouting,
  timeoutMs: 2_000,
});

export const SetTeamRoutingV1 = defineRequest({
  subject: 'routing.set-team-routing.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    teamId: z.string().uuid(),
    strategy: z.enum(STRATEGIES),
    stickyDays: z.number().int().min(1).max(365).default(30),
    maxOpenPerAgent: z.number().int().min(1).max(1000).nullable().default(null),
    maxOpenTeam: z.number().int().min(1).max(100_000).nullable().default(null),
    reassignUnansweredMinutes: z.number().int().min(1).max(10_080).nullable().default(null),
    onOwnerOffline: z.enum(ON_OWNER_OFFLINE).default('keep'),
  }),
  response: TeamRouting,
  timeoutMs: 2_000,
});

/** A person as routing needs them (the gateway resolves it; routing keeps a projection). */
export const AgentRef = z.object({
  id: z.string().uuid(),
  name: z.string().max(200).nullable(),
  role: z.enum(ROLES),
  teamIds: z.array(z.string().uuid()).max(500),
});
export type AgentRef = z.infer<typeof AgentRef>;

export const AgentView = z.object({
  userId: z.string().uuid(),
  name: z.string().nullable(),
  role: z.enum(ROLES),
  teamIds: z.array(z.string().uuid()),
  status: z.enum(AGENT_STATUSES),
  statusSince: z.string(),
  /** agent = set by the person; auto = by the idle/disconnect timeouts. */
  statusSetBy: z.enum(['agent', 'auto']),
  maxOpen: z.number().int().nullable(),
  skills: z.array(z.string()),
  openCount: z.number().int(),
  lastActiveAt: z.string().nullable(),
});
export type AgentView = z.infer<typeof AgentView>;

/** An agent sets their own status (the gateway passes who they are). */
export const SetAgentStatusV1 = defineRequest({
  subject: 'routing.set-agent-status.v1',
  service: 'routing',
  request: z.object({ actor: Actor, agent: AgentRef, status: z.enum(AGENT_STATUSES) }),
  response: AgentView,
  timeoutMs: 3_000,
});

/** One's own availability, load and capacity (null before the person ever set a status or was projected). */
export const GetMyAgentV1 = defineRequest({
  subject: 'routing.get-my-agent.v1',
  service: 'routing',
  request: z.object({ actor: Actor }),
  response: AgentView.nullable(),
  timeoutMs: 2_000,
});

/** Admin / the agent's manager: per-agent maximum of open conversations and skills. */
export const SetAgentCapacityV1 = defineRequest({
  subject: 'routing.set-agent-capacity.v1',
  service: 'routing',
  request: z.object({
    actor: Actor,
    agent: AgentRef,
    maxOpen: z.number().int().min(1).max(1000).nullable(),
    skills: z.array(label).max(50).default([]),
  }),
  response: AgentView,
  timeoutMs: 2_000,
});

/** Availability and load of the agents of the actor's teams (admins: all), optionally of one team. */
export const ListAgentsV1 = defineRequest({
  subject: 'routing.list-agents.v1',
  service: 'routing',
  request: z.object({ actor: Actor, teamId: z.string().uuid().optional() }),
  response: z.object({ items: z.array(AgentView) }),
  timeoutMs: 2_000,
});

export const QueueItem = z.object({
  conversationId: z.string().uuid(),
  priority: z.enum(PRIORITIES),
  queuedAt: z.string(),
  labels: z.array(z.string()),
  skills: z.array(z.string()),
});

/** A team's queue (open, no owner), highest priority first, then oldest. */
export const GetQueueV1 = defineRequest({
  subject: 'routing.get-queue.v1',
  service: 'routing',
  request: z.object({ actor: Actor, teamId: z.string().uuid(), limit: z.number().int().min(1).max(500).default(100) }),
  response: z.object({ teamId: z.string().uuid(), total: z.number().int(), items: z.array(QueueItem) }),
  timeoutMs: 2_000,
});

/**
 * The gateway's real-time connections, reported by each gateway replica: on connect and disconnect at once, and
 * every few seconds for every connected client with its last activity. Routing applies the idle/disconnect
 * timeouts (durably, with the times stored), so a gateway that dies simply stops reporting.
 */
export const ReportAgentClientsV1 = defineRequest({
  subject: 'routing.report-agent-clients.v1',
  service: 'routing',
  request: z.object({
    clients: z
      .array(
        z.object({
          userId: z.string().uuid(),
          clientId: z.string().min(1).max(100),
          connected: z.boolean(),
          lastActiveAt: z.string().datetime({ offset: true }),
        }),
      )
      .max(5000),
  }),
  response: z.object({ accepted: z.number().int() }),
  timeoutMs: 3_000,
});
