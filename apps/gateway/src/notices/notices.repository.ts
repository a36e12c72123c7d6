import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { canSeeConversation, type Actor, type NoticeView } from '@app/contracts';
import { decodeCursor, encodeCursor, TIMESTAMP_TEXT, UUID_TEXT } from '@app/persistence';

export interface NoticeInsert {
  id: string;
  userId: string;
  eventId: string;
  kind: string;
  conversationId: string | null;
  title: string;
  body: string | null;
  data: Record<string, unknown> | null;
  source: string;
}

interface Cursor {
  r: 0 | 1;
  t: string;
  i: string;
}

/** gateway.user_notice: one row per recipient; the list is unread first, then newest first. */
@Injectable()
export class NoticesRepository {
  /** Inserts the rows not stored before (event id + user); returns only the new ones. */
  async insert(em: EntityManager, rows: NoticeInsert[]): Promise<(NoticeView & { userId: string })[]> {
    if (!rows.length) return [];
    const out: Record<string, any>[] = await em.query(
      `INSERT INTO gateway.user_notice (id, user_id, event_id, kind, conversation_id, title, body, data, source)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, user_id uuid, event_id uuid, kind text, conversation_id uuid,
         title text, body text, data jsonb, source text)
       ON CONFLICT (event_id, user_id) DO NOTHING RETURNING *`,
      [
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            user_id: r.userId,
            event_id: r.eventId,
            kind: r.kind,
            conversation_id: r.conversationId,
            title: r.title,
            body: r.body,
            data: r.data,
            source: r.source,
          })),
        ),
      ],
    );
    return out.map((r) => ({ ...view(r), userId: r.user_id }));
  }

  /** Of these ids, the users that exist and are enabled. */
  async activeUsers(em: EntityManager, ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const rows: { id: string }[] = await em.query(`SELECT id FROM gateway.app_user WHERE id = ANY($1::uuid[]) AND disabled_at IS NULL`, [ids]);
    return rows.map((r) => r.id);
  }

  /** Of `ids`, the active users who may see a conversation of this scope (null: unknown to routing, admins only). */
  async activeUsersSeeing(em: EntityManager, ids: string[], scope: { teamId: string | null; ownerId: string | null } | null): Promise<string[]> {
    if (!ids.length) return [];
    const rows: { id: string; role: Actor['role']; team_ids: string[] }[] = await em.query(
      `SELECT u.id, u.role, coalesce(array_agg(m.team_id::text) FILTER (WHERE m.team_id IS NOT NULL), '{}') AS team_ids
       FROM gateway.app_user u LEFT JOIN gateway.team_member m ON m.user_id = u.id
       WHERE u.id = ANY($1::uuid[]) AND u.disabled_at IS NULL GROUP BY u.id, u.role`,
      [ids],
    );
    return rows.filter((u) => (scope ? canSeeConversation({ id: u.id, role: u.role, teamIds: u.team_ids }, scope) : u.role === 'admin')).map((u) => u.id);
  }

  async managersOf(em: EntityManager, teamId: string): Promise<string[]> {
    const rows: { id: string }[] = await em.query(
      `SELECT u.id FROM gateway.team_member m JOIN gateway.app_user u ON u.id = m.user_id
       WHERE m.team_id = $1 AND u.role = 'manager' AND u.disabled_at IS NULL`,
      [teamId],
    );
    return rows.map((r) => r.id);
  }

  async list(em: EntityManager, userId: string, q: { unreadOnly: boolean; cursor: string | null; limit: number }) {
    const c = q.cursor ? decodeCursor<Cursor>(q.cursor, (o) => (o?.r === 0 || o?.r === 1) && TIMESTAMP_TEXT.test(o?.t) && UUID_TEXT.test(o?.i)) : null;
    if (q.cursor && !c) return null;
    const rows: Record<string, any>[] = await em.query(
      `SELECT *, (read_at IS NOT NULL)::int AS r, created_at::text AS t FROM gateway.user_notice
       WHERE user_id = $1 AND (NOT $2 OR read_at IS NULL)
         AND ($3::int IS NULL OR (read_at IS NOT NULL)::int > $3 OR ((read_at IS NOT NULL)::int = $3 AND (created_at, id) < ($4::timestamptz, $5::uuid)))
       ORDER BY (read_at IS NOT NULL), created_at DESC, id DESC LIMIT $6`,
      [userId, q.unreadOnly, c?.r ?? null, c?.t ?? null, c?.i ?? null, q.limit + 1],
    );
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const [{ n }] = await em.query(`SELECT count(*)::int AS n FROM gateway.user_notice WHERE user_id = $1 AND read_at IS NULL`, [userId]);
    return { items: page.map(view), nextCursor: more ? encodeCursor({ r: last.r, t: last.t, i: last.id }) : null, unreadCount: n as number };
  }

  async markRead(em: EntityManager, userId: string, ids: string[] | 'all'): Promise<number> {
    const [, n] = await em.query(
      `UPDATE gateway.user_notice SET read_at = clock_timestamp() WHERE user_id = $1 AND read_at IS NULL AND ($2 OR id = ANY($3::uuid[]))`,
      [userId, ids === 'all', ids === 'all' ? [] : ids],
    );
    return n as number;
  }
}

function view(r: Record<string, any>): NoticeView {
  return {
    id: r.id,
    kind: r.kind,
    conversationId: r.conversation_id,
    title: r.title,
    body: r.body,
    data: r.data,
    source: r.source,
    createdAt: new Date(r.created_at).toISOString(),
    readAt: r.read_at ? new Date(r.read_at).toISOString() : null,
  };
}
