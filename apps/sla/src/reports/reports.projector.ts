import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import {
  AgentStatusChangedV1,
  ConversationAssignedV1,
  ConversationOpenedV1,
  ConversationResolvedV1,
  ConversationWorkChangedV1,
  DashboardChangedPushV1,
  MessageReceivedV1,
  OutboundQueuedV1,
  SlaEscalatedV1,
  type EventContract,
  type PayloadOf,
} from '@app/contracts';
import { Bus, streamFeedOf, type StreamFeed } from '@app/messaging';
import { Clock } from '../clock/clock';
import { SLA_CONFIG, type SlaConfig } from '../config';
import { buildCalendar, type Calendar } from '../hours/calendar';
import { episodesOf, type ConversationFacts } from './episodes';

const CALENDAR_TTL_MS = 5_000;

/**
 * The reporting projection: every fact a report or the dashboard needs, from INBOX_EVENTS, each a row keyed by its
 * event id (a redelivery inserts nothing and changes nothing). Facts of one conversation are applied under a
 * per-conversation advisory lock and its episodes recomputed from all its facts, so arrival order does not matter.
 * After each change, the dashboards of the teams concerned are told (ephemeral push to the gateways).
 */
@Injectable()
export class ReportsProjector implements OnApplicationBootstrap {
  private readonly log = new Logger('ReportsProjector');
  private feed?: StreamFeed;
  private readonly calendars = new Map<string, { cal: Calendar | null; at: number }>();

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly clock: Clock,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.feed = streamFeedOf(this.bus);
    const on = <C extends EventContract>(c: C, name: string, fn: (e: PayloadOf<C>) => Promise<{ teams: (string | null)[]; agents: (string | null)[] } | null>) =>
      this.bus.consume(c, { durable: `sla-reports-${name}`, concurrency: 8, maxDeliver: this.cfg.SLA_EVENT_MAX_DELIVER, backoffMs: this.cfg.SLA_EVENT_BACKOFF_MS }, async (e) => {
        const touched = await fn(e);
        if (touched) this.push(touched.teams, touched.agents, name);
      });
    await on(ConversationOpenedV1, 'opened', (e) => this.opened(e));
    await on(MessageReceivedV1, 'message', (e) => this.message(e));
    await on(OutboundQueuedV1, 'outbound', (e) => this.outbound(e));
    await on(ConversationResolvedV1, 'resolved', (e) => this.resolved(e));
    await on(ConversationWorkChangedV1, 'work', (e) => this.work(e));
    await on(ConversationAssignedV1, 'assigned', (e) => this.assigned(e));
    await on(AgentStatusChangedV1, 'agent-status', (e) => this.agentStatus(e));
    await on(SlaEscalatedV1, 'escalated', async (e) => ({ teams: [e.teamId], agents: [] }));
  }

  private push(teams: (string | null)[], agents: (string | null)[], cause: string): void {
    const teamIds = [...new Set(teams.filter((t): t is string => !!t))];
    const agentIds = [...new Set(agents.filter((a): a is string => !!a))];
    try {
      this.feed?.broadcast(DashboardChangedPushV1, { teamIds, agentIds, cause, at: this.clock.now().toISOString() });
    } catch (err) {
      this.log.warn(`dashboard push failed: ${(err as Error).message}`);
    }
  }

  /** Runs `fn` in a transaction holding the conversation's lock; returns its team and owner after. */
  private async inConversation(id: string, fn: (em: EntityManager) => Promise<boolean>): Promise<{ teams: (string | null)[]; agents: (string | null)[] } | null> {
    return this.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('sla.rpt:' || $1))`, [id]);
      const before: { team_id: string | null; owner_id: string | null }[] = await em.query(`SELECT team_id, owner_id FROM sla.rpt_work WHERE conversation_id = $1`, [id]);
      if (!(await fn(em))) return null;
      const after: { team_id: string | null; owner_id: string | null }[] = await em.query(`SELECT team_id, owner_id FROM sla.rpt_work WHERE conversation_id = $1`, [id]);
      return { teams: [before[0]?.team_id ?? null, after[0]?.team_id ?? null], agents: [before[0]?.owner_id ?? null, after[0]?.owner_id ?? null] };
    });
  }

  async opened(e: PayloadOf<typeof ConversationOpenedV1>) {
    return this.inConversation(e.conversationId, async (em) => {
      const ins = await em.query(
        `INSERT INTO sla.rpt_open (event_id, conversation_id, phone_number_id, reopened, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1`,
        [e.eventId, e.conversationId, e.phoneNumberId, e.reopened, e.occurredAt],
      );
      if (!ins.length) return false;
      await em.query(
        `INSERT INTO sla.rpt_work AS w (conversation_id, status, version, opened_at) VALUES ($1, 'open', 0, $2)
         ON CONFLICT (conversation_id) DO UPDATE SET opened_at = greatest(w.opened_at, excluded.opened_at)`,
        [e.conversationId, e.occurredAt],
      );
      await this.recompute(em, e.conversationId);
      return true;
    });
  }

  async message(e: PayloadOf<typeof MessageReceivedV1>) {
    const inbound = e.direction === 'inbound' && e.origin === 'customer';
    // an echo (typed in the WhatsApp Business app) is an outbound message but nobody's reply in the inbox
    return this.inConversation(e.conversationId, (em) => this.insertMessage(em, e.eventId, e.conversationId, e.phoneNumberId, inbound ? 'in' : 'out', null, inbound ? e.sentAt : e.occurredAt));
  }

  async outbound(e: PayloadOf<typeof OutboundQueuedV1>) {
    if (!e.conversationId) return null;
    const id = e.conversationId;
    return this.inConversation(id, async (em) => {
      if (!(await this.insertMessage(em, e.eventId, id, e.phoneNumberId, 'out', e.senderId, e.occurredAt))) return false;
      if (e.senderId) await this.recompute(em, id);
      return true;
    });
  }

  private async insertMessage(em: EntityManager, eventId: string, conversationId: string, phone: string, direction: 'in' | 'out', senderId: string | null, at: string): Promise<boolean> {
    const ins = await em.query(
      `INSERT INTO sla.rpt_message (event_id, conversation_id, phone_number_id, team_id, direction, sender_id, at)
       VALUES ($1, $2, $3, (SELECT team_id FROM sla.rpt_work WHERE conversation_id = $2), $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1`,
      [eventId, conversationId, phone, direction, senderId, at],
    );
    if (!ins.length) return false;
    // the dashboard's "waiting since" (first customer message after the latest reply) and last customer message
    await em.query(`INSERT INTO sla.rpt_work (conversation_id, status, version) VALUES ($1, 'open', 0) ON CONFLICT DO NOTHING`, [conversationId]);
    await em.query(
      `UPDATE sla.rpt_work SET
         last_inbound_at = (SELECT max(at) FROM sla.rpt_message WHERE conversation_id = $1 AND direction = 'in'),
         awaiting_since = (SELECT min(m.at) FROM sla.rpt_message m WHERE m.conversation_id = $1 AND m.direction = 'in'
           AND m.at > coalesce((SELECT max(r.at) FROM sla.rpt_message r WHERE r.conversation_id = $1 AND r.direction = 'out' AND r.sender_id IS NOT NULL), '-infinity'))
       WHERE conversation_id = $1`,
      [conversationId],
    );
    return true;
  }

  async resolved(e: PayloadOf<typeof ConversationResolvedV1>) {
    return this.inConversation(e.conversationId, async (em) => {
      const ins = await em.query(`INSERT INTO sla.rpt_resolve (event_id, conversation_id, resolved_by, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`, [
        e.eventId,
        e.conversationId,
        e.resolvedBy,
        e.occurredAt,
      ]);
      if (!ins.length) return false;
      await this.recompute(em, e.conversationId);
      return true;
    });
  }

  async work(e: PayloadOf<typeof ConversationWorkChangedV1>) {
    const s = e.state;
    return this.inConversation(s.conversationId, async (em) => {
      const ins = await em.query(
        `INSERT INTO sla.rpt_state (event_id, conversation_id, version, team_id, owner_id, status, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING 1`,
        [e.eventId, s.conversationId, s.version, s.teamId, s.ownerId, s.status, e.occurredAt],
      );
      if (!ins.length) return false;
      // a conversation a bot holds waits in no queue (routing's queue skips it): counted "with a bot" instead
      const botHeld = !!s.bot && s.ownerId === null;
      const queued = s.ownerId === null && s.status === 'open' && s.teamId !== null && !botHeld;
      const rows = await em.query(
        `INSERT INTO sla.rpt_work AS w (conversation_id, team_id, owner_id, status, version, opened_at, queued_since, bot_held)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $8::timestamptz END, $9)
         ON CONFLICT (conversation_id) DO UPDATE SET team_id = excluded.team_id, owner_id = excluded.owner_id, status = excluded.status,
           version = excluded.version, opened_at = coalesce(w.opened_at, excluded.opened_at), bot_held = excluded.bot_held,
           queued_since = CASE WHEN NOT $7 THEN NULL
                               WHEN w.owner_id IS NULL AND w.status = 'open' AND w.team_id = excluded.team_id AND w.queued_since IS NOT NULL THEN w.queued_since
                               ELSE $8::timestamptz END
         WHERE w.version < excluded.version
         RETURNING (xmax = 0) AS inserted`,
        [s.conversationId, s.teamId, s.ownerId, s.status, s.version, s.openedAt, queued, e.occurredAt, botHeld],
      );
      // messages recorded before the conversation had a team count for the team it first got
      if (rows[0]?.inserted || s.teamId)
        await em.query(`UPDATE sla.rpt_message SET team_id = $2 WHERE conversation_id = $1 AND team_id IS NULL`, [s.conversationId, s.teamId]);
      await this.recompute(em, s.conversationId);
      return true;
    });
  }

  async assigned(e: PayloadOf<typeof ConversationAssignedV1>) {
    const ins = await this.ds.query(
      `INSERT INTO sla.rpt_assign (event_id, conversation_id, reason, team_id, owner_id, prev_team_id, prev_owner_id, actor_type, at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING RETURNING 1`,
      [e.eventId, e.conversationId, e.reason, e.teamId, e.ownerId, e.previousTeamId, e.previousOwnerId, e.actor.type, e.occurredAt],
    );
    return ins.length ? { teams: [e.teamId, e.previousTeamId], agents: [e.ownerId, e.previousOwnerId] } : null;
  }

  async agentStatus(e: PayloadOf<typeof AgentStatusChangedV1>) {
    const ins = await this.ds.query(`INSERT INTO sla.rpt_agent_status (event_id, user_id, status, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1`, [
      e.eventId,
      e.userId,
      e.status,
      e.occurredAt,
    ]);
    return ins.length ? { teams: e.teamIds, agents: [e.userId] } : null;
  }

  /** Rebuilds the conversation's episodes from all its facts (the pre-aggregate; docs/METRICS.md). */
  async recompute(em: EntityManager, id: string): Promise<void> {
    // one after another: they share the transaction's connection (pg queues concurrent queries on one client,
    // deprecated and removed in pg 9)
    const opens = await em.query(`SELECT at, phone_number_id FROM sla.rpt_open WHERE conversation_id = $1`, [id]);
    const replies = await em.query(`SELECT at, sender_id FROM sla.rpt_message WHERE conversation_id = $1 AND direction = 'out' AND sender_id IS NOT NULL`, [id]);
    const resolves = await em.query(`SELECT at, resolved_by FROM sla.rpt_resolve WHERE conversation_id = $1`, [id]);
    const states = await em.query(`SELECT at, version, team_id, owner_id FROM sla.rpt_state WHERE conversation_id = $1`, [id]);
    const facts: ConversationFacts = {
      opens: opens.map((r: any) => ({ at: new Date(r.at), phoneNumberId: r.phone_number_id })),
      replies: replies.map((r: any) => ({ at: new Date(r.at), senderId: r.sender_id })),
      resolves: resolves.map((r: any) => ({ at: new Date(r.at), resolvedBy: r.resolved_by })),
      states: states.map((r: any) => ({ at: new Date(r.at), version: r.version, teamId: r.team_id, ownerId: r.owner_id })),
    };
    const teams = [...new Set(facts.states.map((s) => s.teamId).filter((t): t is string => !!t))];
    const cals = new Map<string, Calendar | null>();
    for (const t of teams) cals.set(t, await this.calendarOf(em, t));
    const episodes = episodesOf(facts, (t) => (t ? (cals.get(t) ?? null) : null));
    await em.query(`DELETE FROM sla.rpt_episode WHERE conversation_id = $1`, [id]);
    if (!episodes.length) return;
    const col = <K extends keyof (typeof episodes)[number]>(k: K) => episodes.map((x) => x[k]);
    await em.query(
      `INSERT INTO sla.rpt_episode (conversation_id, opened_at, phone_number_id, team_id, first_response_at, responder_id, frt_ms, frt_business_ms,
         resolved_at, resolver_id, resolution_ms, resolution_business_ms)
       SELECT $1, * FROM unnest($2::timestamptz[], $3::text[], $4::uuid[], $5::timestamptz[], $6::text[], $7::bigint[], $8::bigint[],
         $9::timestamptz[], $10::text[], $11::bigint[], $12::bigint[])`,
      [
        id,
        col('openedAt'),
        col('phoneNumberId'),
        col('teamId'),
        col('firstResponseAt'),
        col('responderId'),
        col('frtMs'),
        col('frtBusinessMs'),
        col('resolvedAt'),
        col('resolverId'),
        col('resolutionMs'),
        col('resolutionBusinessMs'),
      ],
    );
  }

  /** The team's calendar: that of its policy without priority (else any of its policies); none = around the clock. */
  private async calendarOf(em: EntityManager, teamId: string): Promise<Calendar | null> {
    const hit = this.calendars.get(teamId);
    if (hit && Date.now() - hit.at < CALENDAR_TTL_MS) return hit.cal;
    const rows = await em.query(
      `SELECT h.time_zone, h.weekly, h.holidays FROM sla.policy p JOIN sla.business_hours h ON h.id = p.business_hours_id
       WHERE p.team_id = $1 ORDER BY (p.priority IS NULL) DESC, p.created_at LIMIT 1`,
      [teamId],
    );
    const cal = rows[0] ? buildCalendar({ timeZone: rows[0].time_zone, weekly: rows[0].weekly, holidays: rows[0].holidays }) : null;
    this.calendars.set(teamId, { cal, at: Date.now() });
    return cal;
  }
}
