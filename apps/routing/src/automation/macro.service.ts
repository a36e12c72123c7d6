import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { CreateMacroV1, DeleteMacroV1, ListMacrosV1, NoticeRequestedV1, RunMacroV1, UpdateMacroV1, type Actor, type Macro, type MacroStep, type RequestOf, type UserRef, type WorkState } from '@app/contracts';
import { Bus, BusError, currentCorrelationId, ForbiddenError, NotFoundError, ValidationError } from '@app/messaging';
import { OutboxWriter } from '@app/persistence';
import { WorkChangesService } from '../work/work-changes.service';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { AutomationSender } from './automation-sender';

type Row = { id: string; name: string; owner_id: string | null; steps: MacroStep[]; updated_at: string };
const toMacro = (r: Row): Macro => ({ id: r.id, name: r.name, ownerId: r.owner_id, steps: r.steps, updatedAt: new Date(r.updated_at).toISOString() });

/**
 * Macros: each step is one of routing's normal commands (WorkChangesService, the code the routing.* requests run)
 * with the agent as actor and the version read just before, so ownership, permissions and the audit trail are
 * exactly those of the agent clicking each action.
 */
@Injectable()
export class MacroService implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly changes: WorkChangesService,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditRepository,
    private readonly sender: AutomationSender,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([
      this.bus.respond(CreateMacroV1, (r) => this.create(r)),
      this.bus.respond(ListMacrosV1, (r) => this.list(r.actor)),
      this.bus.respond(RunMacroV1, (r) => this.run(r.actor, r.macroId, r.conversationId)),
      this.bus.respond(UpdateMacroV1, (r) => this.update(r)),
      this.bus.respond(DeleteMacroV1, (r) => this.remove(r.actor, r.macroId)),
    ]);
  }

  async create(r: RequestOf<typeof CreateMacroV1>): Promise<Macro> {
    if (r.shared && r.actor.role !== 'admin' && r.actor.role !== 'manager') throw new ForbiddenError('only admins and managers create shared macros');
    const rows = await this.ds.query(
      `INSERT INTO routing.macro (id, name, owner_id, created_by, steps) VALUES ($1, $2, $3, $4, $5) RETURNING id, name, owner_id, steps, updated_at`,
      [randomUUID(), r.name, r.shared ? null : r.actor.id, r.actor.id, JSON.stringify(r.steps)],
    );
    return toMacro(rows[0]);
  }

  async list(a: Actor): Promise<{ items: Macro[] }> {
    const rows: Row[] = await this.ds.query(
      `SELECT id, name, owner_id, steps, updated_at FROM routing.macro WHERE owner_id IS NULL OR owner_id = $1 ORDER BY lower(name), id`,
      [a.id],
    );
    return { items: rows.map(toMacro) };
  }

  /** Changes a macro the actor may change (audited with before/after). */
  async update(r: RequestOf<typeof UpdateMacroV1>): Promise<Macro> {
    return this.ds.transaction(async (em) => {
      const before = await this.lockChangeable(em, r.actor, r.macroId);
      if (r.shared === true && r.actor.role !== 'admin' && r.actor.role !== 'manager') throw new ForbiddenError('only admins and managers share macros');
      const ownerId = r.shared === undefined ? before.owner_id : r.shared ? null : (before.owner_id ?? r.actor.id);
      const [updated] = (await em.query(
        `UPDATE routing.macro SET name = $2, owner_id = $3, steps = $4, updated_at = now() WHERE id = $1 RETURNING id, name, owner_id, steps, updated_at`,
        [r.macroId, r.name ?? before.name, ownerId, JSON.stringify(r.steps ?? before.steps)],
      )) as [Row[], number]; // UPDATE … RETURNING: [rows, count]
      const after = toMacro(updated[0]);
      await this.record(em, r.actor, 'macro.updated', toMacro(before), after);
      return after;
    });
  }

  /** Deletes a macro the actor may change (audited). */
  async remove(a: Actor, macroId: string): Promise<{ deleted: true }> {
    return this.ds.transaction(async (em) => {
      const before = await this.lockChangeable(em, a, macroId);
      await em.query(`DELETE FROM routing.macro WHERE id = $1`, [macroId]);
      await this.record(em, a, 'macro.deleted', toMacro(before), null);
      return { deleted: true as const };
    });
  }

  /**
   * A personal macro only for its owner (anyone else: not found); a shared one for admins, and for managers when it
   * is their teams' (a macro has no team of its own: it belongs to the teams of whoever created it, so a manager
   * changes shared macros they or a member of one of their teams created; others are 403).
   */
  private async lockChangeable(em: EntityManager, a: Actor, macroId: string): Promise<Row> {
    const rows: Array<Row & { teams_ok: boolean }> = await em.query(
      `SELECT id, name, owner_id, steps, updated_at,
              (created_by = $2 OR EXISTS (SELECT 1 FROM routing.agent_team t WHERE t.user_id::text = created_by AND t.team_id::text = ANY($3::text[]))) AS teams_ok
         FROM routing.macro WHERE id = $1 FOR UPDATE`,
      [macroId, a.id, a.teamIds],
    );
    const m = rows[0];
    if (!m || (m.owner_id !== null && m.owner_id !== a.id)) throw new NotFoundError('no such macro');
    if (m.owner_id === null && a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers change shared macros');
    if (m.owner_id === null && a.role === 'manager' && !m.teams_ok) throw new ForbiddenError('managers change only shared macros of their teams');
    return { id: m.id, name: m.name, owner_id: m.owner_id, steps: m.steps, updated_at: m.updated_at };
  }

  private record(em: EntityManager, a: Actor, action: string, before: unknown, after: unknown): Promise<void> {
    return this.audit.append(em, {
      conversationId: null,
      teamId: null,
      actor: { type: a.type, id: a.id, name: a.name },
      action,
      before,
      after,
      requestId: currentCorrelationId() ?? null,
    });
  }

  async run(a: Actor, macroId: string, conversationId: string): Promise<{ state: WorkState; steps: Array<{ type: string; changed: boolean }> }> {
    const rows: Row[] = await this.ds.query(`SELECT id, name, owner_id, steps, updated_at FROM routing.macro WHERE id = $1`, [macroId]);
    const macro = rows[0];
    if (!macro || (macro.owner_id !== null && macro.owner_id !== a.id)) throw new NotFoundError('no such macro');
    const done: Array<{ type: string; changed: boolean }> = [];
    let state: WorkState | null = null;
    const runId = randomUUID();
    for (const [i, step] of macro.steps.entries()) {
      const w = await this.work.find(this.ds.manager, conversationId);
      if (!w) throw new NotFoundError('conversation not found');
      try {
        state = step.type === 'sendCanned' ? await this.sendCanned(a, w, step.cannedResponseId, macro, `macro:${macro.id}:${runId}:${i}`) : await this.step(a, w, step);
      } catch (err) {
        if (err instanceof BusError) err.message = `macro “${macro.name}”, step ${i + 1} (${step.type}): ${err.message}`;
        throw err;
      }
      done.push({ type: step.type, changed: state.version !== w.version || step.type === 'note' || step.type === 'notify' || step.type === 'sendCanned' });
    }
    return { state: state!, steps: done };
  }

  /**
   * A macro's canned reply, as the agent running it: filled first (a missing placeholder changes nothing), then
   * notifications checks the send (check-send: window, body; a refusal claims nothing), then the agent's reply check
   * (visible; the owner, or an unassigned conversation they claim; else CONFLICT naming the owner), then the send,
   * audited naming the macro. Residual: a window closing between the check and the send still refuses after a claim.
   */
  private async sendCanned(a: Actor, w: WorkState, cannedResponseId: string, macro: Row, idempotencyKey: string): Promise<WorkState> {
    const text = await this.sender.cannedText(cannedResponseId, w, a.type === 'user' ? a.id : null);
    const send = {
      work: w,
      action: { type: 'sendCanned' as const, cannedResponseId },
      idempotencyKey,
      actor: a,
      sender: { id: a.type === 'user' ? a.id : null, name: a.name ?? `Macro: ${macro.name}` },
      agentId: a.type === 'user' ? a.id : null,
      by: { kind: 'macro' as const, id: macro.id, name: macro.name },
    };
    const request = await this.sender.request(send, text);
    await this.sender.check(request);
    const { state } = await this.changes.prepareReply(a, w.conversationId, w.version);
    await this.sender.send({ ...send, work: state }, text, request);
    return state;
  }

  /**
   * The person an `assign` step names, as routing's agent projection knows them (role, teams, active): unknown or
   * deactivated people are refused (VALIDATION) instead of being made owners.
   */
  async assignee(agentId: string): Promise<UserRef> {
    const rows: Array<{ role: UserRef['role']; active: boolean; team_ids: string[] }> = await this.ds.query(
      `SELECT a.role, a.active, coalesce((SELECT array_agg(m.team_id) FROM routing.agent_team m WHERE m.user_id = a.user_id), '{}') AS team_ids
         FROM routing.agent a WHERE a.user_id = $1`,
      [agentId],
    );
    const agent = rows[0];
    if (!agent) throw new ValidationError(`assign: user ${agentId} is not known to routing (never projected from the directory)`, { field: 'agentId' });
    if (!agent.active) throw new ValidationError(`assign: user ${agentId} is deactivated`, { field: 'agentId' });
    return { id: agentId, role: agent.role, teamIds: agent.team_ids };
  }

  /** One step as that actor on the state just read (also the automation rules' actions). */
  async step(a: Actor, w: WorkState, s: MacroStep): Promise<WorkState> {
    const id = w.conversationId;
    switch (s.type) {
      case 'addLabels':
        return this.changes.setLabels(a, id, w.version, [...w.labels, ...s.labels]);
      case 'removeLabels':
        return this.changes.setLabels(a, id, w.version, w.labels.filter((l) => !s.labels.includes(l)));
      case 'setPriority':
        return this.changes.setPriority(a, id, w.version, s.priority);
      case 'setStatus':
        return this.changes.setStatus(a, { actor: a, conversationId: id, version: w.version, status: s.status });
      case 'snooze':
        return this.changes.setStatus(a, { actor: a, conversationId: id, version: w.version, status: 'snoozed', snoozeUntil: new Date(Date.now() + s.minutes * 60_000).toISOString() });
      case 'handoff':
        return this.changes.handoff(a, { actor: a, conversationId: id, version: w.version, toTeamId: s.toTeamId, note: s.note });
      case 'assign':
        return this.changes.assign(a, { actor: a, conversationId: id, version: w.version, assignee: await this.assignee(s.agentId) });
      case 'note':
        await this.changes.addNote(a, id, s.body, [], w.version);
        return w;
      case 'notify':
        await this.ds.transaction((em) =>
          this.outbox.add(em, NoticeRequestedV1, {
            eventId: randomUUID(),
            occurredAt: new Date().toISOString(),
            kind: 'system',
            audience: { userIds: s.userIds, teamManagersOf: s.teamManagers ? w.teamId : null },
            conversationId: id,
            title: s.title,
            body: null,
            data: { by: a.id },
            source: 'routing',
          }),
        );
        return w;
      case 'sendCanned':
        throw new ValidationError('a canned reply is sent by a macro run or a rule, not as a single step');
    }
  }
}
