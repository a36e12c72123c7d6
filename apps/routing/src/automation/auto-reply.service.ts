import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  BusinessHoursStateV1,
  DeleteAutoReplyV1,
  GetConversationV1,
  ListAutoRepliesV1,
  MessageReceivedV1,
  PutAutoReplyV1,
  SendMessageV1,
  type Actor,
  type AutoReply,
  type AutoReplyKind,
  type PayloadOf,
  type RequestOf,
} from '@app/contracts';
import { Bus, BusError, DomainError, ForbiddenError, NotFoundError, RemoteError, ValidationError } from '@app/messaging';
import { RoutingClock } from '../assignment/clock';
import { WorkRepository } from '../work/work.repository';
import { AutoReplyRepository } from './auto-reply.repository';
import { ReplicaCopy } from './replica-copy';

/** Refusals that a retry cannot change: logged and counted on the reply, the event is done. */
const PERMANENT = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN']);
const SENDER_NAME: Record<AutoReplyKind, string> = { greeting: 'Greeting message', away: 'Away message' };

const managesTeam = (a: Actor, teamId: string | null) => a.role === 'admin' || (a.role === 'manager' && !!teamId && a.teamIds.includes(teamId));

/**
 * Greeting and away replies. On each customer message: the away reply when the conversation's team is outside its
 * business hours (asked of sla), the greeting when this is the contact's first conversation (what the routing rules
 * saw at opening). Each at most once per conversation per period (`auto_reply_sent`, one row claimed atomically),
 * sent through notifications' normal path as the system (`senderId` null: the timeline shows it as the system's,
 * sla does not count it as a first response, routing still sees the customer as waiting).
 */
@Injectable()
export class AutoReplyService implements OnApplicationBootstrap {
  private readonly log = new Logger('AutoReplies');
  /** The enabled replies, this replica's copy (dropped on every put/delete on any replica): read on every customer message. */
  readonly enabledReplies: ReplicaCopy<AutoReply[]>;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly replies: AutoReplyRepository,
    private readonly work: WorkRepository,
    private readonly clock: RoutingClock,
  ) {
    this.enabledReplies = new ReplicaCopy('auto-replies', bus, () => this.replies.enabled(this.ds.manager));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.enabledReplies.start(); // before the consumer: no message is answered from a copy that misses a change
    await Promise.all([
      this.bus.respond(PutAutoReplyV1, (r) => this.put(r)),
      this.bus.respond(ListAutoRepliesV1, (r) => this.list(r.actor)),
      this.bus.respond(DeleteAutoReplyV1, (r) => this.remove(r.actor, r.id)),
    ]);
    await this.bus.consume(MessageReceivedV1, { durable: 'routing-auto-replies', concurrency: 8 }, (e) => this.onMessage(e));
  }

  async put(r: RequestOf<typeof PutAutoReplyV1>): Promise<AutoReply> {
    const a = r.actor;
    if (r.reply.phoneNumberId && a.role !== 'admin') throw new ForbiddenError('only admins set a business number’s replies; managers set their teams’');
    if (r.reply.teamId && !managesTeam(a, r.reply.teamId)) throw new ForbiddenError('only admins and the team’s managers set its replies');
    const stored = await this.replies.put(this.ds.manager, r.reply);
    this.enabledReplies.changed();
    return stored;
  }

  async list(a: Actor): Promise<{ items: AutoReply[] }> {
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers see greeting and away replies');
    return { items: await this.replies.list(this.ds.manager, a.role === 'admin' ? null : a.teamIds) };
  }

  async remove(a: Actor, id: string): Promise<{ deleted: boolean }> {
    const r = await this.replies.get(this.ds.manager, id);
    if (!r) throw new NotFoundError('no such reply');
    if (r.phoneNumberId ? a.role !== 'admin' : !managesTeam(a, r.teamId)) throw new ForbiddenError('only admins and the team’s managers delete its replies');
    const deleted = await this.replies.delete(this.ds.manager, id);
    this.enabledReplies.changed();
    return { deleted };
  }

  async onMessage(e: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    if (e.direction !== 'inbound' || e.origin !== 'customer') return;
    const enabled = await this.enabledReplies.get();
    // none for this number and no team has one: nothing can apply, nothing to read
    if (!enabled.some((r) => r.phoneNumberId === e.phoneNumberId || r.teamId)) return;
    const w = await this.work.find(this.ds.manager, e.conversationId);
    // the work item is created from conversation.opened (another consumer): wait for it (redelivered with backoff)
    if (!w) throw new Error(`conversation ${e.conversationId} has no work item yet`);
    if (w.status === 'resolved') return;
    // the number's reply of that kind, else its team's
    const applicable = (kind: AutoReplyKind) =>
      enabled.find((r) => r.kind === kind && r.phoneNumberId === e.phoneNumberId) ?? enabled.find((r) => r.kind === kind && !!w.teamId && r.teamId === w.teamId);
    const greeting = applicable('greeting');
    if (greeting && (await this.firstConversation(e.conversationId))) await this.send(greeting, e);
    const away = applicable('away');
    if (away && w.teamId) {
      const hours = await this.bus.request(BusinessHoursStateV1, { teamId: w.teamId, at: e.sentAt });
      if (!hours.open) await this.send(away, e);
    }
  }

  /** What the routing rules saw when it opened: `returning: false` = the contact's first conversation. */
  private async firstConversation(conversationId: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT route_context #>> '{contact,returning}' AS returning FROM routing.conversation_work WHERE conversation_id = $1`, [
      conversationId,
    ]);
    return rows[0]?.returning === 'false';
  }

  private async send(reply: AutoReply, e: PayloadOf<typeof MessageReceivedV1>): Promise<void> {
    const em = this.ds.manager;
    if (!(await this.replies.claim(em, reply.kind, e.conversationId, e.eventId, this.clock.now(), reply.periodMinutes))) return;
    try {
      const conv = await this.bus.request(GetConversationV1, { conversationId: e.conversationId });
      const to = conv.contact.waId ?? conv.contact.userId;
      if (!to) throw new ValidationError('the contact has no WhatsApp id');
      await this.bus.request(SendMessageV1, {
        idempotencyKey: `auto-reply:${reply.kind}:${e.conversationId}:${e.eventId}`,
        phoneNumberId: e.phoneNumberId,
        to,
        conversationId: e.conversationId,
        senderId: null,
        senderName: SENDER_NAME[reply.kind],
        message: { type: 'text', body: reply.text },
      });
      await this.replies.sent(em, reply.id, reply.kind, e.conversationId);
    } catch (err) {
      const message = (err as Error).message;
      this.log.warn(`${reply.kind} reply ${reply.id} on ${e.conversationId} failed: ${message}`);
      await this.replies.failed(em, reply.id, message);
      if (err instanceof DomainError || (err instanceof RemoteError && PERMANENT.has((err as BusError).code))) {
        await this.replies.done(em, reply.kind, e.conversationId);
        return;
      }
      throw err; // redelivered: the same event re-claims its own unfinished send and resends with the same key
    }
  }
}
