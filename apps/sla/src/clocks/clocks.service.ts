import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CLOCK_TARGETS, type ClockTarget, type SlaPolicyView } from '@app/contracts';
import { SlaAdminService } from '../admin/sla-admin.service';
import { SLA_CONFIG, type SlaConfig } from '../config';
import { addBusinessTime, businessTimeBetween, type Calendar } from '../hours/calendar';
import { TimerRepository } from '../timers/timer.repository';

export interface ConversationRow {
  conversation_id: string;
  phone_number_id: string | null;
  team_id: string | null;
  owner_id: string | null;
  status: string;
  priority: string;
  routing_version: number;
  cycle_start_at: Date | null;
  first_reply_at: Date | null;
  awaiting_since: Date | null;
  last_inbound_at: Date | null;
  window_closes_at: Date | null;
  pending_since: Date | null;
  follow_ups_sent: number;
  /** A bot holds the conversation since then: every clock is paused (bot handover, issue 14). */
  bot_since: Date | null;
  bot_version: number;
}

export interface ClockRow {
  id: string;
  conversation_id: string;
  target: ClockTarget;
  started_at: Date;
  policy_id: string | null;
  target_ms: string;
  warn_at_percent: number;
  paused_ms: string;
  paused_since: Date | null;
  due_at: Date | null;
  warn_at: Date | null;
  state: 'ok' | 'warning' | 'breached' | 'met';
  warned_at: Date | null;
  breached_at: Date | null;
  met_at: Date | null;
  closed_at: Date | null;
}

const WINDOW_MS = 24 * 3600_000;
const PAUSED = new Set(['pending', 'snoozed']);
const minutesOf: Record<ClockTarget, keyof SlaPolicyView> = {
  firstResponse: 'firstResponseMinutes',
  nextResponse: 'nextResponseMinutes',
  resolution: 'resolutionMinutes',
};

/**
 * The clocks of a conversation follow from its state: first response runs from the first customer message of a
 * cycle until the first reply by a person; next response from the first unanswered customer message after that;
 * resolution from the cycle's start until resolved. `sync` brings the stored clocks and their timers in line
 * with the conversation and its policy (pausing while pending/snoozed or held by a bot, counting business time).
 */
@Injectable()
export class ClocksService {
  constructor(
    private readonly admin: SlaAdminService,
    private readonly timers: TimerRepository,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async lockConversation(em: EntityManager, id: string): Promise<ConversationRow | null> {
    const [row] = await em.query(`SELECT * FROM sla.conversation WHERE conversation_id = $1 FOR UPDATE`, [id]);
    return row ?? null;
  }

  /** Creates the conversation row if missing and returns it locked. */
  async ensureConversation(em: EntityManager, id: string, refs: { phoneNumberId?: string; contactId?: string }): Promise<ConversationRow> {
    await em.query(
      `INSERT INTO sla.conversation (conversation_id, phone_number_id, contact_id) VALUES ($1, $2, $3)
       ON CONFLICT (conversation_id) DO UPDATE SET phone_number_id = coalesce(sla.conversation.phone_number_id, EXCLUDED.phone_number_id),
         contact_id = coalesce(sla.conversation.contact_id, EXCLUDED.contact_id)`,
      [id, refs.phoneNumberId ?? null, refs.contactId ?? null],
    );
    return (await this.lockConversation(em, id))!;
  }

  async update(em: EntityManager, id: string, patch: Partial<Omit<ConversationRow, 'conversation_id'>>): Promise<void> {
    const keys = Object.keys(patch);
    if (!keys.length) return;
    await em.query(
      `UPDATE sla.conversation SET ${keys.map((k, i) => `${k} = $${i + 2}`).join(', ')}, updated_at = now() WHERE conversation_id = $1`,
      [id, ...keys.map((k) => (patch as Record<string, unknown>)[k])],
    );
  }

  /** A customer message: opens/extends the 24 h window and starts clocks. */
  async customerWrote(em: EntityManager, c: ConversationRow, sentAt: Date): Promise<void> {
    const last = c.last_inbound_at && c.last_inbound_at > sentAt ? c.last_inbound_at : sentAt;
    await this.update(em, c.conversation_id, {
      last_inbound_at: last,
      window_closes_at: new Date(last.getTime() + WINDOW_MS),
      cycle_start_at: c.cycle_start_at ?? sentAt,
      awaiting_since: c.awaiting_since ?? sentAt,
      follow_ups_sent: 0,
    });
    await this.timers.cancel(em, c.conversation_id, ['follow-up']);
    await this.sync(em, c.conversation_id, sentAt);
  }

  /** A reply by a person meets the response clocks and stops the window warning. */
  async personReplied(em: EntityManager, c: ConversationRow, at: Date): Promise<void> {
    await this.update(em, c.conversation_id, { first_reply_at: c.first_reply_at ?? at, awaiting_since: null });
    await em.query(
      `UPDATE sla.clock SET met_at = $2, closed_at = $2, paused_since = NULL,
         state = CASE WHEN state = 'breached' THEN 'breached' ELSE 'met' END
       WHERE conversation_id = $1 AND closed_at IS NULL AND target IN ('firstResponse', 'nextResponse')`,
      [c.conversation_id, at],
    );
    await this.timers.cancel(em, c.conversation_id, ['clock.warning', 'clock.breach'], 'firstResponse');
    await this.timers.cancel(em, c.conversation_id, ['clock.warning', 'clock.breach'], 'nextResponse');
    await this.timers.cancel(em, c.conversation_id, ['window.warning']);
    await this.sync(em, c.conversation_id, at);
  }

  /**
   * Resolved: resolution is met, every other clock stops, the next customer message starts a new cycle. A customer
   * message that came after the resolve (its event handled before this one) already starts that next cycle.
   */
  async resolved(em: EntityManager, c: ConversationRow, at: Date, resolvedAt: Date | null): Promise<void> {
    await em.query(
      `UPDATE sla.clock SET closed_at = $2, paused_since = NULL,
         met_at = CASE WHEN target = 'resolution' THEN $2 ELSE met_at END,
         state = CASE WHEN target = 'resolution' AND state <> 'breached' THEN 'met' ELSE state END
       WHERE conversation_id = $1 AND closed_at IS NULL`,
      [c.conversation_id, at],
    );
    const later = resolvedAt && c.awaiting_since && c.awaiting_since > resolvedAt ? c.awaiting_since : null;
    await this.update(em, c.conversation_id, { cycle_start_at: later, first_reply_at: null, awaiting_since: later });
    await this.timers.cancel(em, c.conversation_id, ['clock.warning', 'clock.breach', 'window.warning', 'follow-up']);
  }

  /**
   * The first reply came before sla knew the team's policy (events of different subjects arrive in any order):
   * the cycle's first-response clock is recorded at once, met or breached by that reply.
   */
  private async recordAnsweredFirst(em: EntityManager, c: ConversationRow, policy: SlaPolicyView, cal: Calendar | null, targetMs: number): Promise<void> {
    const start = c.cycle_start_at!;
    const done = await em.query(`SELECT 1 FROM sla.clock WHERE conversation_id = $1 AND target = 'firstResponse' AND started_at = $2`, [c.conversation_id, start]);
    if (done.length) return;
    const due = new Date(addBusinessTime(cal, start.getTime(), targetMs));
    const warn = new Date(addBusinessTime(cal, start.getTime(), Math.floor((targetMs * policy.warnAtPercent) / 100)));
    const late = c.first_reply_at! > due;
    await em.query(
      `INSERT INTO sla.clock (conversation_id, target, started_at, policy_id, target_ms, warn_at_percent, due_at, warn_at, state, breached_at, met_at, closed_at)
       VALUES ($1, 'firstResponse', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
      [c.conversation_id, start, policy.id, targetMs, policy.warnAtPercent, due, warn, late ? 'breached' : 'met', late ? due : null, c.first_reply_at],
    );
  }

  /** Brings the clocks of a conversation (locked by the caller) in line with its state and policy at `at`. */
  async sync(em: EntityManager, conversationId: string, at: Date): Promise<void> {
    const c = (await this.lockConversation(em, conversationId))!;
    const policy = await this.admin.policyFor(em, c.team_id, c.priority);
    const cal = policy ? await this.admin.calendar(em, policy.businessHoursId) : null;
    const active: ClockRow[] = await em.query(`SELECT * FROM sla.clock WHERE conversation_id = $1 AND closed_at IS NULL`, [conversationId]);
    const startOf: Record<ClockTarget, Date | null> = {
      firstResponse: c.cycle_start_at && !c.first_reply_at ? c.cycle_start_at : null,
      nextResponse: c.first_reply_at && c.awaiting_since ? c.awaiting_since : null,
      resolution: c.status !== 'resolved' ? c.cycle_start_at : null,
    };
    const statusPaused = PAUSED.has(c.status);
    const paused = statusPaused || c.bot_since !== null;
    for (const target of CLOCK_TARGETS) {
      const minutes = policy ? (policy[minutesOf[target]] as number | null) : null;
      let clock = active.find((k) => k.target === target);
      const start = startOf[target];
      if (target === 'firstResponse' && minutes && !clock && c.cycle_start_at && c.first_reply_at) {
        await this.recordAnsweredFirst(em, c, policy!, cal, minutes * 60_000);
        continue;
      }
      if (!minutes || !start) {
        if (clock) {
          // no policy (any more) for it: the clock stops without a verdict
          await em.query(`UPDATE sla.clock SET closed_at = $2 WHERE id = $1`, [clock.id, at]);
          await this.timers.cancel(em, conversationId, ['clock.warning', 'clock.breach'], target);
        }
        continue;
      }
      const targetMs = minutes * 60_000;
      if (!clock) {
        [clock] = await em.query(
          `INSERT INTO sla.clock (conversation_id, target, started_at, policy_id, target_ms, warn_at_percent) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
          [conversationId, target, start, policy!.id, targetMs, policy!.warnAtPercent],
        );
      }
      const k = clock!;
      let pausedMs = Number(k.paused_ms);
      let pausedSince = k.paused_since;
      if (paused && !pausedSince) {
        // a bot's hold counts from when it took the conversation (a clock started meanwhile is paused from its start)
        const since = statusPaused
          ? c.pending_since && c.pending_since > k.started_at ? c.pending_since : at
          : (c.bot_since ?? at);
        pausedSince = since < k.started_at ? k.started_at : since;
      } else if (!paused && pausedSince) {
        pausedMs += businessTimeBetween(cal, pausedSince.getTime(), at.getTime());
        pausedSince = null;
      }
      const s = k.started_at.getTime();
      const due = pausedSince ? null : new Date(addBusinessTime(cal, s, targetMs + pausedMs));
      const warn = pausedSince ? null : new Date(addBusinessTime(cal, s, Math.floor((targetMs * policy!.warnAtPercent) / 100) + pausedMs));
      await em.query(
        `UPDATE sla.clock SET policy_id = $2, target_ms = $3, warn_at_percent = $4, paused_ms = $5, paused_since = $6, due_at = $7, warn_at = $8 WHERE id = $1`,
        [k.id, policy!.id, targetMs, policy!.warnAtPercent, pausedMs, pausedSince, due, warn],
      );
      if (!due || !warn) {
        await this.timers.cancel(em, conversationId, ['clock.warning', 'clock.breach'], target);
        continue;
      }
      if (k.state === 'ok') await this.timers.schedule(em, 'clock.warning', conversationId, target, warn);
      if (k.state === 'ok' || k.state === 'warning') await this.timers.schedule(em, 'clock.breach', conversationId, target, due);
    }
    // the window warning: only while the customer waits for an answer
    if (c.awaiting_since && c.window_closes_at && c.status !== 'resolved' && c.bot_since === null) {
      const minutes = policy?.windowWarningMinutes ?? this.cfg.SLA_WINDOW_WARNING_MINUTES;
      await this.timers.schedule(em, 'window.warning', conversationId, '', new Date(c.window_closes_at.getTime() - minutes * 60_000));
    } else await this.timers.cancel(em, conversationId, ['window.warning']);
  }
}
