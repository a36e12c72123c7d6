import { Module } from '@nestjs/common';
import { ConversationSlaController, SlaController } from './sla.controller';
import { SlaApiService } from './sla.service';

@Module({ controllers: [SlaController, ConversationSlaController], providers: [SlaApiService], exports: [SlaApiService] })
export class SlaApiModule {}
