import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { CsatRecordedV1, type PayloadOf } from '@app/contracts';
import { OutboxWriter } from '@app/persistence';
import { RoutingClock } from '../assignment/clock';
import { AuditRepository } from '../work/work.repository';
import type { SurveyRow } from './csat.repository';

const CSAT_ACTOR = { type: 'system', id: null, name: 'CSAT survey' } as const;

/** A sent survey's whole state as `inbox.csat.recorded.v1` (the reports keep the highest version). */
export function csatRecorded(s: SurveyRow, at: Date): PayloadOf<typeof CsatRecordedV1> {
  return {
    eventId: randomUUID(),
    occurredAt: at.toISOString(),
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
  };
}

/**
 * One step of a survey in the caller's transaction: an audit entry (survey, episode, rating, agent; never the comment
 * text, the trail being append-only) and, once the survey was sent, its whole state as `inbox.csat.recorded.v1`.
 */
@Injectable()
export class CsatRecorder {
  constructor(
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
    private readonly clock: RoutingClock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  async step(em: EntityManager, s: SurveyRow, action: 'csat.sent' | 'csat.not-sent' | 'csat.rated' | 'csat.commented', note?: string): Promise<void> {
    const rating = s.rating === null ? null : Number(s.rating);
    await this.audit.append(em, {
      conversationId: s.conversation_id,
      teamId: s.team_id,
      actor: CSAT_ACTOR,
      action,
      before: null,
      after: { surveyId: s.id, episode: Number(s.episode), agentId: s.agent_id, ...(rating !== null ? { rating } : {}) },
      note: note?.slice(0, 500) ?? null,
    });
    if (s.sent_at) await this.outbox.add(em, CsatRecordedV1, csatRecorded(s, this.clock.now()));
  }
}
