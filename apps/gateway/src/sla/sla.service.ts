import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import {
  BusinessHoursInput,
  CancelReminderV1,
  CreateBusinessHoursV1,
  CreateFollowUpRuleV1,
  CreateReminderV1,
  CreateSlaPolicyV1,
  DeleteBusinessHoursV1,
  DeleteFollowUpRuleV1,
  DeleteSlaPolicyV1,
  FollowUpRuleInput,
  GetConversationSlaV1,
  GetWorkV1,
  ListBusinessHoursV1,
  ListFollowUpRulesV1,
  ListRemindersV1,
  ListSlaPoliciesV1,
  RankBySlaV1,
  SlaPolicyInput,
  UpdateBusinessHoursV1,
  UpdateSlaPolicyV1,
  type ConversationSlaView,
  type SLA_SORTS,
} from '@app/contracts';
import { Bus, BusError, NotFoundError } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { parseBody } from '../http/parse-body';


/** How long a conversation read waits for its SLA part before showing `sla: null`. */
const SLA_READ_TIMEOUT_MS = 1_000;

/**
 * The SLA API over the sla service: policies, business hours, follow-up rules (admins; managers for their teams,
 * enforced by sla), reminders on conversations the caller may see (routing decides), and the clocks shown on
 * conversations.
 */
@Injectable()
export class SlaApiService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
  ) {}

  async createPolicy(p: Principal, body: unknown) {
    const policy = parseBody(SlaPolicyInput, body);
    await this.checkTeam(policy.teamId);
    return this.bus.request(CreateSlaPolicyV1, { actor: actorOf(p), policy });
  }

  listPolicies(p: Principal, teamId?: string) {
    return this.bus.request(ListSlaPoliciesV1, { actor: actorOf(p), teamId });
  }

  async updatePolicy(p: Principal, id: string, body: unknown) {
    const patch = parseBody(SlaPolicyInput.partial(), body);
    if (patch.teamId) await this.checkTeam(patch.teamId);
    return this.bus.request(UpdateSlaPolicyV1, { actor: actorOf(p), id, patch });
  }

  deletePolicy(p: Principal, id: string) {
    return this.bus.request(DeleteSlaPolicyV1, { actor: actorOf(p), id });
  }

  createHours(p: Principal, body: unknown) {
    return this.bus.request(CreateBusinessHoursV1, { actor: actorOf(p), hours: parseBody(BusinessHoursInput, body) });
  }

  listHours(p: Principal) {
    return this.bus.request(ListBusinessHoursV1, { actor: actorOf(p) });
  }

  /** PATCH merges the given fields into the calendar, then sla validates the whole. */
  async updateHours(p: Principal, id: string, body: unknown) {
    const patch = parseBody(BusinessHoursInput.partial(), body);
    const current = (await this.listHours(p)).items.find((h) => h.id === id);
    if (!current) throw new NotFoundError(`business hours ${id} not found`);
    const { name, timeZone, weekly, holidays } = { ...current, ...patch };
    return this.bus.request(UpdateBusinessHoursV1, { actor: actorOf(p), id, hours: { name, timeZone, weekly, holidays } });
  }

  deleteHours(p: Principal, id: string) {
    return this.bus.request(DeleteBusinessHoursV1, { actor: actorOf(p), id });
  }

  async createRule(p: Principal, body: unknown) {
    const rule = parseBody(FollowUpRuleInput, body);
    await this.checkTeam(rule.teamId);
    return this.bus.request(CreateFollowUpRuleV1, { actor: actorOf(p), rule });
  }

  listRules(p: Principal, teamId?: string) {
    return this.bus.request(ListFollowUpRulesV1, { actor: actorOf(p), teamId });
  }

  deleteRule(p: Principal, id: string) {
    return this.bus.request(DeleteFollowUpRuleV1, { actor: actorOf(p), id });
  }

  /** `at` (ISO time), `inMinutes` from now or `nextDayAt` (HH:MM tomorrow, resolved by sla in the team's zone), plus an optional note; on a conversation the caller may see. */
  async createReminder(p: Principal, conversationId: string, dto: { at?: string; inMinutes?: number; nextDayAt?: string; note?: string }) {
    if ([dto.at, dto.inMinutes, dto.nextDayAt].filter((x) => x !== undefined).length !== 1)
      throw new BadRequestException('exactly one of at, inMinutes or nextDayAt is required');
    const at = dto.nextDayAt !== undefined ? undefined : (dto.at ?? new Date(Date.now() + dto.inMinutes! * 60_000).toISOString());
    const work = await this.visible(p, conversationId);
    return this.bus.request(CreateReminderV1, { actor: actorOf(p), conversationId, at, nextDayAt: dto.nextDayAt, teamId: work.teamId, note: dto.note ?? null });
  }

  /** The caller's own reminders (admins and the team's managers also see others', without their notes). */
  async listReminders(p: Principal, conversationId: string) {
    const work = await this.visible(p, conversationId);
    return this.bus.request(ListRemindersV1, { actor: actorOf(p), conversationId, teamId: work.teamId });
  }

  async cancelReminder(p: Principal, conversationId: string, id: string) {
    await this.visible(p, conversationId);
    return this.bus.request(CancelReminderV1, { actor: actorOf(p), conversationId, id });
  }

  /** Clocks, window and what sla did, for a conversation the caller may see. */
  async conversationSla(p: Principal, conversationId: string): Promise<ConversationSlaView> {
    await this.visible(p, conversationId);
    return (await this.bus.request(GetConversationSlaV1, { conversationIds: [conversationId] })).items[0];
  }

  /**
   * The SLA part of conversations for lists and reads. **Decision:** when sla does not answer (down, or slower than
   * 1 s) the conversation is still shown, with `sla: null` — reading and answering customers must not depend on it.
   */
  async views(ids: string[]): Promise<Map<string, ConversationSlaView> | null> {
    if (!ids.length) return new Map();
    try {
      const r = await this.bus.request(GetConversationSlaV1, { conversationIds: ids.slice(0, 200) }, { timeoutMs: SLA_READ_TIMEOUT_MS });
      return new Map(r.items.map((v) => [v.conversationId, v]));
    } catch (err) {
      if (err instanceof BusError && (err.code === 'UNAVAILABLE' || err.code === 'TIMEOUT')) return null;
      throw err;
    }
  }

  /** Conversation ids in SLA order (due soonest, at risk, breached), for routing's list to filter by visibility. */
  async rankedIds(sort: (typeof SLA_SORTS)[number]): Promise<string[]> {
    return (await this.bus.request(RankBySlaV1, { sort, limit: 500 })).ids;
  }

  private visible(p: Principal, conversationId: string) {
    return this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId });
  }

  private async checkTeam(id: string): Promise<void> {
    if (!(await this.teams.exists(id))) throw new BadRequestException(`teamId: team ${id} does not exist`);
  }
}
