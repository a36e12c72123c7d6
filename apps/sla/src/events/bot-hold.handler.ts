import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ConversationWorkChangedV1, type PayloadOf } from '@app/contracts';
import { Bus } from '@app/messaging';
import { claimEvent } from '@app/persistence';
import { Clock } from '../clock/clock';
import { ClocksService } from '../clocks/clocks.service';
import { SLA_CONFIG, type SlaConfig } from '../config';

const DURABLE = 'sla-clocks-on-bot';

/**
 * Bot handover (issue 14): while a bot holds a conversation (`state.bot`), its clocks are paused, so nothing warns
 * or breaches; when the bot hands over (or a person takes it back) they run again from that moment (the time the
 * bot held it is paused time). Its own durable consumer of the work state, idempotent by event id, ignoring states
 * older than the last one it applied; the hold takes effect at sla's clock, like status changes.
 */
@Injectable()
export class BotHoldHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly clocks: ClocksService,
    private readonly clock: Clock,
    @Inject(SLA_CONFIG) private readonly cfg: SlaConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(
      ConversationWorkChangedV1,
      { durable: DURABLE, concurrency: 8, maxDeliver: this.cfg.SLA_EVENT_MAX_DELIVER, backoffMs: this.cfg.SLA_EVENT_BACKOFF_MS },
      (e) => this.work(e),
    );
  }

  async work(e: PayloadOf<typeof ConversationWorkChangedV1>): Promise<void> {
    const s = e.state;
    await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'sla', DURABLE, e.eventId))) return;
      const c = await this.clocks.ensureConversation(em, s.conversationId, s);
      if (c.bot_version >= s.version) return; // an older state arriving late
      const held = !!s.bot;
      const at = this.clock.now();
      await this.clocks.update(em, s.conversationId, { bot_version: s.version, bot_since: held ? (c.bot_since ?? at) : null });
      if (held !== (c.bot_since !== null)) await this.clocks.sync(em, s.conversationId, at);
    });
  }
}
