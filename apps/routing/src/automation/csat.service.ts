import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  CSAT_RATINGS,
  CSAT_ROW_TITLES,
  ConversationResolvedV1,
  CsatAnsweredV1,
  GetConversationV1,
  SendMessageV1,
  csatReplyId,
  type CsatSetting,
  type PayloadOf,
} from '@app/contracts';
import { Bus, BusError, DomainError, RemoteError, ValidationError } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { WorkRepository } from '../work/work.repository';
import { CsatRecorder } from './csat.recorder';
import { CsatRepository, type SurveyRow } from './csat.repository';

/** Refusals a retry cannot change (e.g. VALIDATION: the 24 h window closed): the survey is recorded as not sent. */
const PERMANENT = new Set(['VALIDATION', 'NOT_FOUND', 'CONFLICT', 'FORBIDDEN']);
const SENDER_NAME = 'Satisfaction survey';

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
    private readonly record: CsatRecorder,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(ConversationResolvedV1, { durable: 'routing-csat-on-resolved', concurrency: 4 }, (e) => this.onResolved(e));
    await this.bus.consume(CsatAnsweredV1, { durable: 'routing-csat-answers', concurrency: 4, maxDeliver: 5, backoffMs: 500 }, (e) => this.onAnswered(e));
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
        const done = await this.csat.finish(tx, survey.id, { status: 'not_sent', at: this.record.now(), reason });
        if (!done) return;
        await this.csat.counted(tx, setting.id, reason);
        await this.record.step(tx, done, 'csat.not-sent', reason);
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
      const done = await this.csat.finish(tx, survey.id, { status: 'sent', at: this.record.now(), reason: null });
      if (!done) return; // another delivery finished it
      await this.csat.counted(tx, setting.id, null);
      await this.record.step(tx, done, 'csat.sent');
    });
  }

  private async recipient(conversationId: string): Promise<string> {
    const conv = await this.bus.request(GetConversationV1, { conversationId });
    const to = conv.contact.waId ?? conv.contact.userId;
    if (!to) throw new ValidationError('the contact has no WhatsApp id');
    return to;
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
        await this.record.step(em, after, 'csat.rated');
        return after.comment_prompt ? after : null;
      }
      // answers are handled 4 at a time: a comment may come before its rating is stored. Not marked processed;
      // the error rolls the claim back and the bus redelivers with backoff, then dead-letters a comment whose
      // rating never comes (maxDeliver), so it is recorded there rather than silently dropped.
      if (e.comment !== null && s.rating === null) throw new Error(`CSAT comment for survey ${s.id} arrived before its rating; retried`);
      if (e.comment !== null && s.comment === null) {
        const after = await this.csat.comment(em, s.id, e.comment);
        await this.record.step(em, after, 'csat.commented');
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
