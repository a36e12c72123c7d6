import { Module } from '@nestjs/common';
import { BotController } from './bot.controller';
import { BotService } from './bot.service';

/** Bot handover routes (issue 14). */
@Module({ controllers: [BotController], providers: [BotService] })
export class BotModule {}
