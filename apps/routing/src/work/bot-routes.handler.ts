import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DirectoryChangedV1, SetNumberBotV1, type PayloadOf, type RequestOf } from '@app/contracts';
import { Bus, currentCorrelationId, ForbiddenError } from '@app/messaging';
import { claimEvent, OutboxWriter } from '@app/persistence';
import { QueueDrainer } from '../assignment/assignment.sweeper';
import { BotRouteRepository } from './bot-route.repository';
import { recordChange, SYSTEM_ACTOR } from './record-change';
import { AuditRepository, WorkRepository } from './work.repository';

const REVOKED_DURABLE = 'routing-bots-on-revoked';

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
    await this.bus.consume(DirectoryChangedV1, { durable: REVOKED_DURABLE }, (e) => this.directory(e));
  }

  async setNumberBot(r: RequestOf<typeof SetNumberBotV1>) {
    if (r.actor.role !== 'admin' || r.actor.type === 'bot') throw new ForbiddenError('only admins choose a number’s bot');
    await this.ds.transaction(async (em) => {
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
    const teams = await this.ds.transaction(async (em) => {
      if (!(await claimEvent(em, 'routing', REVOKED_DURABLE, e.eventId))) return [];
      const note = 'the bot’s API key was revoked';
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
      const touched: (string | null)[] = [];
      for (const id of await this.bots.heldBy(em, e.entityId, 10_000)) {
        const w = (await this.work.lock(em, id))!;
        const after = await this.work.update(em, id, { bot: null });
        await recordChange(this.audit, this.outbox, em, { actor: SYSTEM_ACTOR, action: 'conversation.bot-released', before: w, after, note });
        touched.push(after.teamId);
      }
      return touched;
    });
    this.drainer.kick(teams);
  }
}
