import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { GetConversationV1, ListConversationsV1, ListMessagesV1, SearchConversationsV1, type RequestOf, type ResponseOf } from '@app/contracts';
import { Bus, NotFoundError, ValidationError } from '@app/messaging';
import { MessageRepository } from '../messages/message.repository';
import { ConversationRepository } from './conversation.repository';

/** Opaque cursors: base64url of the last row's sort key. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}
export function decodeCursor(cursor: string, n: number): string[] {
  try {
    const parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parts) && parts.length === n && parts.every((p) => typeof p === 'string')) return parts;
  } catch {
    /* fall through to the error below */
  }
  throw new ValidationError('invalid cursor');
}

/** PostgreSQL's text form of a timestamptz, e.g. `2025-06-15 23:27:53.123456+00`. */
const PG_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Answers the gateway's read requests (ListConversationsV1, GetConversationV1, ListMessagesV1, SearchConversationsV1). */
@Injectable()
export class InboxReadHandler implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly conversations: ConversationRepository,
    private readonly messages: MessageRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.respond(ListConversationsV1, (q) => this.listConversations(q));
    await this.bus.respond(GetConversationV1, (q) => this.getConversation(q));
    await this.bus.respond(ListMessagesV1, (q) => this.listMessages(q));
    await this.bus.respond(SearchConversationsV1, async (q) => ({ ids: await this.conversations.search(this.ds.manager, q.q, q.limit) }));
  }

  async listConversations(q: RequestOf<typeof ListConversationsV1>): Promise<ResponseOf<typeof ListConversationsV1>> {
    let after: { at: string; id: string } | undefined;
    if (q.cursor) {
      const [at, id] = decodeCursor(q.cursor, 2);
      if (!UUID.test(id) || !PG_TIMESTAMP.test(at)) throw new ValidationError('invalid cursor');
      after = { at, id };
    }
    const page = await this.conversations.list(this.ds.manager, { limit: q.limit, after, phoneNumberId: q.phoneNumberId, ids: q.ids });
    return { items: page.items, nextCursor: page.last ? encodeCursor([page.last.at, page.last.id]) : null };
  }

  async getConversation(q: RequestOf<typeof GetConversationV1>): Promise<ResponseOf<typeof GetConversationV1>> {
    const found = await this.conversations.summary(this.ds.manager, q.conversationId);
    if (!found) throw new NotFoundError(`conversation ${q.conversationId} not found`);
    return found;
  }

  async listMessages(q: RequestOf<typeof ListMessagesV1>): Promise<ResponseOf<typeof ListMessagesV1>> {
    if (!(await this.conversations.summary(this.ds.manager, q.conversationId))) {
      throw new NotFoundError(`conversation ${q.conversationId} not found`);
    }
    let after: { at: string; seq: string } | undefined;
    if (q.cursor) {
      const [at, seq] = decodeCursor(q.cursor, 2);
      if (!/^\d+$/.test(seq) || !PG_TIMESTAMP.test(at)) throw new ValidationError('invalid cursor');
      after = { at, seq };
    }
    const page = await this.messages.list(this.ds.manager, q.conversationId, q.limit, after, q.order);
    return { items: page.items, nextCursor: page.last ? encodeCursor([page.last.at, page.last.seq]) : null };
  }
}
