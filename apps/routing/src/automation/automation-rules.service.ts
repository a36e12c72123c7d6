import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { z } from 'zod';
import {
  AUTOMATION_MAX_DEPTH,
  BusinessHoursStateV1,
  ConversationOpenedV1,
  ConversationWorkChangedV1,
  AutomationRuleInput,
  defineEvent,
  CreateAutomationRuleV1,
  DeleteAutomationRuleV1,
  describeIssues,
  DryRunAutomationV1,
  UpdateAutomationRuleV1,
  ListAutomationRulesV1,
  MessageReceivedV1,
  SetAutomationRuleEnabledV1,
  SlaEscalatedV1,
  AutomationTriggeredV1,
  type AutomationAction,
  type Actor,
  type AutomationEvent,
  type AutomationRule,
  type MacroStep,
  type RequestOf,
  type WorkState,
} from '@app/contracts';
import { Bus, ConflictError, currentCorrelationId, ForbiddenError, NotFoundError, ValidationError, runWithContext, type EventMeta } from '@app/messaging';
import { RoutingClock } from '../assignment/clock';
import { containsKeyword } from '../assignment/rules';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { WorkChangesService } from '../work/work-changes.service';
import { OutboxWriter } from '@app/persistence';
import { MacroService } from './macro.service';
import { AutomationSender, isMessageAction } from './automation-sender';
import { ReplicaCopy } from './replica-copy';

/** What running a rule needs (not its counters: they change on every run). */
export type RunnableRule = Pick<AutomationRule, 'id' | 'name' | 'event' | 'conditions' | 'actions'>;

const COLS = 'id, position, name, event, conditions, actions, enabled, run_count, error_count, last_error, loops_stopped';
const toRule = (r: Record<string, any>): AutomationRule => ({
  id: r.id,
  position: r.position,
  name: r.name,
  event: r.event,
  conditions: r.conditions,
  actions: r.actions,
  enabled: r.enabled,
  runCount: r.run_count,
  errorCount: r.error_count,
  lastError: r.last_error,
  loopsStopped: r.loops_stopped,
});

/** What happened, as the rules see it. */
interface Happening {
  event: AutomationEvent;
  /** Identifies the trigger (its event id): a redelivery sends the same messages with the same idempotency keys. */
  key?: string;
  conversationId: string;
  text?: string;
  label?: string;
}

/**
 * What automation reads of the events it consumes: the same subjects, but zod checks only these fields, so the many
 * deliveries it ignores (two work changes per assignment, every opening when no rule has that trigger) cost little.
 */
const uuid = z.string().uuid();
const OpenedForAutomation = defineEvent({
  ...ConversationOpenedV1,
  schema: z.object({ eventId: uuid, conversationId: uuid, message: z.object({ text: z.string() }).optional() }),
});
const MessageForAutomation = defineEvent({
  ...MessageReceivedV1,
  schema: z.object({ eventId: uuid, conversationId: uuid, direction: z.string(), origin: z.string(), text: z.string() }),
});
const WorkChangeForAutomation = defineEvent({
  ...ConversationWorkChangedV1,
  schema: z.object({ eventId: uuid, action: z.string(), state: z.object({ conversationId: uuid, version: z.number().int(), labels: z.array(z.string()) }) }),
});

/** `automation:<ruleId>,<ruleId>…:<uuid>`: the rules whose actions caused this event (none for other events). */
const CHAIN = /^automation:([0-9a-f,-]+):/;
export function chainOf(correlationId: string | undefined): string[] {
  const m = correlationId ? CHAIN.exec(correlationId) : null;
  return m ? m[1].split(',') : [];
}

/** The events a rule's actions can cause (for the cycle check). */
type Produced = { event: AutomationEvent; label?: string; status?: string };
function produces(actions: AutomationAction[]): Produced[] {
  return actions.flatMap((a): Produced[] =>
    a.type === 'addLabels' ? a.labels.map((label) => ({ event: 'label.added' as const, label })) : a.type === 'setStatus' ? [{ event: 'status.changed' as const, status: a.status }] : [],
  );
}
function mayTrigger(from: Pick<AutomationRule, 'actions'>, to: Pick<AutomationRule, 'event' | 'conditions'>): boolean {
  return produces(from.actions).some(
    (p) =>
      p.event === to.event &&
      (!p.label || !to.conditions.labels || to.conditions.labels.some((l) => l.toLowerCase() === p.label!.toLowerCase())) &&
      (!p.status || !to.conditions.statuses || (to.conditions.statuses as string[]).includes(p.status)),
  );
}

/**
 * Automation rules, run where the work state is. Each action is routing's normal command (the macro steps) as the
 * system actor `automation:<ruleId>` under a correlation id carrying the causing chain, so the audit entry names
 * the rule and the events it causes carry the chain: a rule never runs twice in one chain and a chain stops at
 * AUTOMATION_MAX_DEPTH (counted as `loopsStopped`). A failing rule is logged and counted, never blocks others.
 */
@Injectable()
export class AutomationRulesService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('Automation');
  private idleTimer?: NodeJS.Timeout;
  private sweeps: Promise<number> = Promise.resolve(0);
  /**
   * The enabled rules by trigger, this replica's copy (dropped on every rule write on any replica): in an assignment
   * burst every conversation brings three automation deliveries, and one whose trigger no rule has costs no SQL.
   */
  readonly enabledRules: ReplicaCopy<Map<AutomationEvent, RunnableRule[]>>;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly macros: MacroService,
    private readonly clock: RoutingClock,
    private readonly outbox: OutboxWriter,
    private readonly audit: AuditRepository,
    private readonly sender: AutomationSender,
    private readonly changes: WorkChangesService,
  ) {
    this.enabledRules = new ReplicaCopy('automation-rules', bus, async () => {
      const rows: RunnableRule[] = await ds.query(`SELECT id, name, event, conditions, actions FROM routing.automation_rule WHERE enabled ORDER BY position, id`);
      const byEvent = new Map<AutomationEvent, RunnableRule[]>();
      for (const rule of rows) {
        const list = byEvent.get(rule.event);
        if (list) list.push(rule);
        else byEvent.set(rule.event, [rule]);
      }
      return byEvent;
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.enabledRules.start(); // before the consumers: no event runs on a copy that misses a change
    await Promise.all([
      this.bus.respond(CreateAutomationRuleV1, (r) => this.create(r)),
      this.bus.respond(ListAutomationRulesV1, (r) => this.list(r.actor)),
      this.bus.respond(SetAutomationRuleEnabledV1, (r) => this.setEnabled(r.actor, r.ruleId, r.enabled)),
      this.bus.respond(UpdateAutomationRuleV1, (r) => this.update(r)),
      this.bus.respond(DeleteAutomationRuleV1, (r) => this.remove(r.actor, r.ruleId)),
      this.bus.respond(DryRunAutomationV1, (r) => this.dryRun(r)),
    ]);
    await this.bus.consume(OpenedForAutomation, { durable: 'routing-automation-opened', concurrency: 4 }, (e, meta) =>
      this.handle({ event: 'conversation.opened', key: e.eventId, conversationId: e.conversationId, text: e.message?.text }, meta, true),
    );
    await this.bus.consume(MessageForAutomation, { durable: 'routing-automation-messages', concurrency: 4 }, async (e, meta) => {
      if (e.direction === 'inbound' && e.origin === 'customer') await this.handle({ event: 'message.received', key: e.eventId, conversationId: e.conversationId, text: e.text }, meta, true);
    });
    this.idleTimer = setInterval(() => {
      this.sweepIdle().catch((err) => this.log.warn(`idle sweep failed: ${(err as Error).message}`));
    }, 5_000);
    this.idleTimer.unref();
    await this.bus.consume(SlaEscalatedV1, { durable: 'routing-automation-sla', concurrency: 4 }, async (e, meta) => {
      if (e.level === 'warning' || e.level === 'breach') await this.handle({ event: `sla.${e.level}`, key: e.eventId, conversationId: e.conversationId }, meta, false);
    });
    await this.bus.consume(WorkChangeForAutomation, { durable: 'routing-automation-work', concurrency: 4 }, async (e, meta) => {
      if (e.action.startsWith('conversation.status.')) await this.handle({ event: 'status.changed', key: e.eventId, conversationId: e.state.conversationId }, meta, false);
      else if (e.action === 'conversation.labels' && (await this.rulesFor('label.added')).length) {
        const rows = await this.ds.query(
          `SELECT before->'labels' AS labels FROM routing.audit_entry
           WHERE conversation_id = $1 AND action = 'conversation.labels' AND (after->>'version')::int = $2 LIMIT 1`,
          [e.state.conversationId, e.state.version],
        );
        const before: string[] = rows[0]?.labels ?? [];
        for (const label of e.state.labels.filter((l) => !before.includes(l)))
          await this.handle({ event: 'label.added', key: `${e.eventId}:${label}`, conversationId: e.state.conversationId, label }, meta, false);
      }
    });
  }

  private mayManage(a: Actor, conditions: AutomationRule['conditions']): boolean {
    return a.role === 'admin' || (a.role === 'manager' && !!conditions.teamIds?.length && conditions.teamIds.every((t) => a.teamIds.includes(t)));
  }

  async create(r: RequestOf<typeof CreateAutomationRuleV1>): Promise<AutomationRule> {
    if (!this.mayManage(r.actor, r.rule.conditions)) throw new ForbiddenError('admins manage automation rules; managers those whose conditions name only their teams');
    const id = randomUUID();
    return this.exclusively(async (em, all) => {
      const rules = all.filter((x) => x.enabled);
      const candidate = { id, ...r.rule } as AutomationRule;
      const cycle = r.rule.enabled ? this.findCycle(candidate, [...rules, candidate]) : null;
      if (cycle) throw new ValidationError(`these rules would trigger each other endlessly: ${cycle.join(' → ')}`);
      const rows = await em.query(
        `INSERT INTO routing.automation_rule (id, position, name, event, conditions, actions, enabled, created_by)
         VALUES ($1, (SELECT COALESCE(MAX(position), 0) + 1 FROM routing.automation_rule), $2, $3, $4, $5, $6, $7) RETURNING ${COLS}`,
        [id, r.rule.name, r.rule.event, JSON.stringify(r.rule.conditions), JSON.stringify(r.rule.actions), r.rule.enabled, r.actor.id],
      );
      return toRule(rows[0]);
    });
  }

  /**
   * Rule writes one at a time (a transaction-scoped advisory lock; rules are global, so one key): the rules are read,
   * checked (cycles) and written in that transaction, so two concurrent edits cannot each pass the cycle check
   * against the other's old version and together store a loop.
   */
  private async exclusively<T>(fn: (em: EntityManager, rules: AutomationRule[]) => Promise<T>): Promise<T> {
    const result = await this.ds.transaction(async (em) => {
      await em.query(`SELECT pg_advisory_xact_lock(hashtext('routing.automation_rule'))`);
      const rules = (await em.query(`SELECT ${COLS} FROM routing.automation_rule ORDER BY position, id`)).map(toRule);
      return fn(em, rules);
    });
    // committed: every replica reads the rules again for its next event (before this answer goes out)
    this.enabledRules.changed();
    return result;
  }

  /** A path of rule names from the candidate back to itself, or null. */
  private findCycle(start: AutomationRule, rules: AutomationRule[]): string[] | null {
    const seen = new Set<string>();
    const walk = (r: AutomationRule, path: string[]): string[] | null => {
      for (const next of rules.filter((n) => mayTrigger(r, n))) {
        if (next.id === start.id) return [...path, next.name];
        if (seen.has(next.id)) continue;
        seen.add(next.id);
        const found = walk(next, [...path, next.name]);
        if (found) return found;
      }
      return null;
    };
    return walk(start, [start.name]);
  }

  private async all(): Promise<AutomationRule[]> {
    return (await this.ds.query(`SELECT ${COLS} FROM routing.automation_rule ORDER BY position, id`)).map(toRule);
  }

  async list(a: Actor): Promise<{ items: AutomationRule[] }> {
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers see automation rules');
    return { items: await this.all() };
  }

  async setEnabled(a: Actor, ruleId: string, enabled: boolean): Promise<AutomationRule> {
    return this.exclusively(async (em, all) => {
      const rule = all.find((x) => x.id === ruleId);
      if (!rule) throw new NotFoundError('no such automation rule');
      if (!this.mayManage(a, rule.conditions)) throw new ForbiddenError('managers change only rules of their teams');
      if (enabled && !rule.enabled) {
        const cycle = this.findCycle(rule, [...all.filter((x) => x.enabled), rule]);
        if (cycle) throw new ValidationError(`these rules would trigger each other endlessly: ${cycle.join(' → ')}`);
      }
      const [rows] = await em.query(`UPDATE routing.automation_rule SET enabled = $2 WHERE id = $1 RETURNING ${COLS}`, [ruleId, enabled]); // UPDATE: [rows, count]
      return toRule(rows[0]);
    });
  }

  /** Changes any fields of a rule: the result is checked like a new rule (fields, permissions, cycles). Audited. */
  async update(r: RequestOf<typeof UpdateAutomationRuleV1>): Promise<AutomationRule> {
    return this.exclusively(async (em, rules) => {
      const before = rules.find((x) => x.id === r.ruleId);
      if (!before) throw new NotFoundError('no such automation rule');
      if (!this.mayManage(r.actor, before.conditions)) throw new ForbiddenError('managers change only rules of their teams');
      const { name, event, conditions, actions, enabled } = before;
      const parsed = AutomationRuleInput.safeParse({ name, event, conditions, actions, enabled, ...r.patch });
      if (!parsed.success) throw new ValidationError(describeIssues(parsed.error.issues), parsed.error.issues);
      const next = parsed.data;
      if (!this.mayManage(r.actor, next.conditions)) throw new ForbiddenError('managers may only make rules whose conditions name only their teams');
      const candidate = { ...before, ...next } as AutomationRule;
      if (next.enabled) {
        const cycle = this.findCycle(candidate, [...rules.filter((x) => x.enabled && x.id !== before.id), candidate]);
        if (cycle) throw new ValidationError(`these rules would trigger each other endlessly: ${cycle.join(' → ')}`);
      }
      const [rows] = await em.query(
        `UPDATE routing.automation_rule SET name = $2, event = $3, conditions = $4, actions = $5, enabled = $6 WHERE id = $1 RETURNING ${COLS}`,
        [before.id, next.name, next.event, JSON.stringify(next.conditions), JSON.stringify(next.actions), next.enabled],
      ); // UPDATE: [rows, count]
      if (!rows[0]) throw new NotFoundError('no such automation rule');
      const after = toRule(rows[0]);
      await this.record(em, r.actor, 'automation.rule.updated', after, before, after);
      return after;
    });
  }

  /** Deletes a rule (same permissions as changing it). Audited. */
  async remove(a: Actor, ruleId: string): Promise<{ deleted: true }> {
    return this.exclusively(async (em, rules) => {
      const before = rules.find((x) => x.id === ruleId);
      if (!before) throw new NotFoundError('no such automation rule');
      if (!this.mayManage(a, before.conditions)) throw new ForbiddenError('managers delete only rules of their teams');
      const [, count] = await em.query(`DELETE FROM routing.automation_rule WHERE id = $1`, [ruleId]);
      if (!count) throw new NotFoundError('no such automation rule');
      await this.record(em, a, 'automation.rule.deleted', before, before, null);
      return { deleted: true as const };
    });
  }

  /** A rule change in the audit trail (no conversation; the rule's first team, so its managers see it). */
  private record(em: EntityManager, a: Actor, action: string, rule: AutomationRule, before: unknown, after: unknown): Promise<void> {
    return this.audit.append(em, {
      conversationId: null,
      teamId: rule.conditions.teamIds?.[0] ?? null,
      actor: { type: a.type, id: a.id, name: a.name },
      action,
      before,
      after,
      requestId: currentCorrelationId() ?? null,
    });
  }

  private matches(rule: RunnableRule, w: WorkState & { routeContextAttributes?: Record<string, string> }, h: Happening): boolean {
    const c = rule.conditions;
    if (c.teamIds && (!w.teamId || !c.teamIds.includes(w.teamId))) return false;
    if (c.priorities && !c.priorities.includes(w.priority)) return false;
    if (c.statuses && !(c.statuses as string[]).includes(w.status)) return false;
    if (c.labels) {
      const want = c.labels.map((l) => l.toLowerCase());
      const have = h.event === 'label.added' ? [h.label ?? ''] : w.labels;
      if (!have.some((l) => want.includes(l.toLowerCase()))) return false;
    }
    if (c.keywords && !c.keywords.some((k) => containsKeyword(h.text ?? '', k))) return false;
    if (c.contactAttributes) {
      const attrs = w.routeContextAttributes ?? {};
      if (!Object.entries(c.contactAttributes).every(([k, v]) => (attrs[k] ?? '').toLowerCase() === v.toLowerCase())) return false;
    }
    return true;
  }

  /** The business-hours condition (asked of sla; throws when sla does not answer: the rule fails and is counted). */
  private async hoursMatch(rule: RunnableRule, w: WorkState): Promise<boolean> {
    if (!rule.conditions.businessHours) return true;
    const s = await this.bus.request(BusinessHoursStateV1, { teamId: w.teamId ?? undefined, at: new Date().toISOString() });
    return (s.open ? 'open' : 'closed') === rule.conditions.businessHours;
  }

  async dryRun(r: RequestOf<typeof DryRunAutomationV1>) {
    if (r.actor.role !== 'admin' && r.actor.role !== 'manager') throw new ForbiddenError('only admins and managers dry-run automation rules');
    const w = await this.work.find(this.ds.manager, r.conversationId);
    if (!w) throw new NotFoundError('conversation not found');
    const h: Happening = { event: r.event, conversationId: r.conversationId, text: r.text, label: r.label };
    const ctx = Object.assign(w, { routeContextAttributes: await this.attributesOf(r.conversationId) });
    const candidates = (await this.all()).filter((x) => x.enabled && x.event === r.event && this.matches(x, ctx, h));
    const matches: AutomationRule[] = [];
    for (const x of candidates) if (await this.hoursMatch(x, w)) matches.push(x);
    return { matches: matches.map((x) => ({ ruleId: x.id, name: x.name, actions: x.actions })) };
  }

  onApplicationShutdown(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.enabledRules.stop();
  }

  /**
   * Idle rules: open conversations without activity for the rule's minutes. The INSERT claims each (rule,
   * conversation, quiet since) once, so replicas never both run it and a conversation fires again only after new
   * activity. Returns how many ran.
   */
  sweepIdle(): Promise<number> {
    // one sweep at a time per process (a caller waits for the one in flight, then sweeps)
    this.sweeps = this.sweeps.catch(() => 0).then(() => this.sweepIdleNow());
    return this.sweeps;
  }

  private async sweepIdleNow(): Promise<number> {
    const rules = (await this.ds.query(`SELECT ${COLS} FROM routing.automation_rule WHERE enabled AND event = 'conversation.idle' ORDER BY position, id`)).map(toRule);
    let ran = 0;
    for (const rule of rules) {
      const cutoff = new Date(this.clock.now().getTime() - rule.conditions.idleMinutes! * 60_000);
      const claimed: Array<{ conversation_id: string; activity_at: Date }> = await this.ds.query(
        `INSERT INTO routing.automation_idle (rule_id, conversation_id, activity_at)
         SELECT $1, w.conversation_id, w.activity_at FROM routing.conversation_work w
          WHERE w.status = 'open' AND w.activity_at < $2 AND ($3::uuid[] IS NULL OR w.team_id = ANY($3::uuid[]))
            AND NOT EXISTS (SELECT 1 FROM routing.automation_idle i
                             WHERE i.rule_id = $1 AND i.conversation_id = w.conversation_id AND i.activity_at = w.activity_at)
          ORDER BY w.activity_at LIMIT 200
         ON CONFLICT DO NOTHING RETURNING conversation_id, activity_at`,
        [rule.id, cutoff, rule.conditions.teamIds ?? null],
      );
      for (const c of claimed) {
        await this.handle({ event: 'conversation.idle', key: new Date(c.activity_at).toISOString(), conversationId: c.conversation_id }, undefined, false, rule);
        ran++;
      }
    }
    return ran;
  }

  /** The contact's attributes as the routing rules saw them at the opening. */
  private async attributesOf(conversationId: string): Promise<Record<string, string>> {
    const rows = await this.ds.query(`SELECT route_context #> '{contact,attributes}' AS a FROM routing.conversation_work WHERE conversation_id = $1`, [conversationId]);
    return rows[0]?.a ?? {};
  }

  /**
   * A rule's `assign`: routing's audited assign command (AssignV1's code) as the rule, so the audit entry names it.
   * Choice: a rule does not override availability as a manager may — an offline person, or one at their own or
   * the team's capacity (checked under lock in the same transaction), is not assigned; the action is skipped and
   * counted on the rule (errorCount/lastError). An away person (idle, still signed in) is assigned.
   */
  private async assign(actor: Actor, w: WorkState, agentId: string): Promise<void> {
    const rows: Array<{ status: string }> = await this.ds.query(`SELECT status FROM routing.agent WHERE user_id = $1`, [agentId]);
    if (rows[0]?.status === 'offline') throw new ConflictError(`user ${agentId} is offline; not assigned`);
    const assignee = await this.macros.assignee(agentId);
    try {
      await this.changes.assign(actor, { actor, conversationId: w.conversationId, version: w.version, assignee }, { withinCapacity: true });
    } catch (err) {
      const d = (err as ConflictError).details as { reason?: string; open?: number; max?: number } | undefined;
      if (err instanceof ConflictError && d?.reason === 'capacity') throw new ConflictError(`user ${agentId} has ${d.open} open conversations (maximum ${d.max}); not assigned`);
      throw err;
    }
  }

  /** The enabled rules with this trigger, in order (position, id). */
  async rulesFor(event: AutomationEvent): Promise<RunnableRule[]> {
    return (await this.enabledRules.get()).get(event) ?? [];
  }

  /**
   * Runs every matching enabled rule in order (`only`: just that one, as the idle sweep read it); `waitForWork`: the
   * work item may not exist yet (redelivered). With no enabled rule for the trigger it touches nothing.
   */
  async handle(h: Happening, meta: EventMeta | undefined, waitForWork: boolean, only?: RunnableRule): Promise<void> {
    const rules = only ? [only] : await this.rulesFor(h.event);
    if (!rules.length) return;
    const w = await this.work.find(this.ds.manager, h.conversationId);
    if (!w) {
      if (waitForWork) throw new Error(`conversation ${h.conversationId} has no work item yet`);
      return;
    }
    const ctx = Object.assign(w, { routeContextAttributes: await this.attributesOf(h.conversationId) });
    const chain = chainOf(meta?.correlationId);
    for (const rule of rules) {
      if (!this.matches(rule, ctx, h)) continue;
      if (chain.includes(rule.id) || chain.length >= AUTOMATION_MAX_DEPTH) {
        this.log.warn(`automation rule ${rule.id} not run: it is already in this chain (${chain.join(' → ')}) or the chain is too long`);
        await this.ds.query(`UPDATE routing.automation_rule SET loops_stopped = loops_stopped + 1 WHERE id = $1`, [rule.id]);
        continue;
      }
      const actor: Actor = { type: 'system', id: `automation:${rule.id}`, name: `Automation: ${rule.name}`.slice(0, 200), role: 'admin', teamIds: [] };
      const skips: string[] = [];
      try {
        if (!(await this.hoursMatch(rule, w))) continue;
        await runWithContext({ correlationId: `automation:${[...chain, rule.id].join(',')}:${randomUUID()}` }, async () => {
          for (const [i, action] of rule.actions.entries()) {
            if (action.type === 'webhook') {
              const now = (await this.work.find(this.ds.manager, h.conversationId))!;
              await this.ds.transaction((em) =>
                this.outbox.add(em, AutomationTriggeredV1, {
                  eventId: randomUUID(),
                  occurredAt: new Date().toISOString(),
                  conversationId: h.conversationId,
                  ruleId: rule.id,
                  ruleName: rule.name,
                  name: action.name,
                  trigger: h.event,
                  teamId: now.teamId,
                  ownerId: now.ownerId,
                }),
              );
              continue;
            }
            if (isMessageAction(action)) {
              const now = (await this.work.find(this.ds.manager, h.conversationId))!;
              await this.sender.send({
                work: now,
                action,
                idempotencyKey: `automation:${rule.id}:${h.key ?? randomUUID()}:${i}`,
                actor,
                sender: { id: null, name: actor.name! },
                agentId: now.ownerId,
                by: { kind: 'rule', id: rule.id, name: rule.name },
              });
              continue;
            }
            const now = await this.work.find(this.ds.manager, h.conversationId);
            if (action.type === 'assign') {
              // skipped (not assigned anyway) when the person is offline or at capacity: counted, the next actions run
              const skipped = await this.assign(actor, now!, action.agentId).catch((err: Error) => err.message);
              if (skipped) skips.push(`action ${i + 1} (assign): ${skipped}`);
              continue;
            }
            await this.macros.step(actor, now!, action);
          }
        });
        if (skips.length) {
          this.log.warn(`automation rule ${rule.id} (${rule.name}) on ${h.conversationId}: ${skips.join('; ')}`);
          await this.ds.query(`UPDATE routing.automation_rule SET error_count = error_count + 1, last_error = $2 WHERE id = $1`, [rule.id, skips.join('; ').slice(0, 500)]);
        }
        await this.ds.query(`UPDATE routing.automation_rule SET run_count = run_count + 1 WHERE id = $1`, [rule.id]);
      } catch (err) {
        const message = (err as Error).message;
        this.log.warn(`automation rule ${rule.id} (${rule.name}) failed on ${h.conversationId}: ${message}`);
        await this.ds.query(`UPDATE routing.automation_rule SET error_count = error_count + 1, last_error = $2 WHERE id = $1`, [rule.id, message.slice(0, 500)]);
      }
    }
  }
}
