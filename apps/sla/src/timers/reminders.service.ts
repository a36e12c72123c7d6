import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, ReminderView } from '@app/contracts';
import { ForbiddenError, NotFoundError, ValidationError } from '@app/messaging';
import { SlaAdminService } from '../admin/sla-admin.service';
import { Clock } from '../clock/clock';
import { nextDayAt } from '../hours/calendar';
import { TimerRepository } from './timer.repository';

/** "Remind me" on a conversation: a reminder row and its durable timer, written together. */
@Injectable()
export class RemindersService {
  constructor(
    private readonly ds: DataSource,
    private readonly timers: TimerRepository,
    private readonly clock: Clock,
    private readonly admin: SlaAdminService,
  ) {}

  /**
   * `at` an instant, or `nextDayAt` "HH:MM": the next calendar day (not the next business day — a person chose the
   * time) at that wall time in the time zone of the conversation team's business hours; UTC when it has none. The
   * team is the one the caller read from routing (`teamId`), else the one sla's projection knows.
   */
  async create(
    actor: Actor,
    conversationId: string,
    when: { at: string } | { nextDayAt: string; teamId?: string | null },
    note: string | null,
  ): Promise<ReminderView> {
    if (actor.type !== 'user') throw new ForbiddenError('reminders are for people (sign in as a user)');
    let timeZone: string | undefined;
    let at: Date;
    if ('nextDayAt' in when) {
      timeZone = await this.teamTimeZone(conversationId, when.teamId);
      at = new Date(nextDayAt(timeZone, this.clock.now().getTime(), when.nextDayAt));
    } else at = new Date(when.at);
    if (at.getTime() <= this.clock.now().getTime()) throw new ValidationError('at: must be in the future');
    return this.ds.transaction(async (em) => {
      const [row] = await em.query(`INSERT INTO sla.reminder (conversation_id, user_id, at, note) VALUES ($1, $2, $3, $4) RETURNING *`, [
        conversationId,
        actor.id,
        at,
        note,
      ]);
      await this.timers.schedule(em, 'reminder', conversationId, row.id, at);
      return timeZone ? { ...view(row), timeZone } : view(row);
    });
  }

  private async teamTimeZone(conversationId: string, knownTeamId?: string | null): Promise<string> {
    let teamId = knownTeamId;
    if (teamId === undefined) {
      const [c]: { team_id: string | null }[] = await this.ds.query(`SELECT team_id FROM sla.conversation WHERE conversation_id = $1`, [conversationId]);
      teamId = c?.team_id ?? null;
    }
    const id = teamId ? await this.admin.teamHoursId(this.ds.manager, teamId) : null;
    return (await this.admin.calendar(this.ds.manager, id))?.timeZone ?? 'UTC';
  }

  /**
   * Reminders are personal: a person lists their own, with notes. Admins and managers of the conversation's team
   * also see the others' (when and whether they fire, to plan cover), never their notes; anyone else only their own.
   */
  async list(actor: Actor, conversationId: string, knownTeamId?: string | null): Promise<ReminderView[]> {
    let teamId = knownTeamId;
    if (teamId === undefined) {
      const [c]: { team_id: string | null }[] = await this.ds.query(`SELECT team_id FROM sla.conversation WHERE conversation_id = $1`, [conversationId]);
      teamId = c?.team_id ?? null;
    }
    const oversees = actor.type === 'user' && (actor.role === 'admin' || (actor.role === 'manager' && teamId !== null && actor.teamIds.includes(teamId)));
    const rows: Record<string, any>[] = oversees
      ? await this.ds.query(`SELECT * FROM sla.reminder WHERE conversation_id = $1 ORDER BY at, created_at, id`, [conversationId])
      : await this.ds.query(`SELECT * FROM sla.reminder WHERE conversation_id = $1 AND user_id = $2 ORDER BY at, created_at, id`, [conversationId, actor.id]);
    return rows.map((r) => (r.user_id === actor.id ? view(r) : { ...view(r), note: null, noteHidden: true }));
  }

  async cancel(actor: Actor, conversationId: string, id: string): Promise<ReminderView> {
    return this.ds.transaction(async (em) => {
      const [row] = await em.query(`SELECT * FROM sla.reminder WHERE id = $1 AND conversation_id = $2 FOR UPDATE`, [id, conversationId]);
      if (!row) throw new NotFoundError(`reminder ${id} not found`);
      if (row.user_id !== actor.id && actor.role !== 'admin' && actor.role !== 'manager') throw new ForbiddenError('only its owner cancels a reminder');
      if (row.state !== 'pending') return view(row);
      const [[updated]] = await em.query(`UPDATE sla.reminder SET state = 'cancelled', cancelled_reason = 'cancelled' WHERE id = $1 RETURNING *`, [id]);
      await this.timers.cancel(em, conversationId, ['reminder'], id);
      return view(updated);
    });
  }
}

function view(r: Record<string, any>): ReminderView {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    userId: r.user_id,
    at: new Date(r.at).toISOString(),
    note: r.note,
    state: r.state,
    firedAt: r.fired_at ? new Date(r.fired_at).toISOString() : null,
    cancelledReason: r.cancelled_reason,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
