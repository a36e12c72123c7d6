import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ROUTING_CONFIG, type RoutingConfig } from '../config';
import { SYSTEM_ACTOR } from '../work/record-change';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { AgentRepository, TeamRoutingRepository } from './assignment.repository';
import { AssignmentService } from './assignment.service';
import { RoutingClock } from './clock';

/**
 * Drains team queues in the background: `kick(teamIds)` starts a drain of each team at once (or right after the
 * one running), so an agent coming online or freeing capacity gets the next conversation without waiting.
 */
@Injectable()
export class QueueDrainer implements BeforeApplicationShutdown {
  private readonly log = new Logger('QueueDrainer');
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private stopped = false;

  constructor(private readonly assignment: AssignmentService) {}

  kick(teamIds: (string | null | undefined)[]): void {
    for (const t of new Set(teamIds)) if (t) this.start(t);
  }

  private start(teamId: string): void {
    if (this.stopped) return;
    if (this.running.has(teamId)) {
      this.again.add(teamId);
      return;
    }
    const p = this.assignment
      .drain(teamId)
      .then(() => undefined)
      .catch((err) => this.log.warn(`draining the queue of team ${teamId} failed, will retry: ${(err as Error).message}`))
      .finally(() => {
        this.running.delete(teamId);
        if (this.again.delete(teamId)) this.start(teamId);
      });
    this.running.set(teamId, p);
  }

  /** Resolves when no drain runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size) await Promise.all([...this.running.values()]);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }
}

/**
 * The timed part of assignment, durable and shared by replicas (rows claimed with SKIP LOCKED, times stored):
 * the idle/disconnect timeouts (online → away → offline and back), owners who went offline (per the team's
 * setting), customers left unanswered past the team's time, and a safety-net drain of every non-empty queue.
 */
@Injectable()
export class AssignmentSweeper implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly log = new Logger('AssignmentSweeper');
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private passes = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly agents: AgentRepository,
    private readonly teams: TeamRoutingRepository,
    private readonly assignment: AssignmentService,
    private readonly drainer: QueueDrainer,
    private readonly clock: RoutingClock,
    @Inject(ROUTING_CONFIG) private readonly cfg: RoutingConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.sweep()
        .catch((err) => this.log.warn(`assignment sweep failed, will retry: ${(err as Error).message}`))
        .finally(() => (this.running = undefined));
    }, this.cfg.ROUTING_SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass of everything. */
  async sweep(): Promise<void> {
    await this.autoStatus();
    await this.ownersOffline();
    await this.unanswered();
    this.drainer.kick(await this.teams.withQueue(this.ds.manager));
    if (++this.passes % 600 === 0) await this.agents.pruneClients(this.ds.manager, this.clock.now());
  }

  /** Applies the idle/disconnect timeouts; returns the agents changed. */
  async autoStatus(): Promise<{ userId: string; next: string }[]> {
    const now = this.clock.now();
    const changed = await this.ds.transaction(async (em) => {
      const due = await this.agents.dueAutoStatus(em, now, this.cfg.ROUTING_IDLE_AWAY_MS, this.cfg.ROUTING_DISCONNECT_OFFLINE_MS, 200);
      for (const d of due) {
        const before = await this.agents.view(em, d.userId);
        await this.agents.setStatus(em, d.userId, d.next, 'auto', now);
        await this.audit.append(em, {
          conversationId: null,
          teamId: null,
          actor: SYSTEM_ACTOR,
          action: 'agent.status',
          before: { userId: d.userId, status: before?.status },
          after: { userId: d.userId, status: d.next, setBy: 'auto' },
          note: d.next === 'offline' ? 'no web client connected' : d.next === 'away' ? 'idle' : 'active again',
        });
      }
      return due;
    });
    const online = changed.filter((c) => c.next === 'online').map((c) => c.userId);
    if (online.length) {
      const teams = await this.ds.query(`SELECT DISTINCT team_id FROM routing.agent_team WHERE user_id = ANY($1::uuid[])`, [online]);
      this.drainer.kick(teams.map((t: { team_id: string }) => t.team_id));
    }
    return changed;
  }

  /** Open conversations of offline owners in teams that do not keep them: back to the queue or to the next agent. */
  async ownersOffline(max = 200): Promise<number> {
    return this.takeBackEach(
      max,
      `SELECT w.conversation_id, t.on_owner_offline AS mode FROM routing.conversation_work w
       JOIN routing.agent a ON a.user_id = w.owner_id
       JOIN routing.team_routing t ON t.team_id = w.team_id
       WHERE w.status = 'open' AND w.owner_id IS NOT NULL AND a.status = 'offline' AND t.on_owner_offline <> 'keep'
       LIMIT 1 FOR UPDATE OF w SKIP LOCKED`,
      [],
      (mode) => ({ reason: 'the owner went offline', reassign: mode === 'reassign' }),
    );
  }

  /** Customers waiting longer than the team allows since the owner got the conversation: to the next agent. */
  async unanswered(max = 200): Promise<number> {
    return this.takeBackEach(
      max,
      `SELECT w.conversation_id, t.reassign_unanswered_minutes AS mode FROM routing.conversation_work w
       JOIN routing.team_routing t ON t.team_id = w.team_id
       WHERE w.status = 'open' AND w.owner_id IS NOT NULL AND w.waiting_since IS NOT NULL AND t.reassign_unanswered_minutes IS NOT NULL
         AND greatest(w.waiting_since, w.assigned_at) <= $1::timestamptz - make_interval(mins => t.reassign_unanswered_minutes)
       LIMIT 1 FOR UPDATE OF w SKIP LOCKED`,
      [this.clock.now()],
      (minutes) => ({ reason: `the customer waited more than ${minutes} minutes for an answer`, reassign: true }),
    );
  }

  private async takeBackEach(max: number, sql: string, args: unknown[], how: (mode: any) => { reason: string; reassign: boolean }): Promise<number> {
    let n = 0;
    const teams: string[] = [];
    while (n < max) {
      const done = await this.ds.transaction(async (em) => {
        const rows = await em.query(sql, args);
        if (!rows.length) return true;
        const w = (await this.work.find(em, rows[0].conversation_id))!;
        const after = await this.assignment.takeBack(em, w, { actor: SYSTEM_ACTOR, ...how(rows[0].mode) });
        if (!after.ownerId && after.teamId) teams.push(after.teamId);
        return false;
      });
      if (done) break;
      n++;
    }
    if (teams.length) this.drainer.kick(teams);
    return n;
  }
}
