import { Controller, Get, Inject, Param, ParseUUIDPipe, Query, UseGuards } from '@nestjs/common';
import { GetConversationV1, ListConversationsV1, ListMessagesV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { ConfigApiKeyGuard } from '../auth/api-key.guard';
import { ListConversationsQuery, PageQuery } from './dto/list.query';

/** Read API over ingest's conversations and messages (integrators; API key until user auth lands). */
@Controller('api/v1/conversations')
@UseGuards(ConfigApiKeyGuard)
export class ConversationsController {
  constructor(@Inject(Bus) private readonly bus: Bus) {}

  @Get()
  list(@Query() q: ListConversationsQuery) {
    return this.bus.request(ListConversationsV1, { cursor: q.cursor ?? null, limit: q.limit ?? 50, phoneNumberId: q.phoneNumberId });
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string) {
    return this.bus.request(GetConversationV1, { conversationId: id });
  }

  @Get(':id/messages')
  messages(@Param('id', ParseUUIDPipe) id: string, @Query() q: PageQuery) {
    return this.bus.request(ListMessagesV1, { conversationId: id, cursor: q.cursor ?? null, limit: q.limit ?? 100 });
  }
}
