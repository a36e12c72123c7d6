import { z } from 'zod';
import { defineEvent, defineRequest, eventBase } from '../define';
import { AGENT_STATUSES } from '../routing/assignment';
import { WORK_STATUSES } from '../routing/routing.requests';

/**
 * Manager view (issue 8): the live dashboard and reports. The report data (a projection of INBOX_EVENTS) lives in
 * the sla service (`apps/sla/src/reports`), next to the clocks and business-hours calendars it needs; the gateway
 * scopes every request to the caller's teams before asking. Every number is defined in docs/METRICS.md.
 */
const uuid = z.string().uuid();
const iso = z.string().datetime({ offset: true });

// ------------------------------------------------------------------ events

/** An agent's availability changed (set by the person or by the idle/disconnect timeouts), from routing's outbox. */
export const AgentStatusChangedV1 = defineEvent({
  subject: 'inbox.agent.status-changed.v1',
  stream: 'INBOX_EVENTS',
  schema: z.object({
    ...eventBase,
    userId: uuid,
    status: z.enum(AGENT_STATUSES),
    previous: z.enum(AGENT_STATUSES).nullable(),
    setBy: z.enum(['agent', 'auto']),
    teamIds: z.array(uuid),
  }),
});

/**
 * The dashboard figures of these teams changed (the reports projection applied an event). Ephemeral: over core
 * NATS to every gateway replica, which sends `{type:'dashboard.changed'}` to the managers of those teams and admins.
 */
export const DashboardChangedPushV1 = {
  subject: 'push.dashboard-changed.v1',
  schema: z.object({ teamIds: z.array(uuid), agentIds: z.array(uuid), cause: z.string(), at: z.string() }),
};

// ------------------------------------------------------------------ dashboard

export const AGE_BUCKETS = ['lt1h', '1to4h', '4to24h', '1to3d', 'gt3d'] as const;
const byStatus = z.object({ open: z.number().int(), pending: z.number().int(), snoozed: z.number().int() });
const ageBuckets = z.object(Object.fromEntries(AGE_BUCKETS.map((b) => [b, z.number().int()])) as Record<(typeof AGE_BUCKETS)[number], z.ZodNumber>);

export const DashboardTeamFigures = z.object({
  teamId: uuid,
  queue: z.object({ length: z.number().int(), oldestQueuedAt: z.string().nullable() }),
  /** Unresolved conversations a bot holds (nobody owns them; not in the queue). */
  withBot: z.number().int(),
  byStatus,
  /** Unresolved conversations by status and by age (now − opened) bucket. */
  age: z.object({ open: ageBuckets, pending: ageBuckets, snoozed: ageBuckets }),
  sla: z.object({ atRisk: z.number().int(), breached: z.number().int() }),
  windowsClosingIn2h: z.number().int(),
  /** CSAT over the surveys sent in the last 7 days (docs/METRICS.md). */
  csatLast7Days: z.object({
    sent: z.number().int(),
    rated: z.number().int(),
    scorePercent: z.number().nullable(),
    responseRatePercent: z.number().nullable(),
  }),
});
export type DashboardTeamFigures = z.infer<typeof DashboardTeamFigures>;

export const DashboardOwnerFigures = z.object({
  userId: uuid,
  owned: byStatus,
  /** Since when the longest-waiting customer of the agent's open conversations waits (null = nobody waits). */
  oldestWaitingSince: z.string().nullable(),
  sla: z.object({ atRisk: z.number().int(), breached: z.number().int() }),
  repliesLastHour: z.number().int(),
});
export type DashboardOwnerFigures = z.infer<typeof DashboardOwnerFigures>;

/**
 * `teamIds` = the caller's scope (null = all, admins). Owners are reported for `userIds` (the gateway's agents); null =
 * every owner and replier in the scope (so the gateway can ask while it asks routing for its agents).
 */
export const GetDashboardV1 = defineRequest({
  subject: 'sla.get-dashboard.v1',
  service: 'sla',
  request: z.object({ teamIds: z.array(uuid).nullable(), userIds: z.array(uuid).max(5000).nullable() }),
  response: z.object({ at: z.string(), teams: z.array(DashboardTeamFigures), owners: z.array(DashboardOwnerFigures) }),
  timeoutMs: 3_000,
});

export const DRILL_METRICS = ['queue', 'open', 'pending', 'snoozed', 'sla-at-risk', 'sla-breached', 'window-closing', 'waiting', 'replies-last-hour'] as const;
export const DrillItem = z.object({
  conversationId: uuid,
  teamId: uuid.nullable(),
  ownerId: uuid.nullable(),
  status: z.enum(WORK_STATUSES),
  openedAt: z.string().nullable(),
  queuedSince: z.string().nullable(),
  waitingSince: z.string().nullable(),
  slaState: z.enum(['ok', 'warning', 'breached']).nullable(),
  windowClosesAt: z.string().nullable(),
});
export type DrillItem = z.infer<typeof DrillItem>;

/** The conversations behind one dashboard number (same definitions as the figures), oldest first. */
export const DashboardDrillV1 = defineRequest({
  subject: 'sla.dashboard-drill.v1',
  service: 'sla',
  request: z.object({
    teamIds: z.array(uuid).nullable(),
    metric: z.enum(DRILL_METRICS),
    teamId: uuid.optional(),
    agentId: uuid.optional(),
    ageBucket: z.enum(AGE_BUCKETS).optional(),
    limit: z.number().int().min(1).max(500).default(100),
  }),
  response: z.object({ total: z.number().int(), items: z.array(DrillItem) }),
  timeoutMs: 3_000,
});

// ------------------------------------------------------------------ reports

export const REPORT_KINDS = ['first-response', 'resolution', 'sla', 'volume', 'agents', 'csat'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
/** Longest range a report covers. */
export const REPORT_MAX_DAYS = 366;

export const ReportFilter = z.object({
  from: iso,
  to: iso,
  /** IANA zone for hour-of-day / day-of-week buckets (default UTC). */
  tz: z.string().default('UTC'),
  /** The caller's scope (null = all teams, admins). */
  teamIds: z.array(uuid).nullable(),
  teamId: uuid.optional(),
  agentId: uuid.optional(),
  phoneNumberId: z.string().max(64).optional(),
});
export type ReportFilter = z.infer<typeof ReportFilter>;

const durations = z.object({
  count: z.number().int(),
  /** Seconds; null when count = 0. Median and p90 are linear-interpolated percentiles (percentile_cont). */
  medianSeconds: z.number().nullable(),
  p90Seconds: z.number().nullable(),
  averageSeconds: z.number().nullable(),
});
const durationPair = z.object({ wallClock: durations, businessHours: durations });
const attainment = z.object({ target: z.string(), decided: z.number().int(), met: z.number().int(), breached: z.number().int(), attainmentPercent: z.number().nullable() });

export const FirstResponseReport = z.object({ kind: z.literal('first-response'), ...durationPair.shape });
export const ResolutionReport = z.object({ kind: z.literal('resolution'), ...durationPair.shape });
export const SlaReport = z.object({
  kind: z.literal('sla'),
  targets: z.array(attainment),
  byTeam: z.array(attainment.extend({ teamId: uuid.nullable() })),
  byAgent: z.array(attainment.extend({ agentId: uuid.nullable() })),
  breaches: z.array(
    z.object({ conversationId: uuid, target: z.string(), teamId: uuid.nullable(), agentId: uuid.nullable(), dueAt: z.string().nullable(), breachedAt: z.string(), reason: z.string() }),
  ),
  breachesTruncated: z.boolean(),
});
export const VolumeReport = z.object({
  kind: z.literal('volume'),
  conversationsOpened: z.number().int(),
  conversationsResolved: z.number().int(),
  messagesIn: z.number().int(),
  messagesOut: z.number().int(),
  /** 24 rows, hour 0–23 in `tz`. */
  byHour: z.array(z.object({ hour: z.number().int(), in: z.number().int(), out: z.number().int() })),
  /** 7 rows, ISO day 1 (Monday) – 7 (Sunday) in `tz`. */
  byWeekday: z.array(z.object({ isoDay: z.number().int(), in: z.number().int(), out: z.number().int() })),
});
export const AgentsReport = z.object({
  kind: z.literal('agents'),
  agents: z.array(
    z.object({
      agentId: uuid,
      onlineSeconds: z.number(),
      conversationsHandled: z.number().int(),
      replies: z.number().int(),
      handoffsGiven: z.number().int(),
      handoffsReceived: z.number().int(),
      systemReassignments: z.number().int(),
    }),
  ),
});
/** CSAT over the surveys sent in the range (docs/METRICS.md): score = share of 4–5 ratings, response rate = rated ÷ sent. */
const csatFigures = z.object({
  sent: z.number().int(),
  rated: z.number().int(),
  /** rated ÷ sent × 100, 2 decimals; null when nothing was sent. */
  responseRatePercent: z.number().nullable(),
  /** Ratings of 4 or 5 ÷ rated × 100, 2 decimals; null when nothing was rated. */
  scorePercent: z.number().nullable(),
  /** Mean rating, 2 decimals; null when nothing was rated. */
  averageRating: z.number().nullable(),
});
export const CsatReport = z.object({
  kind: z.literal('csat'),
  ...csatFigures.shape,
  /** Ratings 1–5 with their counts. */
  distribution: z.array(z.object({ rating: z.number().int(), count: z.number().int() })),
  byTeam: z.array(csatFigures.extend({ teamId: uuid.nullable() })),
  byAgent: z.array(csatFigures.extend({ agentId: uuid.nullable() })),
});
export const ReportResult = z.discriminatedUnion('kind', [FirstResponseReport, ResolutionReport, SlaReport, VolumeReport, AgentsReport, CsatReport]);
export type ReportResult = z.infer<typeof ReportResult>;

export const GetReportV1 = defineRequest({
  subject: 'sla.get-report.v1',
  service: 'sla',
  request: z.object({ kind: z.enum(REPORT_KINDS), filter: ReportFilter, agentIds: z.array(uuid).max(5000).optional() }),
  response: ReportResult,
  timeoutMs: 10_000,
});

type ReportCell = string | number | null;
const isCell = (v: unknown): v is ReportCell => v === null || typeof v === 'string' || typeof v === 'number';
/**
 * A page of rows, each an array of string | number | null. Checked by one loop, not a zod schema per cell: zod's
 * array-of-union costs ~200 ms per 5,000-row page on each side of the bus, which made a 1,000,000-row export take ~50 s.
 */
const reportRows = z.custom<ReportCell[][]>((v) => Array.isArray(v) && v.every((r) => Array.isArray(r) && r.every(isCell)), 'rows: arrays of string, number or null');

/** The raw rows behind a report, a page at a time (keyset cursor), for the streamed CSV export. */
export const ReportRowsV1 = defineRequest({
  subject: 'sla.report-rows.v1',
  service: 'sla',
  request: z.object({
    kind: z.enum(REPORT_KINDS),
    filter: ReportFilter,
    agentIds: z.array(uuid).max(5000).optional(),
    cursor: z.string().max(200).nullable(),
    limit: z.number().int().min(1).max(10_000).default(5_000),
  }),
  response: z.object({ columns: z.array(z.string()), rows: reportRows, nextCursor: z.string().nullable() }),
  timeoutMs: 10_000,
});
