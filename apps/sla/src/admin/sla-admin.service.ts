import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import {
  type Actor,
  type BusinessHoursInput,
  type BusinessHoursView,
  type FollowUpRuleView,
  type SlaPolicyInput,
  type SlaPolicyView,
} from '@app/contracts';
import { ForbiddenError, NotFoundError, ValidationError } from '@app/messaging';
import { Clock } from '../clock/clock';
import { buildCalendar, CalendarError, type Calendar } from '../hours/calendar';
import { TimerRepository } from '../timers/timer.repository';

const iso = (d: Date | string) => new Date(d).toISOString();

/** Admins change everything; managers only their own teams' policies and rules (and may keep calendars). */
function requireManager(actor: Actor, teamId?: string): void {
  if (actor.role === 'admin') return;
  if (actor.role === 'manager' && (teamId === undefined || actor.teamIds.includes(teamId))) return;
  throw new ForbiddenError(teamId ? 'only admins and this team’s managers change its SLA settings' : 'only admins and managers change SLA settings');
}

function checkCalendar(h: BusinessHoursInput): Calendar {
  try {
    return buildCalendar(h);
  } catch (err) {
    if (err instanceof CalendarError) throw new ValidationError(err.message);
    throw err;
  }
}

/**
 * SLA policies, business-hours calendars and follow-up rules (the administration side of sla). A change of a policy
 * or of a calendar a policy uses re-evaluates the running clocks of the teams concerned (through resync timers).
 */
@Injectable()
export class SlaAdminService {
  constructor(
    private readonly ds: DataSource,
    private readonly timers: TimerRepository,
    private readonly clock: Clock,
  ) {}

  private resync(teamIds: string[]): Promise<void> {
    return this.timers.resyncTeams(this.ds.manager, [...new Set(teamIds)], this.clock.now());
  }

  // ---------------------------------------------------------------- business hours

  async createHours(actor: Actor, h: BusinessHoursInput): Promise<BusinessHoursView> {
    requireManager(actor);
    checkCalendar(h);
    const [row] = await this.ds.query(
      `INSERT INTO sla.business_hours (name, time_zone, weekly, holidays) VALUES ($1, $2, $3, $4) RETURNING *`,
      [h.name, h.timeZone, JSON.stringify(h.weekly), JSON.stringify(h.holidays)],
    );
    return hoursView(row);
  }

  async listHours(actor: Actor): Promise<BusinessHoursView[]> {
    requireManager(actor);
    return (await this.ds.query(`SELECT * FROM sla.business_hours ORDER BY name, id`)).map(hoursView);
  }

  async updateHours(actor: Actor, id: string, h: BusinessHoursInput): Promise<BusinessHoursView> {
    requireManager(actor);
    checkCalendar(h);
    const [rows] = await this.ds.query(
      `UPDATE sla.business_hours SET name = $2, time_zone = $3, weekly = $4, holidays = $5, updated_at = now() WHERE id = $1 RETURNING *`,
      [id, h.name, h.timeZone, JSON.stringify(h.weekly), JSON.stringify(h.holidays)],
    );
    if (!rows?.length) throw new NotFoundError(`business hours ${id} not found`);
    const teams: { team_id: string }[] = await this.ds.query(`SELECT DISTINCT team_id FROM sla.policy WHERE business_hours_id = $1`, [id]);
    await this.resync(teams.map((t) => t.team_id));
    return hoursView(rows[0]);
  }

  async deleteHours(actor: Actor, id: string): Promise<{ deleted: true }> {
    requireManager(actor);
    const used = await this.ds.query(`SELECT name FROM sla.policy WHERE business_hours_id = $1 LIMIT 3`, [id]);
    if (used.length) throw new ValidationError(`business hours ${id} are used by policies: ${used.map((p: { name: string }) => p.name).join(', ')}`);
    const [, n] = await this.ds.query(`DELETE FROM sla.business_hours WHERE id = $1`, [id]);
    if (!n) throw new NotFoundError(`business hours ${id} not found`);
    return { deleted: true };
  }

  /** The business-hours id a team's policies use (the policy without priority first); null = none. */
  async teamHoursId(em: EntityManager, teamId: string): Promise<string | null> {
    const [p] = await em.query(
      `SELECT business_hours_id FROM sla.policy WHERE team_id = $1 AND business_hours_id IS NOT NULL ORDER BY priority NULLS FIRST LIMIT 1`,
      [teamId],
    );
    return p?.business_hours_id ?? null;
  }

  /** The calendar by id (null = around the clock, also when it no longer exists). */
  async calendar(em: EntityManager, id: string | null): Promise<Calendar | null> {
    if (!id) return null;
    const [row] = await em.query(`SELECT time_zone, weekly, holidays FROM sla.business_hours WHERE id = $1`, [id]);
    return row ? buildCalendar({ timeZone: row.time_zone, weekly: row.weekly, holidays: row.holidays }) : null;
  }

  // ---------------------------------------------------------------- policies

  async createPolicy(actor: Actor, p: SlaPolicyInput): Promise<SlaPolicyView> {
    requireManager(actor, p.teamId);
    await this.checkHoursExist(p.businessHoursId ?? null);
    const rows = await this.ds.query(
      `INSERT INTO sla.policy (name, team_id, priority, first_response_minutes, next_response_minutes, resolution_minutes,
         business_hours_id, warn_at_percent, on_breach, raise_to, window_warning_minutes)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT DO NOTHING RETURNING *`,
      [
        p.name,
        p.teamId,
        p.priority ?? null,
        p.firstResponseMinutes,
        p.nextResponseMinutes ?? null,
        p.resolutionMinutes ?? null,
        p.businessHoursId ?? null,
        p.warnAtPercent ?? 80,
        p.onBreach ?? 'none',
        p.raiseTo ?? 'urgent',
        p.windowWarningMinutes ?? 120,
      ],
    );
    if (!rows.length) throw new ValidationError(`team ${p.teamId} already has a policy for ${p.priority ? `priority ${p.priority}` : 'every priority'}`);
    await this.resync([p.teamId]);
    return policyView(rows[0]);
  }

  async listPolicies(actor: Actor, teamId?: string): Promise<SlaPolicyView[]> {
    const rows = await this.ds.query(
      `SELECT * FROM sla.policy WHERE ($1::uuid IS NULL OR team_id = $1) AND ($2 OR team_id = ANY($3::uuid[])) ORDER BY team_id, priority NULLS FIRST`,
      [teamId ?? null, actor.role === 'admin', actor.teamIds],
    );
    return rows.map(policyView);
  }

  async updatePolicy(actor: Actor, id: string, patch: Partial<SlaPolicyInput>): Promise<SlaPolicyView> {
    const current = await this.getPolicy(id);
    requireManager(actor, current.teamId);
    if (patch.teamId) requireManager(actor, patch.teamId);
    const next = { ...current, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as SlaPolicyView;
    await this.checkHoursExist(next.businessHoursId);
    const rows = await this.ds
      .query(
        `UPDATE sla.policy SET name = $2, team_id = $3, priority = $4, first_response_minutes = $5, next_response_minutes = $6,
           resolution_minutes = $7, business_hours_id = $8, warn_at_percent = $9, on_breach = $10, raise_to = $11,
           window_warning_minutes = $12, updated_at = now()
         WHERE id = $1 RETURNING *`,
        [
          id,
          next.name,
          next.teamId,
          next.priority,
          next.firstResponseMinutes,
          next.nextResponseMinutes,
          next.resolutionMinutes,
          next.businessHoursId,
          next.warnAtPercent,
          next.onBreach,
          next.raiseTo,
          next.windowWarningMinutes,
        ],
      )
      .catch((err) => {
        if ((err as { code?: string }).code === '23505') throw new ValidationError('that team already has a policy for this priority');
        throw err;
      });
    await this.resync([current.teamId, next.teamId]);
    return policyView(rows[0][0]);
  }

  async deletePolicy(actor: Actor, id: string): Promise<{ deleted: true }> {
    const current = await this.getPolicy(id);
    requireManager(actor, current.teamId);
    await this.ds.query(`DELETE FROM sla.policy WHERE id = $1`, [id]);
    await this.resync([current.teamId]);
    return { deleted: true };
  }

  /** The team's policy for a priority, else its policy for every priority, else none. */
  async policyFor(em: EntityManager, teamId: string | null, priority: string): Promise<SlaPolicyView | null> {
    if (!teamId) return null;
    const [row] = await em.query(
      `SELECT * FROM sla.policy WHERE team_id = $1 AND (priority = $2 OR priority IS NULL) ORDER BY priority NULLS LAST LIMIT 1`,
      [teamId, priority],
    );
    return row ? policyView(row) : null;
  }

  private async getPolicy(id: string): Promise<SlaPolicyView> {
    const [row] = await this.ds.query(`SELECT * FROM sla.policy WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`policy ${id} not found`);
    return policyView(row);
  }

  private async checkHoursExist(id: string | null): Promise<void> {
    if (!id) return;
    const rows = await this.ds.query(`SELECT 1 FROM sla.business_hours WHERE id = $1`, [id]);
    if (!rows.length) throw new ValidationError(`businessHoursId: business hours ${id} do not exist`);
  }

  // ---------------------------------------------------------------- follow-up rules

  async createRule(actor: Actor, r: { teamId: string; afterMinutes: number; action: string; template?: unknown; maxTimes: number }): Promise<FollowUpRuleView> {
    requireManager(actor, r.teamId);
    const [row] = await this.ds.query(
      `INSERT INTO sla.follow_up_rule (team_id, after_minutes, action, template, max_times) VALUES ($1, $2, $3, $4, $5) RETURNING *`,
      [r.teamId, r.afterMinutes, r.action, r.template ? JSON.stringify(r.template) : null, r.maxTimes],
    );
    return ruleView(row);
  }

  async listRules(actor: Actor, teamId?: string): Promise<FollowUpRuleView[]> {
    const rows = await this.ds.query(
      `SELECT * FROM sla.follow_up_rule WHERE ($1::uuid IS NULL OR team_id = $1) AND ($2 OR team_id = ANY($3::uuid[])) ORDER BY created_at`,
      [teamId ?? null, actor.role === 'admin', actor.teamIds],
    );
    return rows.map(ruleView);
  }

  async deleteRule(actor: Actor, id: string): Promise<{ deleted: true }> {
    const [row] = await this.ds.query(`SELECT team_id FROM sla.follow_up_rule WHERE id = $1`, [id]);
    if (!row) throw new NotFoundError(`follow-up rule ${id} not found`);
    requireManager(actor, row.team_id);
    await this.ds.query(`DELETE FROM sla.follow_up_rule WHERE id = $1`, [id]);
    return { deleted: true };
  }
}

function hoursView(r: Record<string, any>): BusinessHoursView {
  return { id: r.id, name: r.name, timeZone: r.time_zone, weekly: r.weekly, holidays: r.holidays, createdAt: iso(r.created_at), updatedAt: iso(r.updated_at) };
}

export function policyView(r: Record<string, any>): SlaPolicyView {
  return {
    id: r.id,
    name: r.name,
    teamId: r.team_id,
    priority: r.priority,
    firstResponseMinutes: r.first_response_minutes,
    nextResponseMinutes: r.next_response_minutes,
    resolutionMinutes: r.resolution_minutes,
    businessHoursId: r.business_hours_id,
    warnAtPercent: r.warn_at_percent,
    onBreach: r.on_breach,
    raiseTo: r.raise_to,
    windowWarningMinutes: r.window_warning_minutes,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export function ruleView(r: Record<string, any>): FollowUpRuleView {
  return {
    id: r.id,
    teamId: r.team_id,
    afterMinutes: r.after_minutes,
    action: r.action,
    template: r.template ?? null,
    maxTimes: r.max_times,
    createdAt: iso(r.created_at),
  };
}
