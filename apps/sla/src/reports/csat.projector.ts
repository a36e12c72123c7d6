import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CsatRecordedV1, DashboardChangedPushV1, type PayloadOf } from '@app/contracts';
import { Bus, streamFeedOf } from '@app/messaging';
import { Clock } from '../clock/clock';
import { SLA_CONFIG, type SlaConfig } from '../config';

/**
 * CSAT surveys in the reporting projection (`rpt_csat`, one row per survey): each `csat.recorded` event carries the
 * survey's whole state with a version, so a redelivered or late (older) event changes nothing.
 */
@Injectable()
export class CsatProjector implements OnApplicationBootstrap {
  private readonly log = new Logger('CsatProjector');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly clock: Clock,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const opts = { durable: 'sla-reports-csat', concurrency: 4, maxDeliver: this.cfg.SLA_EVENT_MAX_DELIVER, backoffMs: this.cfg.SLA_EVENT_BACKOFF_MS };
    await this.bus.consume(CsatRecordedV1, opts, async (e) => {
      if (!(await this.apply(e))) return;
      try {
        streamFeedOf(this.bus).broadcast(DashboardChangedPushV1, {
          teamIds: e.teamId ? [e.teamId] : [],
          agentIds: e.agentId ? [e.agentId] : [],
          cause: 'csat',
          at: this.clock.now().toISOString(),
        });
      } catch (err) {
        this.log.warn(`dashboard push failed: ${(err as Error).message}`);
      }
    });
  }

  /** True when the row changed. */
  async apply(e: PayloadOf<typeof CsatRecordedV1>): Promise<boolean> {
    const rows = await this.ds.query(
      `INSERT INTO sla.rpt_csat AS c (survey_id, conversation_id, phone_number_id, team_id, agent_id, sent_at, rating, rated_at, comment, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (survey_id) DO UPDATE SET team_id = EXCLUDED.team_id, agent_id = EXCLUDED.agent_id, sent_at = EXCLUDED.sent_at,
         rating = EXCLUDED.rating, rated_at = EXCLUDED.rated_at, comment = EXCLUDED.comment, version = EXCLUDED.version
       WHERE c.version < EXCLUDED.version
       RETURNING 1`,
      [e.surveyId, e.conversationId, e.phoneNumberId, e.teamId, e.agentId, e.sentAt, e.rating, e.ratedAt, e.comment, e.version],
    );
    return rows.length > 0;
  }
}
