import { BadRequestException, ConflictException, Inject, Injectable } from '@nestjs/common';
import { BotHandoverV1, BotHoldV1, BotTakeBackV1, GetNumberBotV1, SetNumberBotV1 } from '@app/contracts';
import { DataSource } from 'typeorm';
import { Bus, BusError } from '@app/messaging';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import { actorOf, type Principal } from '../auth/principal';
import { TeamsService } from '../teams/teams.service';
import { UsersService } from '../users/users.service';

/**
 * Bot handover (issue 14) over routing's audited commands: a bot (API key with the `bot` scope) holds a
 * conversation and hands it over to a team with a summary note; people take it back. Routing decides who may.
 */
@Injectable()
export class BotService {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly teams: TeamsService,
    private readonly users: UsersService,
    private readonly ds: DataSource,
    private readonly keys: ApiKeysRepository,
  ) {}

  hold(p: Principal, conversationId: string, version: number | undefined) {
    return this.bus.request(BotHoldV1, { actor: actorOf(p), conversationId, version }).catch((e) => this.nameOwner(e));
  }

  async handover(p: Principal, conversationId: string, dto: { teamId: string; note: string; version?: number }) {
    if (!dto.note.trim()) throw new BadRequestException('note is required for a handover: a summary for the people who take over');
    if (!(await this.teams.exists(dto.teamId))) throw new BadRequestException(`teamId: team ${dto.teamId} does not exist`);
    return this.bus.request(BotHandoverV1, { actor: actorOf(p), conversationId, version: dto.version, teamId: dto.teamId, note: dto.note });
  }

  takeBack(p: Principal, conversationId: string, version: number) {
    return this.bus.request(BotTakeBackV1, { actor: actorOf(p), conversationId, version });
  }

  /** Admin: new conversations on the number go to this bot first (a live API key with the bot scope), or not (null). */
  async setNumberBot(p: Principal, phoneNumberId: string, apiKeyId: string | null) {
    let bot: { id: string; name: string } | null = null;
    if (apiKeyId) {
      const key = await this.ds.transaction((em) => this.keys.findById(em, apiKeyId));
      if (!key) throw new BadRequestException(`apiKeyId: API key ${apiKeyId} does not exist`);
      if (key.revokedAt) throw new BadRequestException(`apiKeyId: API key "${key.name}" is revoked`);
      if (!key.scopes.includes('bot')) throw new BadRequestException(`apiKeyId: API key "${key.name}" has no bot scope (create a key with the scope bot)`);
      bot = { id: key.id, name: key.name };
    }
    return this.bus.request(SetNumberBotV1, { actor: actorOf(p), phoneNumberId, bot });
  }

  getNumberBot(phoneNumberId: string) {
    return this.bus.request(GetNumberBotV1, { phoneNumberId });
  }

  /** A person owns it: a bot never takes it from them (say who, by name). */
  private async nameOwner(err: unknown): Promise<never> {
    const ownerId = err instanceof BusError && err.code === 'CONFLICT' ? (err.details as { ownerId?: string } | undefined)?.ownerId : undefined;
    if (!ownerId) throw err;
    const owner = (await this.users.byIds([ownerId]))[0];
    throw new ConflictException({
      message: `conversation is owned by ${owner ? `${owner.name} <${owner.email}>` : `user ${ownerId}`}; a bot holds only conversations nobody owns`,
      details: { ...((err as BusError).details as object), owner: owner ? { id: owner.id, name: owner.name, email: owner.email } : { id: ownerId } },
    });
  }
}
