import { Module } from '@nestjs/common';
import { ConfigApiKeyGuard } from '../auth/api-key.guard';
import { ConversationsController } from './conversations.controller';

@Module({ controllers: [ConversationsController], providers: [ConfigApiKeyGuard] })
export class ConversationsModule {}
