import { BadRequestException, ConflictException, Inject, Injectable, Logger } from '@nestjs/common';
import {
  MarkReadV1,
  AddNoteV1,
  CheckSendV1,
  AssignV1,
  ClaimV1,
  GetActivityV1,
  GetConversationV1,
  GetWorkV1,
  HandoffV1,
  ListConversationsV1,
  ListMessagesV1,
  ListTemplatesV1,
  ListWorkV1,
  PrepareReplyV1,
  SendMessageV1,
  SetLabelsV1,
  SearchConversationsV1,
  SEARCH_IDS_MAX,
  SetNumberTeamV1,
  SetPriorityV1,
  SetStatusV1,
  TakeoverV1,
  type ConversationSummary,
  type OutboundMessage,
  type SendMessageRequest,
  type UserRef,
  type WorkState,
} from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { assertNotBlocked } from '../contacts/blocked';
import { requireIdempotencyKey } from '../http/idempotency-key';
import { LabelsService } from '../labels/labels.service';
import { SlaApiService } from '../sla/sla.service';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';
import type { AssignDto, HandoffDto, ListQuery, NoteDto, ReplyDto, ReplyTemplateDto, StatusDto } from './inbox.dto';

const WINDOW_MS = 24 * 3600_000;

/**
 * The team inbox API over two services: routing owns the work state and decides who may see and do what;
 * ingest owns contacts and messages; notifications sends. The gateway resolves people and teams (it owns them).
 */
@Injectable()
export class InboxService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly users: UsersService,
    private readonly teams: TeamsService,
    private readonly labels: LabelsService,
    private readonly sla: SlaApiService,
  ) {}

  async get(p: Principal, id: string) {
    const work = await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id });
    const summary = await this.bus.request(GetConversationV1, { conversationId: id });
    return (await this.withSla(await this.present([work], new Map([[id, summary]]))))[0];
  }

  /** Each conversation's clocks from sla (`sla: null` when sla does not answer; see SlaApiService.views). */
  private async withSla<T extends { id: string }>(items: T[]) {
    const views = await this.sla.views(items.map((i) => i.id));
    return items.map((i) => ({ ...i, sla: views ? (views.get(i.id)?.sla ?? null) : null }));
  }

  async list(p: Principal, q: ListQuery) {
    // search: ingest finds the matching conversations, routing keeps those the caller may see
    let ids = q.q !== undefined ? (await this.bus.request(SearchConversationsV1, { q: q.q, limit: SEARCH_IDS_MAX })).ids : undefined;
    // by SLA: sla orders the ids (at most 500), routing keeps those the caller may see, the gateway keeps sla's order
    const ranked = q.sla ? await this.sla.rankedIds(q.sla) : undefined;
    if (ranked) ids = ids ? ranked.filter((id) => ids!.includes(id)) : ranked;
    if (ids && ids.length === 0) return { items: [], nextCursor: null };
    const page = await this.bus.request(ListWorkV1, {
      actor: actorOf(p),
      view: q.view ?? 'all',
      status: q.status,
      teamId: q.teamId,
      assigneeId: q.assigneeId,
      label: q.label,
      phoneNumberId: q.phoneNumberId,
      ids,
      cursor: ranked ? null : (q.cursor ?? null),
      limit: ranked ? 200 : (q.limit ?? 50),
    });
    if (ranked) {
      const order = new Map(ranked.map((id, i) => [id, i]));
      page.items = page.items.sort((a, b) => order.get(a.conversationId)! - order.get(b.conversationId)!).slice(0, q.limit ?? 50);
      page.nextCursor = null;
    }
    const pageIds = page.items.map((w) => w.conversationId);
    const summaries = pageIds.length
      ? (await this.bus.request(ListConversationsV1, { ids: pageIds, limit: Math.min(200, pageIds.length) })).items
      : [];
    return { items: await this.withSla(await this.present(page.items, new Map(summaries.map((s) => [s.id, s])))), nextCursor: page.nextCursor };
  }

  /**
   * The latest `limit` messages (ingest) with the notes and audit events (routing) of the same period, oldest
   * first. `olderCursor` pages back through messages (GET /:id/messages?order=newest&cursor=…).
   */
  async timeline(p: Principal, id: string, limit: number) {
    const activity = await this.bus.request(GetActivityV1, { actor: actorOf(p), conversationId: id, limit: 2000 });
    const messages = await this.bus.request(ListMessagesV1, { conversationId: id, limit, order: 'newest' });
    const older = messages.nextCursor !== null;
    // with older messages left out, show only the notes and events of the period the messages cover
    const from = older && messages.items.length ? Date.parse(messages.items[messages.items.length - 1].sentAt) : -Infinity;
    const items = [
      ...messages.items.map((m) => ({ kind: 'message' as const, at: m.sentAt, message: m })),
      ...activity.notes.map((n) => ({ kind: 'note' as const, at: n.createdAt, note: n })),
      ...activity.events.map((e) => ({ kind: 'event' as const, at: e.createdAt, event: e })),
    ]
      .filter((i) => i.kind === 'message' || Date.parse(i.at) >= from)
      .sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    return { items, moreMessages: older, olderCursor: messages.nextCursor };
  }

  /** Messages of a conversation the caller may see (ingest's page, oldest first, opaque cursor). */
  async messages(p: Principal, id: string, cursor: string | undefined, limit: number, order: 'oldest' | 'newest' = 'oldest') {
    await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id });
    return this.bus.request(ListMessagesV1, { conversationId: id, cursor: cursor ?? null, limit, order });
  }

  claim(p: Principal, id: string, version: number) {
    return this.bus.request(ClaimV1, { actor: actorOf(p), conversationId: id, version }).catch((e) => this.nameOwner(e));
  }

  takeover(p: Principal, id: string, version: number) {
    return this.bus.request(TakeoverV1, { actor: actorOf(p), conversationId: id, version });
  }

  async assign(p: Principal, id: string, dto: AssignDto) {
    if (dto.assigneeId === undefined && dto.teamId === undefined) throw new BadRequestException('assigneeId or teamId is required');
    if (dto.teamId) await this.checkTeam(dto.teamId, 'teamId');
    const assignee = dto.assigneeId ? await this.userRef(dto.assigneeId, 'assigneeId') : (dto.assigneeId as null | undefined);
    return this.bus.request(AssignV1, { actor: actorOf(p), conversationId: id, version: dto.version, assignee, teamId: dto.teamId });
  }

  async handoff(p: Principal, id: string, dto: HandoffDto) {
    if (!dto.toUserId && !dto.toTeamId) throw new BadRequestException('toUserId or toTeamId is required');
    if (dto.toTeamId) await this.checkTeam(dto.toTeamId, 'toTeamId');
    const toUser = dto.toUserId ? await this.userRef(dto.toUserId, 'toUserId') : undefined;
    return this.bus.request(HandoffV1, {
      actor: actorOf(p),
      conversationId: id,
      version: dto.version,
      toUser,
      toTeamId: dto.toTeamId,
      note: dto.note,
    });
  }

  setStatus(p: Principal, id: string, dto: StatusDto) {
    return this.bus.request(SetStatusV1, { actor: actorOf(p), conversationId: id, ...dto });
  }

  /**
   * Labels must be in the catalogue (matched in any case, stored as the catalogue spells them); labels the
   * conversation already carries may stay even if they have since been renamed or deleted.
   */
  async setLabels(p: Principal, id: string, version: number, labels: string[]) {
    const resolved = await this.labels.resolve(labels.map((l) => l.trim()));
    if (resolved.unknown.length) {
      const current = new Set((await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id })).labels);
      const refused = resolved.unknown.filter((l) => !current.has(l));
      if (refused.length)
        throw new BadRequestException({
          message: `labels: not in the label catalogue: ${refused.map((l) => JSON.stringify(l)).join(', ')}`,
          details: { unknownLabels: refused },
        });
    }
    return this.bus.request(SetLabelsV1, { actor: actorOf(p), conversationId: id, version, labels: [...new Set(resolved.names)] });
  }

  setPriority(p: Principal, id: string, version: number, priority: WorkState['priority']) {
    return this.bus.request(SetPriorityV1, { actor: actorOf(p), conversationId: id, version, priority });
  }

  async addNote(p: Principal, id: string, dto: NoteDto) {
    const mentions = [...new Set(dto.mentions ?? [])];
    for (const m of mentions) await this.userRef(m, 'mentions');
    return this.bus.request(AddNoteV1, { actor: actorOf(p), conversationId: id, body: dto.body, mentions, version: dto.version });
  }

  /**
   * Free-form reply: only the owner sends (an unassigned conversation is claimed first, atomically); anyone
   * else gets 409 naming the owner. The idempotency key makes retries return the first result.
   */
  async reply(p: Principal, id: string, idempotencyKey: string | undefined, dto: ReplyDto) {
    requireIdempotencyKey(idempotencyKey);
    if ((dto.text === undefined) === (dto.template === undefined)) throw new BadRequestException('give exactly one of text or template');
    // visibility first (404)
    await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id });
    const { conv, prepared, request } = await this.prepareSend(p, id, dto.version, (c, to) => ({
      idempotencyKey: `reply:${id}:${idempotencyKey}`,
      phoneNumberId: c.phoneNumberId,
      to,
      conversationId: id,
      // a bot's reply is an automatic one (no sender): SLA clocks and reports count only people's replies
      senderId: p.kind === 'bot' ? null : p.id,
      senderName: p.kind === 'bot' ? `Bot: ${p.name}`.slice(0, 200) : p.name,
      message: dto.template ? templateMessage(dto.template) : { type: 'text', body: dto.text! },
    }));
    const sent = await this.bus.request(SendMessageV1, request);
    this.markReadAfterSend(conv.phoneNumberId, id);
    return { ...sent, claimed: prepared.claimed, version: prepared.state.version };
  }

  /**
   * What every agent send does before it is queued (reply, attachment): a blocked contact is refused (409) and
   * notifications checks the send (`check-send`: 400 for free-form outside the 24 h window, a bad template, a
   * bad body; 409 for a used key) before anything can be claimed, so a refused send changes no ownership; then
   * routing checks ownership and version (claiming an unassigned conversation; 409 naming the owner otherwise).
   * Call after the visibility check; send the returned request.
   */
  async prepareSend(p: Principal, id: string, version: number | undefined, build: (conv: ConversationSummary, to: string) => SendMessageRequest) {
    const conv = await this.bus.request(GetConversationV1, { conversationId: id });
    await assertNotBlocked(this.bus, { summary: conv });
    const to = conv.contact.waId ?? conv.contact.userId;
    if (!to) throw new ConflictException('the contact has no WhatsApp id to reply to');
    const request = build(conv, to);
    await this.bus.request(CheckSendV1, request);
    const prepared = await this.bus
      .request(PrepareReplyV1, { actor: actorOf(p), conversationId: id, version })
      .catch((e) => this.nameOwner(e));
    return { conv, prepared, request };
  }

  /** The customer sees their messages read once the owner answers (best effort: never fails the send). */
  markReadAfterSend(phoneNumberId: string, id: string): void {
    void this.markLatestRead(phoneNumberId, id, false).catch((err) => new Logger('Inbox').warn(`mark-read after reply failed: ${(err as Error).message}`));
  }

  /** Approved templates for the conversation's number (visibility first: 404 if the caller may not see it). */
  async templates(p: Principal, id: string) {
    const w = await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id });
    return this.bus.request(ListTemplatesV1, { phoneNumberId: w.phoneNumberId });
  }

  /**
   * Read receipt (and, with `typing`, the typing indicator) for the customer's latest message. Visible to the
   * customer, so only the owner may do it (REFERENCE §7.10): anyone else gets 409 naming the owner.
   */
  async markRead(p: Principal, id: string, typing: boolean): Promise<{ done: boolean; waMessageId: string | null }> {
    const w = await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId: id });
    if (w.ownerId !== p.id) {
      if (!w.ownerId) throw new ConflictException('claim the conversation before showing the customer it was read');
      await this.nameOwner(new BusError('CONFLICT', 'owned by someone else', { ownerId: w.ownerId }));
    }
    return this.markLatestRead(w.phoneNumberId, id, typing);
  }

  private async markLatestRead(phoneNumberId: string, id: string, typing: boolean) {
    const page = await this.bus.request(ListMessagesV1, { conversationId: id, limit: 50, order: 'newest' });
    const latest = page.items.find((m) => m.direction === 'inbound' && m.waMessageId);
    if (!latest) return { done: false, waMessageId: null };
    const r = await this.bus.request(MarkReadV1, { phoneNumberId, waMessageId: latest.waMessageId!, typing });
    return { done: r.done, waMessageId: latest.waMessageId };
  }

  setNumberTeam(p: Principal, phoneNumberId: string, teamId: string | null) {
    return (teamId ? this.checkTeam(teamId, 'teamId') : Promise.resolve()).then(() =>
      this.bus.request(SetNumberTeamV1, { actor: actorOf(p), phoneNumberId, teamId }),
    );
  }

  /** Work state + ingest summary + the names of owner and team, as clients show them. */
  private async present(works: WorkState[], summaries: Map<string, ConversationSummary>) {
    const ownerIds = [...new Set(works.map((w) => w.ownerId).filter((x): x is string => !!x))];
    const owners = new Map((await this.users.byIds(ownerIds)).map((u) => [u.id, u]));
    const teams = new Map((await this.teams.list()).map((t) => [t.id, t]));
    return works.map((w) => {
      const s = summaries.get(w.conversationId);
      const owner = w.ownerId ? owners.get(w.ownerId) : undefined;
      const team = w.teamId ? teams.get(w.teamId) : undefined;
      const windowEnds = s?.lastInboundAt ? new Date(Date.parse(s.lastInboundAt) + WINDOW_MS).toISOString() : null;
      return {
        id: w.conversationId,
        version: w.version,
        status: w.status,
        snoozeUntil: w.snoozeUntil,
        priority: w.priority,
        labels: w.labels,
        owner: w.ownerId ? { id: w.ownerId, name: owner?.name ?? null } : null,
        team: w.teamId ? { id: w.teamId, name: team?.name ?? null } : null,
        bot: w.bot ? { id: w.bot.id, name: w.bot.name, since: w.bot.since } : null,
        phoneNumberId: w.phoneNumberId,
        contact: s?.contact ?? { id: w.contactId, name: null, waId: null, userId: null },
        lastMessageAt: s?.lastMessageAt ?? w.lastMessageAt,
        lastInboundAt: s?.lastInboundAt ?? null,
        lastMessageText: s?.lastMessageText ?? null,
        messageCount: s?.messageCount ?? null,
        window: { open: windowEnds !== null && Date.parse(windowEnds) > Date.now(), endsAt: windowEnds, closesAt: windowEnds },
        openedAt: w.openedAt,
        resolvedAt: w.resolvedAt,
        updatedAt: w.updatedAt,
      };
    });
  }

  /** A CONFLICT because someone else owns the conversation: say who, by name. */
  private async nameOwner(err: unknown): Promise<never> {
    const ownerId = err instanceof BusError && err.code === 'CONFLICT' ? (err.details as { ownerId?: string })?.ownerId : undefined;
    if (!ownerId) throw err;
    const owner = (await this.users.byIds([ownerId]))[0];
    const name = owner ? `${owner.name} <${owner.email}>` : `user ${ownerId}`;
    throw new ConflictException({
      message: `conversation is owned by ${name}; only the owner can do this (a manager can take over)`,
      details: { ...(err as BusError).details as object, owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : { id: ownerId } },
    });
  }

  private async userRef(id: string, field: string): Promise<UserRef> {
    const u = (await this.users.byIds([id]))[0];
    if (!u || u.disabled) throw new BadRequestException(`${field}: user ${id} does not exist or is disabled`);
    return { id: u.id, role: u.role, teamIds: u.teamIds };
  }

  private async checkTeam(id: string, field: string): Promise<void> {
    if (!(await this.teams.exists(id))) throw new BadRequestException(`${field}: team ${id} does not exist`);
  }
}

/** Meta's template send: the body parameters, in order, as text parameters (notifications checks the count). */
function templateMessage(t: ReplyTemplateDto): OutboundMessage {
  const params = t.bodyParameters ?? [];
  return {
    type: 'template',
    name: t.name,
    language: t.language,
    ...(params.length ? { components: [{ type: 'body', parameters: params.map((text) => ({ type: 'text', text })) }] } : {}),
  };
}
