import { Module } from '@nestjs/common';
import { ApiKeysRepository } from '../auth/api-keys.repository';
import { BotController, NumberBotController } from './bot.controller';
import { BotService } from './bot.service';

/** Bot handover routes (issue 14). */
@Module({ controllers: [BotController, NumberBotController], providers: [BotService, ApiKeysRepository] })
export class BotModule {}
