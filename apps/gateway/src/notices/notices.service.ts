import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { GetWorkV1, NoteAddedV1, NoticeRequestedV1, UserNoticePushV1, type PayloadOf } from '@app/contracts';
import { Bus, RemoteError, streamFeedOf } from '@app/messaging';
import { RealtimeHub } from '../realtime/realtime.hub';
import { NOTICE_CHANNELS, type NoticeChannel } from './notice-channel';
import { NoticesRepository, type NoticeInsert } from './notices.repository';
import { watchersOf } from '../automation/watchers.service';

const SYSTEM = { type: 'system' as const, id: 'gateway-notices', name: 'gateway', role: 'admin' as const, teamIds: [] };

/**
 * The receiving side of notices: a durable consumer stores one row per recipient (idempotent by event id + user;
 * `teamManagersOf` becomes that team's managers), then each new row is pushed to every gateway replica (core NATS)
 * for that user's open WebSockets, and handed to any other channels. Mentions in notes become 'mention' notices.
 */
@Injectable()
export class NoticesService implements OnApplicationBootstrap {
  private readonly log = new Logger('Notices');
  private stopPush?: () => void;

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly ds: DataSource,
    private readonly repo: NoticesRepository,
    private readonly hub: RealtimeHub,
    @Optional() @Inject(NOTICE_CHANNELS) private readonly channels: NoticeChannel[] | null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const feed = streamFeedOf(this.bus);
    this.stopPush = await feed.onBroadcast(UserNoticePushV1, (raw) => {
      const p = UserNoticePushV1.schema.safeParse(raw);
      if (p.success) this.hub.sendToUser(p.data.userId, { type: 'notice', notice: p.data.notice });
    });
    await this.bus.consume(NoticeRequestedV1, { durable: 'gateway-notices', concurrency: 4 }, (e) => this.requested(e));
    await this.bus.consume(NoteAddedV1, { durable: 'gateway-notices-mentions', concurrency: 4 }, (e) => this.mentioned(e));
  }

  onApplicationShutdown(): void {
    this.stopPush?.();
  }

  async requested(e: PayloadOf<typeof NoticeRequestedV1>): Promise<void> {
    await this.store(e.eventId, e.audience.userIds, e.audience.teamManagersOf, {
      kind: e.kind,
      conversationId: e.conversationId,
      title: e.title,
      body: e.body,
      data: e.data,
      source: e.source,
    }, e.conversationId);
  }

  async mentioned(e: PayloadOf<typeof NoteAddedV1>): Promise<void> {
    const who = e.mentions.filter((m) => m !== e.author.id);
    await this.store(e.eventId, who, null, {
      kind: 'mention',
      conversationId: e.conversationId,
      title: `${e.author.name ?? 'Someone'} mentioned you in a note`,
      body: null,
      data: { noteId: e.noteId, teamId: e.teamId },
      source: 'routing',
    });
  }

  private async store(eventId: string, userIds: string[], teamManagersOf: string | null, n: Omit<NoticeInsert, 'id' | 'userId' | 'eventId'>, watchedId: string | null = null) {
    // a notice about a conversation goes only to people who may see it now (it may have moved team since)
    const scope = n.conversationId ? await this.scopeOf(n.conversationId) : null;
    const stored = await this.ds.transaction(async (em) => {
      const managers = teamManagersOf ? await this.repo.managersOf(em, teamManagersOf) : [];
      const watchers = await watchersOf(em, watchedId); // a conversation's notices also go to its watchers (issue 14)
      const all = [...new Set([...userIds, ...managers, ...watchers])];
      const users = n.conversationId ? await this.repo.activeUsersSeeing(em, all, scope) : await this.repo.activeUsers(em, all);
      return this.repo.insert(em, users.map((userId) => ({ ...n, id: randomUUID(), userId, eventId })));
    });
    const feed = streamFeedOf(this.bus);
    for (const { userId, ...notice } of stored) {
      feed.broadcast(UserNoticePushV1, { userId, notice });
      for (const c of this.channels ?? [])
        await c.deliver(userId, notice).catch((err) => this.log.warn(`notice channel ${c.name} failed: ${(err as Error).message}`));
    }
  }

  /** The conversation's team and owner (routing's work state); null when routing does not know it (admins only). */
  private async scopeOf(conversationId: string): Promise<{ teamId: string | null; ownerId: string | null } | null> {
    try {
      const w = await this.bus.request(GetWorkV1, { actor: SYSTEM, conversationId });
      return { teamId: w.teamId, ownerId: w.ownerId };
    } catch (err) {
      if (err instanceof RemoteError && err.code === 'NOT_FOUND') return null;
      throw err; // routing unreachable: the event is delivered again
    }
  }

  list(userId: string, q: { unreadOnly: boolean; cursor: string | null; limit: number }) {
    return this.repo.list(this.ds.manager, userId, q);
  }

  markRead(userId: string, ids: string[] | 'all') {
    return this.repo.markRead(this.ds.manager, userId, ids);
  }
}
