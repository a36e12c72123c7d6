import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ClockTarget } from '@app/contracts';
import { ClocksService, type ClockRow, type ConversationRow } from '../clocks/clocks.service';
import { SLA_CONFIG, type SlaConfig } from '../config';
import { EscalationWriter } from './escalation.writer';
import { TimerRepository, type TimerRow } from './timer.repository';

/** The owner, or the team's managers when nobody owns the conversation. */
const ownerOrManagers = (c: ConversationRow) => ({ userIds: [c.owner_id], teamManagersOf: c.owner_id ? null : c.team_id });
const LABEL: Record<ClockTarget, string> = { firstResponse: 'First response', nextResponse: 'Next response', resolution: 'Resolution' };

/**
 * What a due timer does, inside the transaction that claimed it (so its effects commit exactly once with the
 * claim). Each handler re-checks the state: a timer whose reason has gone (answered, resolved, moved) does nothing.
 */
@Injectable()
export class TimerFireService {
  constructor(
    private readonly writer: EscalationWriter,
    private readonly timers: TimerRepository,
    private readonly clocks: ClocksService,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async fire(em: EntityManager, t: TimerRow & { late: boolean }, now: Date): Promise<void> {
    if (t.kind === 'reminder') return this.reminder(em, t, now);
    const [c]: ConversationRow[] = await em.query(`SELECT * FROM sla.conversation WHERE conversation_id = $1`, [t.conversation_id]);
    switch (t.kind) {
      case 'clock.warning':
      case 'clock.breach':
        if (c) await this.clock(em, t, c, now);
        return;
      case 'window.warning':
        if (c) await this.windowWarning(em, t, c, now);
        return;
      case 'follow-up':
        if (c) await this.followUp(em, t, c, now);
        return;
      case 'resync':
        if (c) await this.clocks.sync(em, c.conversation_id, now);
        return;
    }
  }

  private async clock(em: EntityManager, t: TimerRow & { late: boolean }, c: ConversationRow, now: Date): Promise<void> {
    const target = t.ref as ClockTarget;
    const [k]: ClockRow[] = await em.query(
      `SELECT * FROM sla.clock WHERE conversation_id = $1 AND target = $2 AND closed_at IS NULL FOR UPDATE`,
      [c.conversation_id, target],
    );
    if (!k || !k.due_at || !k.warn_at) return; // met, stopped or paused meanwhile
    const late = t.late || !!t.payload?.late;
    if (t.late && !t.payload?.deferred && this.cfg.SLA_LATE_CLOCK_GRACE_MS > 0) {
      // fired late (sla was down or behind): replies and status changes made in time may still wait in the
      // consumers' backlog; applied at their occurredAt, they meet or pause the clock and cancel this timer. The
      // clock is judged once, after the grace (a clock moved meanwhile re-schedules this row at its new time).
      await this.timers.schedule(em, t.kind, c.conversation_id, target, new Date(now.getTime() + this.cfg.SLA_LATE_CLOCK_GRACE_MS), { deferred: true, late: true });
      return;
    }
    const data = { target, dueAt: k.due_at.toISOString() };
    if (t.kind === 'clock.warning') {
      if (k.state !== 'ok' || k.warn_at > now) return;
      await em.query(`UPDATE sla.clock SET state = 'warning', warned_at = $2 WHERE id = $1`, [k.id, now]);
      await this.writer.notice(
        em,
        {
          kind: 'sla.warning',
          conversationId: c.conversation_id,
          ...ownerOrManagers(c),
          title: `${LABEL[target]} due ${k.due_at.toISOString()}`,
          data,
        },
        now,
      );
      await this.writer.escalation(em, { conversationId: c.conversation_id, teamId: c.team_id, target, level: 'warning', dueAt: k.due_at, actions: [c.owner_id ? 'notify-owner' : 'notify-managers'], late }, now);
      return;
    }
    if ((k.state !== 'ok' && k.state !== 'warning') || k.due_at > now) return;
    await em.query(`UPDATE sla.clock SET state = 'breached', breached_at = $2 WHERE id = $1`, [k.id, now]);
    await this.timers.cancel(em, c.conversation_id, ['clock.warning'], target);
    const actions = ['notify-managers'];
    const policy = k.policy_id ? (await em.query(`SELECT on_breach, raise_to FROM sla.policy WHERE id = $1`, [k.policy_id]))[0] : null;
    if (policy?.on_breach === 'raise-priority') {
      actions.push(`raise-priority:${policy.raise_to}`);
      await this.timers.schedule(em, 'action', c.conversation_id, `raise-priority:${target}`, now, { type: 'raise-priority', priority: policy.raise_to });
    } else if (policy?.on_breach === 'requeue') {
      actions.push('requeue');
      await this.timers.schedule(em, 'action', c.conversation_id, `requeue:${target}`, now, { type: 'requeue', reason: `SLA ${LABEL[target].toLowerCase()} breached` });
    }
    await this.writer.notice(
      em,
      { kind: 'sla.breach', conversationId: c.conversation_id, userIds: [], teamManagersOf: c.team_id, title: `${LABEL[target]} breached`, data },
      now,
    );
    await this.writer.escalation(em, { conversationId: c.conversation_id, teamId: c.team_id, target, level: 'breach', dueAt: k.due_at, actions, late }, now);
  }

  private async windowWarning(em: EntityManager, t: TimerRow & { late: boolean }, c: ConversationRow, now: Date): Promise<void> {
    if (!c.awaiting_since || !c.window_closes_at || c.window_closes_at <= now || c.status === 'resolved') return;
    // nobody to tell yet: routing's work state (team, owner) has not reached sla. Nothing is recorded, so the
    // window is not marked warned; applying that state syncs the clocks, which schedules this warning again.
    if (!c.owner_id && !c.team_id) return;
    // once per window: any later sync (a work change) schedules the warning again after it fired
    const warned = await em.query(`SELECT 1 FROM sla.escalation WHERE conversation_id = $1 AND level = 'window.closing' AND at >= $2 LIMIT 1`, [
      c.conversation_id,
      c.last_inbound_at ?? c.awaiting_since,
    ]);
    if (warned.length) return;
    const closesAt = c.window_closes_at.toISOString();
    await this.writer.notice(
      em,
      {
        kind: 'window.closing',
        conversationId: c.conversation_id,
        ...ownerOrManagers(c),
        title: 'The 24-hour window closes soon; after that only a template can reach the customer',
        data: { closesAt },
      },
      now,
    );
    await this.writer.escalation(
      em,
      { conversationId: c.conversation_id, teamId: c.team_id, target: 'window', level: 'window.closing', dueAt: c.window_closes_at, actions: [c.owner_id ? 'notify-owner' : 'notify-managers'], late: t.late },
      now,
    );
  }

  private reminder(em: EntityManager, t: TimerRow, now: Date): Promise<void> {
    return this.reminders(em, [t], now);
  }

  /** Due reminders, many at once (two statements for a whole batch): each pending one fires and tells its person. */
  async reminders(em: EntityManager, ts: TimerRow[], now: Date): Promise<void> {
    if (!ts.length) return;
    const [rows] = await em.query(
      `UPDATE sla.reminder SET state = 'fired', fired_at = $2 WHERE id = ANY($1::uuid[]) AND state = 'pending' RETURNING id, user_id, note, conversation_id`,
      [ts.map((t) => t.ref), now],
    );
    await this.writer.notices(
      em,
      (rows as { id: string; user_id: string; note: string | null; conversation_id: string }[]).map((r) => ({
        kind: 'reminder' as const,
        conversationId: r.conversation_id,
        userIds: [r.user_id],
        title: 'Reminder',
        body: r.note,
        data: { reminderId: r.id },
      })),
      now,
    );
  }

  /** "Pending with no customer reply for N h": remind the owner or send a template, at most maxTimes. */
  private async followUp(em: EntityManager, t: TimerRow & { late: boolean }, c: ConversationRow, now: Date): Promise<void> {
    const [rule] = await em.query(`SELECT * FROM sla.follow_up_rule WHERE id = $1`, [t.ref]);
    if (!rule || c.status !== 'pending' || c.awaiting_since || c.follow_ups_sent >= rule.max_times) return;
    const n = c.follow_ups_sent + 1;
    await em.query(`UPDATE sla.conversation SET follow_ups_sent = $2 WHERE conversation_id = $1`, [c.conversation_id, n]);
    let action: string;
    if (rule.action === 'send-template') {
      action = `send-template:${rule.template.name}`;
      await this.timers.schedule(em, 'action', c.conversation_id, `follow-up:${rule.id}:${n}`, now, { type: 'send-template', template: rule.template });
    } else {
      action = 'remind-owner';
      await this.writer.notice(
        em,
        {
          kind: 'reminder',
          conversationId: c.conversation_id,
          ...ownerOrManagers(c),
          title: `No reply from the customer for ${Math.round(rule.after_minutes / 60) || rule.after_minutes + ' min'}${rule.after_minutes >= 60 ? ' h' : ''}`,
          data: { followUp: n, maxTimes: rule.max_times },
        },
        now,
      );
    }
    await this.writer.escalation(em, { conversationId: c.conversation_id, teamId: c.team_id, target: 'followUp', level: 'follow-up', dueAt: t.due_at, actions: [action], late: t.late }, now);
    if (n < rule.max_times) await this.timers.schedule(em, 'follow-up', c.conversation_id, rule.id, new Date(now.getTime() + rule.after_minutes * 60_000));
  }
}
