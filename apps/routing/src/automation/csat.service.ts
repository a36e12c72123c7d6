import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  CSAT_RATINGS,
  CSAT_ROW_TITLES,
  ConversationResolvedV1,
  CsatAnsweredV1,
  CsatRecordedV1,
  DeleteCsatSettingV1,
  GetConversationCsatV1,
  GetConversationV1,
  ListCsatSettingsV1,
  PutCsatSettingV1,
  SendMessageV1,
  csatReplyId,
  type Actor,
  type CsatSetting,
  type CsatSurvey,
  type PayloadOf,
  type RequestOf,
} from '@app/contracts';
import { Bus, BusError, DomainError, ForbiddenError, NotFoundError, RemoteError, ValidationError } from '@app/messaging';
import { claimEvent, OutboxWriter } from '@app/persistence';
import { RoutingClock } from '../assignment/clock';
import { canSee } from '../work/permissions';
import { AuditRepository, WorkRepository } from '../work/work.repository';
import { CsatRepository, toSurvey, type SurveyRow } from './csat.repository';

/** Refusals a retry cannot change (e.g. VALIDATION: the 24 h window closed): the survey is recorded as not sent. */
const PERMANENT = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN']);
const CSAT_ACTOR = { type: 'system', id: null, name: 'CSAT survey' } as const;
const SENDER_NAME = 'Satisfaction survey';

const managesTeam = (a: Actor, teamId: string | null) => a.role === 'admin' || (a.role === 'manager' && !!teamId && a.teamIds.includes(teamId));

/**
 * CSAT surveys (issue 14, item 5). On `conversation.resolved`: if the conversation is still resolved and a setting
 * applies (number's, else team's), the episode's survey row is claimed (unique conversation + episode, so
 * redeliveries and replicas never send twice) and one interactive list goes out through notifications' normal path
 * as the system; notifications refuses it outside the 24 h window (then the survey is `not_sent`, with the reason).
 * On ingest's `csat.answered`: the first rating of a sent survey is stored (with the agent who owned the
 * conversation at the resolve), then the comment prompt is sent if the setting has one; a later comment is stored
 * once. Each step is an audit entry (no comment text: the audit trail is append-only) and a `csat.recorded` event.
 */
@Injectable()
export class CsatService implements OnApplicationBootstrap {
  private readonly log = new Logger('Csat');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly csat: CsatRepository,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
    private readonly clock: RoutingClock,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all([
      this.bus.respond(PutCsatSettingV1, (r) => this.put(r)),
      this.bus.respond(ListCsatSettingsV1, (r) => this.list(r.actor)),
      this.bus.respond(DeleteCsatSettingV1, (r) => this.remove(r.actor, r.id)),
      this.bus.respond(GetConversationCsatV1, (r) => this.forConversation(r.actor, r.conversationId)),
    ]);
    await this.bus.consume(ConversationResolvedV1, { durable: 'routing-csat-on-resolved', concurrency: 4 }, (e) => this.onResolved(e));
    await this.bus.consume(CsatAnsweredV1, { durable: 'routing-csat-answers', concurrency: 4 }, (e) => this.onAnswered(e));
  }

  // ------------------------------------------------------------------ settings

  async put(r: RequestOf<typeof PutCsatSettingV1>): Promise<CsatSetting> {
    const a = r.actor;
    if (r.setting.phoneNumberId && a.role !== 'admin') throw new ForbiddenError('only admins set a business number’s CSAT survey; managers set their teams’');
    if (r.setting.teamId && !managesTeam(a, r.setting.teamId)) throw new ForbiddenError('only admins and the team’s managers set its CSAT survey');
    return this.csat.put(this.ds.manager, r.setting);
  }

  async list(a: Actor): Promise<{ items: CsatSetting[] }> {
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only admins and managers see CSAT settings');
    return { items: await this.csat.list(this.ds.manager, a.role === 'admin' ? null : a.teamIds) };
  }

  async remove(a: Actor, id: string): Promise<{ deleted: boolean }> {
    const s = await this.csat.get(this.ds.manager, id);
    if (!s) throw new NotFoundError('no such CSAT setting');
    if (s.phoneNumberId ? a.role !== 'admin' : !managesTeam(a, s.teamId)) throw new ForbiddenError('only admins and the team’s managers delete its CSAT survey');
    return { deleted: await this.csat.delete(this.ds.manager, id) };
  }

  async forConversation(a: Actor, conversationId: string): Promise<{ items: CsatSurvey[] }> {
    const w = await this.work.find(this.ds.manager, conversationId);
    if (!w || !canSee(a, w)) throw new NotFoundError('conversation not found');
    return { items: (await this.csat.forConversation(this.ds.manager, conversationId)).map(toSurvey) };
  }

  // ------------------------------------------------------------------ survey

  async onResolved(e: PayloadOf<typeof ConversationResolvedV1>): Promise<void> {
    const em = this.ds.manager;
    const w = await this.work.find(em, e.conversationId);
    // reopened before this event was handled: the customer is talking again, no survey now
    if (!w || w.status !== 'resolved') return;
    const setting = await this.csat.applicable(em, w.phoneNumberId, w.teamId);
    if (!setting) return;
    const episode = await this.csat.episodeOf(em, w.conversationId);
    const survey = await this.csat.claim(em, {
      conversationId: w.conversationId,
      episode,
      settingId: setting.id,
      phoneNumberId: w.phoneNumberId,
      teamId: w.teamId,
      agentId: w.ownerId,
      commentPrompt: setting.commentPrompt,
      commentMinutes: setting.commentMinutes,
    });
    if (!survey) return; // this episode's survey went out (or was refused) already
    try {
      await this.sendSurvey(survey, setting);
    } catch (err) {
      const permanent = err instanceof DomainError || (err instanceof RemoteError && PERMANENT.has((err as BusError).code));
      if (!permanent) throw err; // redelivered: the unfinished row is claimed again and resent under the same key
      const reason = (err as Error).message;
      this.log.warn(`CSAT survey ${survey.id} on ${survey.conversation_id} not sent: ${reason}`);
      await this.ds.transaction(async (tx) => {
        const done = await this.csat.finish(tx, survey.id, { status: 'not_sent', at: this.clock.now(), reason });
        if (!done) return;
        await this.csat.counted(tx, setting.id, reason);
        await this.audit.append(tx, {
          conversationId: done.conversation_id,
          teamId: done.team_id,
          actor: CSAT_ACTOR,
          action: 'csat.not-sent',
          before: null,
          after: { surveyId: done.id, episode: done.episode, agentId: done.agent_id },
          note: reason.slice(0, 500),
        });
      });
    }
  }

  private async sendSurvey(survey: SurveyRow, setting: CsatSetting): Promise<void> {
    const to = await this.recipient(survey.conversation_id);
    const minutes = survey.comment_prompt ? survey.comment_minutes : 0;
    const sent = await this.bus.request(SendMessageV1, {
      idempotencyKey: `csat:${survey.id}`,
      phoneNumberId: survey.phone_number_id,
      to,
      conversationId: survey.conversation_id,
      senderId: null,
      senderName: SENDER_NAME,
      message: {
        type: 'interactive',
        interactive: {
          type: 'list',
          body: { text: setting.question },
          button: setting.buttonText,
          sections: [{ title: 'Your rating', rows: CSAT_RATINGS.map((n) => ({ id: csatReplyId(survey.id, n, minutes), title: CSAT_ROW_TITLES[n] })) }],
        },
      },
    });
    if (sent.status === 'failed') throw new ValidationError(`the survey could not be sent (${sent.status})`);
    await this.ds.transaction(async (tx) => {
      const done = await this.csat.finish(tx, survey.id, { status: 'sent', at: this.clock.now(), reason: null });
      if (!done) return; // another delivery finished it
      await this.csat.counted(tx, setting.id, null);
      await this.audit.append(tx, {
        conversationId: done.conversation_id,
        teamId: done.team_id,
        actor: CSAT_ACTOR,
        action: 'csat.sent',
        before: null,
        after: { surveyId: done.id, episode: done.episode, agentId: done.agent_id },
      });
      await this.recorded(tx, done);
    });
  }

  private async recipient(conversationId: string): Promise<string> {
    const conv = await this.bus.request(GetConversationV1, { conversationId });
    const to = conv.contact.waId ?? conv.contact.userId;
    if (!to) throw new ValidationError('the contact has no WhatsApp id');
    return to;
  }

  private async recorded(em: EntityManager, s: SurveyRow): Promise<void> {
    await this.outbox.add(em, CsatRecordedV1, {
      eventId: randomUUID(),
      occurredAt: this.clock.now().toISOString(),
      surveyId: s.id,
      conversationId: s.conversation_id,
      phoneNumberId: s.phone_number_id,
      teamId: s.team_id,
      agentId: s.agent_id,
      sentAt: new Date(s.sent_at!).toISOString(),
      rating: s.rating === null ? null : Number(s.rating),
      ratedAt: s.rated_at ? new Date(s.rated_at).toISOString() : null,
      comment: s.comment,
      version: Number(s.version),
    });
  }

  // ------------------------------------------------------------------ answers

  async onAnswered(e: PayloadOf<typeof CsatAnsweredV1>): Promise<void> {
    const prompt = await this.ds.transaction(async (em): Promise<SurveyRow | null> => {
      if (!(await claimEvent(em, 'routing', 'routing-csat-answers', e.eventId))) return null;
      const s = await this.csat.lock(em, e.surveyId);
      if (!s || s.conversation_id !== e.conversationId || s.status !== 'sent') {
        this.log.warn(`CSAT answer for unknown survey ${e.surveyId} on ${e.conversationId} ignored`);
        return null;
      }
      if (e.rating !== null) {
        if (s.rating !== null) return null; // the first rating counts
        const after = await this.csat.rate(em, s.id, e.rating, e.answeredAt, e.messageId);
        await this.audit.append(em, {
          conversationId: s.conversation_id,
          teamId: s.team_id,
          actor: CSAT_ACTOR,
          action: 'csat.rated',
          before: null,
          after: { surveyId: s.id, rating: e.rating, agentId: s.agent_id },
        });
        await this.recorded(em, after);
        return after.comment_prompt ? after : null;
      }
      if (e.comment !== null && s.rating !== null && s.comment === null) {
        const after = await this.csat.comment(em, s.id, e.comment);
        await this.audit.append(em, {
          conversationId: s.conversation_id,
          teamId: s.team_id,
          actor: CSAT_ACTOR,
          action: 'csat.commented',
          before: null,
          after: { surveyId: s.id, rating: Number(s.rating), agentId: s.agent_id },
        });
        await this.recorded(em, after);
      }
      return null;
    });
    if (prompt) await this.sendCommentPrompt(prompt);
  }

  /** Best effort: the rating is stored; a prompt that cannot go out is logged (the same key never sends twice). */
  private async sendCommentPrompt(s: SurveyRow): Promise<void> {
    try {
      await this.bus.request(SendMessageV1, {
        idempotencyKey: `csat-comment:${s.id}`,
        phoneNumberId: s.phone_number_id,
        to: await this.recipient(s.conversation_id),
        conversationId: s.conversation_id,
        senderId: null,
        senderName: SENDER_NAME,
        message: { type: 'text', body: s.comment_prompt! },
      });
    } catch (err) {
      this.log.warn(`CSAT comment prompt for survey ${s.id} not sent: ${(err as Error).message}`);
    }
  }
}
