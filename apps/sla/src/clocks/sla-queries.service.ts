import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CLOCK_TARGETS, type ClockView, type ConversationSlaView } from '@app/contracts';
import { SlaAdminService } from '../admin/sla-admin.service';
import { Clock } from '../clock/clock';
import { stateAt } from '../hours/calendar';
import type { ClockRow } from './clocks.service';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** Reads: a conversation's clocks, window and escalations; ids ordered by SLA; business hours open or not. */
@Injectable()
export class SlaQueriesService {
  constructor(
    private readonly ds: DataSource,
    private readonly admin: SlaAdminService,
    private readonly clock: Clock,
  ) {}

  async conversations(ids: string[]): Promise<ConversationSlaView[]> {
    const now = this.clock.now().getTime();
    const convs: { conversation_id: string; window_closes_at: Date | null }[] = await this.ds.query(
      `SELECT conversation_id, window_closes_at FROM sla.conversation WHERE conversation_id = ANY($1::uuid[])`,
      [ids],
    );
    // the latest clock of each target (the running one, else the last closed one)
    const clocks: ClockRow[] = await this.ds.query(
      `SELECT DISTINCT ON (conversation_id, target) * FROM sla.clock WHERE conversation_id = ANY($1::uuid[])
       ORDER BY conversation_id, target, (closed_at IS NULL) DESC, started_at DESC, created_at DESC`,
      [ids],
    );
    const escalations: { conversation_id: string; at: Date; target: string; level: string; actions: string[]; late: boolean }[] = await this.ds.query(
      `SELECT conversation_id, at, target, level, actions, late FROM sla.escalation WHERE conversation_id = ANY($1::uuid[]) ORDER BY seq`,
      [ids],
    );
    return ids.map((id) => {
      const c = convs.find((x) => x.conversation_id === id);
      const closes = c?.window_closes_at ? new Date(c.window_closes_at).getTime() : null;
      const sla = Object.fromEntries(
        CLOCK_TARGETS.map((t) => {
          const k = clocks.find((x) => x.conversation_id === id && x.target === t);
          return [t, k ? clockView(k) : null];
        }),
      ) as ConversationSlaView['sla'];
      return {
        conversationId: id,
        sla,
        window: { closesAt: closes ? new Date(closes).toISOString() : null, open: closes !== null && closes > now },
        escalations: escalations
          .filter((e) => e.conversation_id === id)
          .map((e) => ({ at: new Date(e.at).toISOString(), target: e.target, level: e.level, actions: e.actions, late: e.late })),
      };
    });
  }

  async rank(sort: 'due-soonest' | 'at-risk' | 'breached', limit: number): Promise<string[]> {
    const where =
      sort === 'breached'
        ? `state = 'breached' AND met_at IS NULL AND closed_at IS NULL`
        : sort === 'at-risk'
          ? `state = 'warning' AND closed_at IS NULL`
          : `state IN ('ok', 'warning') AND closed_at IS NULL AND due_at IS NOT NULL`;
    const order = sort === 'breached' ? 'min(breached_at)' : 'min(due_at)';
    const rows: { conversation_id: string }[] = await this.ds.query(
      `SELECT conversation_id FROM sla.clock WHERE ${where} GROUP BY conversation_id ORDER BY ${order}, conversation_id LIMIT $1`,
      [limit],
    );
    return rows.map((r) => r.conversation_id);
  }

  async businessHoursState(q: { businessHoursId?: string; teamId?: string; at: string }) {
    let id = q.businessHoursId ?? null;
    if (!id && q.teamId) id = await this.admin.teamHoursId(this.ds.manager, q.teamId);
    const cal = id ? await this.admin.calendar(this.ds.manager, id) : null;
    const s = stateAt(cal, Date.parse(q.at));
    return {
      open: s.open,
      nextOpenAt: s.nextOpenAt !== null ? new Date(s.nextOpenAt).toISOString() : null,
      businessHoursId: cal ? id : null,
      timeZone: cal?.timeZone ?? null,
    };
  }
}

function clockView(k: ClockRow): ClockView {
  return {
    startedAt: iso(k.started_at)!,
    dueAt: iso(k.due_at),
    warnAt: iso(k.warn_at),
    state: k.state,
    paused: k.paused_since !== null,
    pausedMs: Number(k.paused_ms),
    warnedAt: iso(k.warned_at),
    breachedAt: iso(k.breached_at),
    metAt: iso(k.met_at),
    policyId: k.policy_id,
  };
}
