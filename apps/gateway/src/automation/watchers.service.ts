import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DataSource } from 'typeorm';
import { ConversationAssignedV1, GetWorkV1, NoteAddedV1 } from '@app/contracts';
import { Bus } from '@app/messaging';
import { actorOf, type Principal } from '../auth/principal';

export interface WatcherView {
  userId: string;
  reason: 'owner' | 'mention' | 'follow';
  since: string;
}

/**
 * Who follows a conversation. Kept by the gateway, which stores the notices: the notices consumer adds a
 * conversation's active watchers to each notice's audience in its own transaction (no request on that path).
 * Owners (from `conversation.assigned`) and mentioned people (from `note.added`) follow by default; anyone who
 * may see the conversation (routing decides) can follow or unfollow.
 */
@Injectable()
export class WatchersService implements OnApplicationBootstrap {
  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.consume(ConversationAssignedV1, { durable: 'gateway-watchers-owners', concurrency: 4 }, async (e) => {
      if (e.ownerId) await this.addDefault(e.conversationId, [e.ownerId], 'owner');
    });
    await this.bus.consume(NoteAddedV1, { durable: 'gateway-watchers-mentions', concurrency: 4 }, async (e) => {
      if (e.mentions.length) await this.addDefault(e.conversationId, e.mentions, 'mention');
    });
  }

  /** A default addition never overrides an explicit unfollow (the row exists with active = false). */
  private async addDefault(conversationId: string, userIds: string[], reason: 'owner' | 'mention'): Promise<void> {
    await this.ds.query(
      `INSERT INTO gateway.conversation_watcher (conversation_id, user_id, reason)
       SELECT $1, u, $3 FROM unnest($2::uuid[]) AS u ON CONFLICT DO NOTHING`,
      [conversationId, userIds, reason],
    );
  }

  async follow(p: Principal, conversationId: string, on: boolean): Promise<{ items: WatcherView[] }> {
    await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId }); // NOT_FOUND when they may not see it
    await this.ds.query(
      `INSERT INTO gateway.conversation_watcher (conversation_id, user_id, reason, active) VALUES ($1, $2, 'follow', $3)
       ON CONFLICT (conversation_id, user_id) DO UPDATE SET active = EXCLUDED.active,
         reason = CASE WHEN EXCLUDED.active THEN 'follow' ELSE gateway.conversation_watcher.reason END`,
      [conversationId, p.id, on],
    );
    return this.list(p, conversationId, false);
  }

  async list(p: Principal, conversationId: string, check = true): Promise<{ items: WatcherView[] }> {
    if (check) await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId });
    const rows = await this.ds.query(
      `SELECT user_id, reason, created_at FROM gateway.conversation_watcher WHERE conversation_id = $1 AND active ORDER BY created_at, user_id`,
      [conversationId],
    );
    return { items: rows.map((r: Record<string, any>) => ({ userId: r.user_id, reason: r.reason, since: new Date(r.created_at).toISOString() })) };
  }
}

/** The active watchers of a conversation, read in the caller's transaction (the notices consumer). */
export async function watchersOf(em: EntityManager, conversationId: string | null): Promise<string[]> {
  if (!conversationId) return [];
  const rows = await em.query(`SELECT user_id FROM gateway.conversation_watcher WHERE conversation_id = $1 AND active`, [conversationId]);
  return rows.map((r: { user_id: string }) => r.user_id);
}
