import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  NoteAddedV1,
  type Actor,
  type NoteView,
  type RequestOf,
  type AssignV1,
  type BotHandoverV1,
  type HandoffV1,
  type SetStatusV1,
  type UserRef,
  type WorkState,
} from '@app/contracts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, currentCorrelationId } from '@app/messaging';
import { OutboxWriter } from '@app/persistence';
import { QueueDrainer } from '../assignment/assignment.sweeper';
import { CapacityGuard } from '../assignment/capacity.guard';
import { canEditWork, canOwn, canSee, canWrite, isOwner, managesTeam } from './permissions';
import { AuditRepository, NoteRepository, WorkRepository, type WorkPatch } from './work.repository';
import { BotRouteRepository } from './bot-route.repository';
import { recordChange, SYSTEM_ACTOR, type AssignReason } from './record-change';

export { recordChange, SYSTEM_ACTOR };

/** What a rule decided: the patch to apply (null = nothing changes), plus what to record with it. */
interface Decision {
  patch: WorkPatch | null;
  reason?: AssignReason;
  note?: string;
  /** The person taking it: checked against their capacity (and the team's) under lock. */
  capacityOf?: string;
}

const actorRef = (a: Actor) => ({ type: a.type, id: a.id, name: a.name });

/**
 * Every change of a conversation's work state. Each runs in one transaction that locks the row, checks
 * visibility, permission and the version the client saw, applies the change (version + 1), appends exactly
 * one audit entry and writes the events to the outbox — all committed together or not at all.
 */
@Injectable()
export class WorkChangesService {
  constructor(
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly notes: NoteRepository,
    private readonly outbox: OutboxWriter,
    private readonly capacity: CapacityGuard,
    private readonly drainer: QueueDrainer,
    private readonly bots: BotRouteRepository,
  ) {}

  claim(actor: Actor, conversationId: string, version: number): Promise<WorkState> {
    return this.change(actor, conversationId, version, 'conversation.claimed', (w) => {
      if (!canOwn(actor)) throw new ForbiddenError('only a person can claim a conversation');
      if (w.ownerId === actor.id) return { patch: null };
      if (w.ownerId) throw ownedError(w);
      if (w.bot) throw botHeldError(w, 'take it back from the bot (POST …/take-back) to claim it');
      return { patch: { ownerId: actor.id }, reason: 'claim', capacityOf: actor.id };
    });
  }

  /**
   * `withinCapacity`: the new owner must be under their (and the team's) capacity, checked under lock as for a
   * claim (automation rules); a person assigning by hand may go over it (a manager's override).
   */
  assign(actor: Actor, r: RequestOf<typeof AssignV1>, opts: { withinCapacity?: boolean } = {}): Promise<WorkState> {
    return this.change(actor, r.conversationId, r.version, 'conversation.assigned', (w) => {
      if (!managesTeam(actor, w.teamId)) throw new ForbiddenError('only a manager of the team or an admin can assign');
      const teamId = r.teamId !== undefined ? r.teamId : w.teamId;
      if (teamId !== w.teamId && !managesTeam(actor, teamId)) throw new ForbiddenError('you do not manage the target team');
      let ownerId = r.assignee !== undefined ? (r.assignee?.id ?? null) : w.ownerId;
      if (r.assignee) checkAssignee(r.assignee, teamId);
      // moving to another team without naming a person: the current owner stays only if a member there
      if (r.assignee === undefined && teamId !== w.teamId) ownerId = null;
      if (teamId === w.teamId && ownerId === w.ownerId) return { patch: null };
      // a manager moving a bot's conversation ends the bot's hold
      const capacityOf = opts.withinCapacity && ownerId && ownerId !== w.ownerId ? ownerId : undefined;
      return { patch: { teamId, ownerId, ...(w.bot ? { bot: null } : {}) }, reason: 'assign', capacityOf };
    });
  }

  handoff(actor: Actor, r: RequestOf<typeof HandoffV1>): Promise<WorkState> {
    return this.change(actor, r.conversationId, r.version, 'conversation.handoff', (w) => {
      if (!isOwner(actor, w) && !managesTeam(actor, w.teamId))
        throw new ForbiddenError('only the owner or a manager of the team can hand off');
      const teamId = r.toTeamId ?? w.teamId;
      if (r.toUser) checkAssignee(r.toUser, teamId);
      return { patch: { teamId, ownerId: r.toUser?.id ?? null, ...(w.bot ? { bot: null } : {}) }, reason: 'handoff', note: r.note };
    });
  }

  setStatus(actor: Actor, r: RequestOf<typeof SetStatusV1>): Promise<WorkState> {
    return this.change(actor, r.conversationId, r.version, `conversation.status.${r.status}`, (w) => {
      if (!canEditWork(actor, w)) throw new ForbiddenError('only the owner or a manager of the team can change the status');
      if (r.status === 'snoozed') {
        if (!r.snoozeUntil) throw new ValidationError('snoozeUntil is required to snooze');
        if (new Date(r.snoozeUntil).getTime() <= Date.now()) throw new ValidationError('snoozeUntil must be in the future');
      } else if (r.snoozeUntil) throw new ValidationError('snoozeUntil is only for status snoozed');
      if (r.status === w.status && (r.snoozeUntil ?? null) === w.snoozeUntil) return { patch: null };
      const patch: WorkPatch = { status: r.status, snoozeUntil: r.status === 'snoozed' ? r.snoozeUntil! : null };
      if (r.status === 'resolved') {
        patch.resolvedAt = 'now';
        if (w.bot) patch.bot = null; // a resolved conversation is held by nobody: the next message is routed
      }
      else if (w.status === 'resolved') patch.resolvedAt = null;
      return { patch };
    });
  }

  takeover(actor: Actor, conversationId: string, version: number): Promise<WorkState> {
    return this.change(actor, conversationId, version, 'conversation.takeover', (w) => {
      if (!canOwn(actor) || !managesTeam(actor, w.teamId))
        throw new ForbiddenError('only a manager of the team or an admin can take over');
      if (w.ownerId === actor.id) return { patch: null };
      return { patch: { ownerId: actor.id }, reason: 'takeover' };
    });
  }

  setLabels(actor: Actor, conversationId: string, version: number, labels: string[]): Promise<WorkState> {
    const next = [...new Set(labels.map((l) => l.trim()))].sort();
    return this.change(actor, conversationId, version, 'conversation.labels', (w) => {
      if (!canEditWork(actor, w)) throw new ForbiddenError('only the owner or a manager of the team can change labels');
      if (JSON.stringify(next) === JSON.stringify(w.labels)) return { patch: null };
      return { patch: { labels: next } };
    });
  }

  setPriority(actor: Actor, conversationId: string, version: number, priority: WorkState['priority']): Promise<WorkState> {
    return this.change(actor, conversationId, version, 'conversation.priority', (w) => {
      if (!canEditWork(actor, w)) throw new ForbiddenError('only the owner or a manager of the team can change the priority');
      return { patch: priority === w.priority ? null : { priority } };
    });
  }

  /**
   * Before a free-form reply: the owner may reply; an unassigned conversation is claimed first, in this
   * transaction; anyone else is refused with CONFLICT naming the owner. API keys reply only to unowned ones.
   */
  prepareReply(actor: Actor, conversationId: string, version?: number): Promise<{ state: WorkState; claimed: boolean }> {
    return this.ds.transaction(async (em) => {
      const w = await this.visible(em, actor, conversationId, true);
      if (!canWrite(actor)) throw new ForbiddenError('viewers cannot reply');
      if (w.ownerId === actor.id && actor.type === 'user') return { state: w, claimed: false };
      if (w.ownerId) throw ownedError(w);
      // a bot replies only while it holds the conversation; nobody else replies over a bot
      if (actor.type === 'bot') {
        if (w.bot?.id === actor.id) return { state: w, claimed: false };
        throw notHeldError(w, 'a bot replies only in conversations it holds (POST …/bot first)');
      }
      if (w.bot) throw botHeldError(w, 'take it back from the bot (POST …/take-back) before replying');
      if (!canOwn(actor)) return { state: w, claimed: false };
      if (version !== undefined && version !== w.version) throw staleError(w, version);
      await this.capacity.check(em, actor.id, w.teamId);
      const after = await this.apply(em, actor, w, 'conversation.claimed', { patch: { ownerId: actor.id }, reason: 'reply' });
      return { state: after, claimed: true };
    });
  }

  /**
   * A bot (API key with the `bot` scope) takes an open/pending conversation nobody owns: routing assigns nobody
   * and SLA clocks pause until it hands over or a person takes it back. Holding it again is a no-op.
   */
  botHold(actor: Actor, conversationId: string, version?: number): Promise<WorkState> {
    return this.change(actor, conversationId, version, 'conversation.bot-held', (w) => {
      if (actor.type !== 'bot') throw new ForbiddenError('only a bot (an API key with the bot scope) can hold a conversation');
      if (w.bot?.id === actor.id) return { patch: null };
      if (w.ownerId) throw ownedError(w);
      if (w.bot) throw botHeldError(w, 'another bot holds it');
      if (w.status === 'resolved') throw new ConflictError('conversation is resolved: a bot holds only open or pending conversations', { current: w });
      return { patch: { bot: { id: actor.id, name: actor.name }, ...(w.status === 'snoozed' ? { status: 'open' as const, snoozeUntil: null } : {}) } };
    });
  }

  /**
   * The holding bot hands over to a team with a summary note (an internal note agents see): the conversation
   * is open and unowned in that team, and the team's strategy picks the owner from its queue (manual: it waits).
   */
  botHandover(actor: Actor, r: RequestOf<typeof BotHandoverV1>): Promise<WorkState> {
    return this.change(actor, r.conversationId, r.version, 'conversation.bot-handover', (w) => {
      if (actor.type !== 'bot') throw new ForbiddenError('only the bot holding the conversation can hand it over (people use handoff)');
      if (w.bot?.id !== actor.id) throw notHeldError(w, 'only the bot holding it can hand it over');
      return {
        patch: { bot: null, teamId: r.teamId, ownerId: null, status: 'open', snoozeUntil: null },
        reason: 'handoff',
        note: r.note,
      };
    });
  }

  /** A person takes the conversation back from the bot and owns it (capacity checked like a claim). */
  botTakeBack(actor: Actor, conversationId: string, version: number): Promise<WorkState> {
    return this.change(actor, conversationId, version, 'conversation.bot-taken-back', (w) => {
      if (!canOwn(actor)) throw new ForbiddenError('only a person (agent, manager, admin) can take a conversation back from a bot');
      if (!w.bot) {
        if (w.ownerId === actor.id) return { patch: null };
        throw new ConflictError('conversation is not held by a bot', { current: w, ownerId: w.ownerId });
      }
      return { patch: { ownerId: actor.id, bot: null }, reason: 'takeover', capacityOf: actor.id };
    });
  }

  addNote(actor: Actor, conversationId: string, body: string, mentions: string[], version?: number): Promise<NoteView> {
    return this.ds.transaction(async (em) => {
      const w = await this.visible(em, actor, conversationId, false);
      if (!canWrite(actor)) throw new ForbiddenError('viewers cannot add notes');
      if (version !== undefined && version !== w.version) throw staleError(w, version);
      const note = await this.notes.insert(em, { conversationId, author: actorRef(actor), body, mentions: [...new Set(mentions)] });
      await this.audit.append(em, {
        conversationId,
        teamId: w.teamId,
        actor: actorRef(actor),
        action: 'note.added',
        before: null,
        after: { noteId: note.id, mentions: note.mentions },
        requestId: currentCorrelationId(),
      });
      await this.outbox.add(em, NoteAddedV1, {
        eventId: randomUUID(),
        occurredAt: new Date().toISOString(),
        conversationId,
        teamId: w.teamId,
        noteId: note.id,
        author: actorRef(actor),
        mentions: note.mentions,
      });
      return note;
    });
  }

  /** Lock, check visibility + write permission + version, let the rule decide, apply. */
  private async change(
    actor: Actor,
    conversationId: string,
    version: number | undefined,
    action: string,
    decide: (w: WorkState) => Decision,
  ): Promise<WorkState> {
    const result = await this.ds.transaction(async (em) => {
      const w = await this.visible(em, actor, conversationId, true);
      if (!canWrite(actor)) throw new ForbiddenError('viewers cannot change conversations');
      if (version !== undefined && version !== w.version) throw staleError(w, version);
      const d = decide(w);
      // a bot whose API key was revoked holds nothing (under the bot's lock, so a revoke in flight cannot miss it)
      if (d.patch?.bot && (await this.bots.isRevoked(em, d.patch.bot.id)))
        throw new ForbiddenError(`bot ${d.patch.bot.name ?? d.patch.bot.id}: its API key was revoked; it holds no conversations`);
      if (d.patch && d.capacityOf) await this.capacity.check(em, d.capacityOf, d.patch.teamId !== undefined ? d.patch.teamId : w.teamId);
      return { before: w, after: await this.apply(em, actor, w, action, d) };
    });
    // an owner freed capacity (resolved, snoozed, handed on): the queues they serve may move now
    const { before, after } = result;
    const wasOpen = before.status === 'open' || before.status === 'pending';
    const isOpen = after.status === 'open' || after.status === 'pending';
    if (before.ownerId && ((wasOpen && !isOpen) || after.ownerId !== before.ownerId)) this.drainer.kick([before.teamId]);
    if (after.teamId !== before.teamId || (!after.ownerId && after.status === 'open')) this.drainer.kick([after.teamId]);
    return after;
  }

  private async visible(em: EntityManager, actor: Actor, conversationId: string, lock: boolean): Promise<WorkState> {
    const w = lock ? await this.work.lock(em, conversationId) : await this.work.find(em, conversationId);
    if (!w || !canSee(actor, w)) throw new NotFoundError(`conversation ${conversationId} not found`);
    return w;
  }

  private async apply(em: EntityManager, actor: Actor, w: WorkState, action: string, d: Decision): Promise<WorkState> {
    if (!d.patch) return w; // nothing changes: no version bump, no audit entry, no event
    const after = await this.work.update(em, w.conversationId, d.patch);
    if (d.note) {
      await this.notes.insert(em, { conversationId: w.conversationId, author: actorRef(actor), body: d.note, mentions: [] });
    }
    await recordChange(this.audit, this.outbox, em, { actor: actorRef(actor), action, before: w, after, note: d.note ?? null, reason: d.reason });
    return after;
  }
}

function checkAssignee(u: UserRef, teamId: string | null): void {
  if (u.role === 'viewer') throw new ValidationError('a viewer cannot own a conversation');
  if (teamId !== null && !u.teamIds.includes(teamId))
    throw new ValidationError(`user ${u.id} is not a member of team ${teamId}`, { field: 'assigneeId' });
}

function staleError(w: WorkState, sent: number): ConflictError {
  return new ConflictError(`conversation was changed: version is ${w.version}, the request had ${sent}`, { current: w });
}

function ownedError(w: WorkState): ConflictError {
  return new ConflictError(`conversation is owned by user ${w.ownerId}`, { current: w, ownerId: w.ownerId });
}

function botHeldError(w: WorkState, what: string): ConflictError {
  const name = w.bot?.name ? `"${w.bot.name}"` : w.bot?.id;
  return new ConflictError(`conversation is held by bot ${name}; ${what}`, { current: w, bot: w.bot });
}

function notHeldError(w: WorkState, what: string): ConflictError {
  const holder = w.bot ? `held by bot ${w.bot.name ? `"${w.bot.name}"` : w.bot.id}` : 'not held by a bot';
  return new ConflictError(`conversation is ${holder}: ${what}`, { current: w, bot: w.bot });
}
