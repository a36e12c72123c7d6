import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DirectoryChangedV1, GetNumberBotV1, SetNumberBotV1, type PayloadOf, type RequestOf } from '@app/contracts';
import { Bus, currentCorrelationId, ForbiddenError, ValidationError } from '@app/messaging';
import { claimEvent, OutboxWriter } from '@app/persistence';
import { QueueDrainer } from '../assignment/assignment.sweeper';
import { BotRouteRepository } from './bot-route.repository';
import { recordChange, SYSTEM_ACTOR } from './record-change';
import { AuditRepository, WorkRepository } from './work.repository';

const REVOKED_DURABLE = 'routing-bots-on-revoked';
/** Conversations released per transaction when a bot is revoked. */
const RELEASE_BATCH = 500;

/**
 * Bot handover, the number's bot: admins send a business number's new conversations to a bot first
 * (`routing.set-number-bot.v1`, audited `number.bot-set`). When the bot's API key is revoked (the gateway's
 * `api-key.revoked` directory event) its number routes are removed and the conversations it holds go back to their
 * team's queue (`conversation.bot-released`), so nothing stays with a bot that can no longer answer.
 */
@Injectable()
export class BotRoutesHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly bots: BotRouteRepository,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly outbox: OutboxWriter,
    private readonly drainer: QueueDrainer,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(SetNumberBotV1, (r) => this.setNumberBot(r));
    await this.bus.respond(GetNumberBotV1, async (r) => ({ phoneNumberId: r.phoneNumberId, bot: await this.bots.forNumber(this.ds.manager, r.phoneNumberId) }));
    await this.bus.consume(DirectoryChangedV1, { durable: REVOKED_DURABLE }, (e) => this.directory(e));
  }

  async setNumberBot(r: RequestOf<typeof SetNumberBotV1>) {
    if (r.actor.role !== 'admin' || r.actor.type === 'bot') throw new ForbiddenError('only admins choose a number’s bot');
    await this.ds.transaction(async (em) => {
      // the gateway checked the key was live; it may have been revoked since
      if (r.bot && (await this.bots.isRevoked(em, r.bot.id))) throw new ValidationError(`apiKeyId: bot ${r.bot.name ?? r.bot.id}: its API key was revoked`);
      const before = await this.bots.forNumber(em, r.phoneNumberId);
      if (JSON.stringify(before) === JSON.stringify(r.bot)) return;
      await this.bots.set(em, r.phoneNumberId, r.bot);
      await this.audit.append(em, {
        conversationId: null,
        teamId: null,
        actor: { type: r.actor.type, id: r.actor.id, name: r.actor.name },
        action: 'number.bot-set',
        before: { phoneNumberId: r.phoneNumberId, bot: before },
        after: { phoneNumberId: r.phoneNumberId, bot: r.bot },
        requestId: currentCorrelationId() ?? null,
      });
    });
    return { phoneNumberId: r.phoneNumberId, bot: r.bot };
  }

  async directory(e: PayloadOf<typeof DirectoryChangedV1>): Promise<void> {
    if (e.action !== 'api-key.revoked' || e.entityType !== 'api_key') return;
    const note = 'the bot’s API key was revoked';
    // first: the bot is revoked (holds in flight commit before this, later ones are refused) and its number routes go
    await this.ds.transaction(async (em) => {
      await this.bots.markRevoked(em, e.entityId);
      if (!(await claimEvent(em, 'routing', REVOKED_DURABLE, e.eventId))) return;
      for (const phoneNumberId of await this.bots.removeBot(em, e.entityId)) {
        await this.audit.append(em, {
          conversationId: null,
          teamId: null,
          actor: SYSTEM_ACTOR,
          action: 'number.bot-set',
          before: { phoneNumberId, bot: { id: e.entityId } },
          after: { phoneNumberId, bot: null },
          note,
        });
      }
    });
    // then: every conversation it still holds goes back to its team's queue, a batch per transaction until none is
    // left (also on a redelivery: releasing is idempotent)
    for (;;) {
      const teams = await this.ds.transaction(async (em) => {
        const touched: (string | null)[] = [];
        for (const id of await this.bots.heldBy(em, e.entityId, RELEASE_BATCH)) {
          const w = (await this.work.lock(em, id))!;
          const after = await this.work.update(em, id, { bot: null });
          await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.bot-released', before: w, after, note });
          touched.push(after.teamId);
        }
        return touched;
      });
      if (teams.length === 0) return;
      this.drainer.kick(teams);
    }
  }
}
