import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditEntryView, NoteView, WorkState } from '@app/contracts';
import { TxCollector } from '@app/persistence';

const iso = (d: unknown) => (d ? new Date(d as string).toISOString() : null);

const WORK_COLS = `conversation_id, phone_number_id, contact_id, team_id, owner_id, status, snooze_until, priority, labels,
  version, opened_at, last_message_at, resolved_at, updated_at, activity_at::text AS activity_key, bot_id, bot_name, bot_since`;

export function toWork(r: Record<string, any>): WorkState {
  return {
    conversationId: r.conversation_id,
    phoneNumberId: r.phone_number_id,
    contactId: r.contact_id,
    teamId: r.team_id,
    ownerId: r.owner_id,
    status: r.status,
    snoozeUntil: iso(r.snooze_until),
    priority: r.priority,
    labels: r.labels,
    version: r.version,
    openedAt: iso(r.opened_at)!,
    lastMessageAt: iso(r.last_message_at),
    resolvedAt: iso(r.resolved_at),
    updatedAt: iso(r.updated_at)!,
    bot: r.bot_id ? { id: r.bot_id, name: r.bot_name ?? null, since: iso(r.bot_since)! } : null,
  };
}

/** The fields a change may set (undefined = unchanged). */
export interface WorkPatch {
  teamId?: string | null;
  ownerId?: string | null;
  status?: WorkState['status'];
  snoozeUntil?: string | null;
  priority?: WorkState['priority'];
  labels?: string[];
  resolvedAt?: 'now' | null;
  /** When an owner is set (routing's clock; default: the database's). */
  assignedAt?: Date;
  /** The bot that holds the conversation (null = released). A held conversation waits in no queue. */
  bot?: { id: string; name: string | null } | null;
}

/** A new conversation's work item (`insertOpened`). */
export interface OpenedInsert {
  conversationId: string;
  phoneNumberId: string;
  contactId: string;
  openedAt: string;
  /** Set by a rule; undefined = the number's default team. */
  teamId?: string;
  priority?: WorkState['priority'];
  labels?: string[];
  skills?: string[];
  context?: unknown;
}

export interface ListFilter {
  admin: boolean;
  actorId: string;
  teamIds: string[];
  view: 'mine' | 'unassigned' | 'team' | 'all';
  /** The actor is a bot: "mine" = the conversations it holds. */
  bot?: boolean;
  status?: string;
  teamId?: string;
  assigneeId?: string;
  label?: string;
  phoneNumberId?: string;
  ids?: string[];
  after?: { activityKey: string; id: string };
  limit: number;
}

@Injectable()
export class WorkRepository {
  /** Locks the row for the rest of the caller's transaction (concurrent changes queue behind it). */
  async lock(em: EntityManager, conversationId: string): Promise<WorkState | null> {
    const rows = await em.query(`SELECT ${WORK_COLS} FROM routing.conversation_work WHERE conversation_id = $1 FOR UPDATE`, [
      conversationId,
    ]);
    return rows[0] ? toWork(rows[0]) : null;
  }

  async find(em: EntityManager, conversationId: string): Promise<WorkState | null> {
    const rows = await em.query(`SELECT ${WORK_COLS} FROM routing.conversation_work WHERE conversation_id = $1`, [conversationId]);
    return rows[0] ? toWork(rows[0]) : null;
  }

  /**
   * New work item in the team the rules chose, else the number's default team (or the unassigned-team queue),
   * waiting in that team's queue. Null if it exists.
   */
  async insertOpened(em: EntityManager, w: OpenedInsert): Promise<WorkState | null> {
    return (await this.insertOpenedMany(em, [w])).get(w.conversationId) ?? null;
  }

  /**
   * `insertOpened` for several conversations in one statement, queued in the order given. Returns the rows
   * created, by conversation id (those that existed are absent).
   */
  async insertOpenedMany(em: EntityManager, items: OpenedInsert[]): Promise<Map<string, WorkState>> {
    if (!items.length) return new Map();
    const rows = await em.query(
      `INSERT INTO routing.conversation_work (conversation_id, phone_number_id, contact_id, team_id, opened_at, activity_at,
         priority, labels, required_skills, route_context, queued_at, waiting_since)
       SELECT (e->>'conversationId')::uuid, e->>'phoneNumberId', (e->>'contactId')::uuid,
         coalesce((e->>'teamId')::uuid, (SELECT t.team_id FROM routing.number_team t WHERE t.phone_number_id = e->>'phoneNumberId')),
         (e->>'openedAt')::timestamptz, (e->>'openedAt')::timestamptz, coalesce(e->>'priority', 'normal'),
         ARRAY(SELECT jsonb_array_elements_text(coalesce(e->'labels', '[]'))), ARRAY(SELECT jsonb_array_elements_text(coalesce(e->'skills', '[]'))),
         e->'context', clock_timestamp(), (e->>'openedAt')::timestamptz
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n
       ON CONFLICT (conversation_id) DO NOTHING RETURNING ${WORK_COLS}`,
      [JSON.stringify(items)],
    );
    return new Map(rows.map((r: Record<string, any>) => [r.conversation_id, toWork(r)]));
  }

  /** Applies the patch and bumps the version by one. */
  async update(em: EntityManager, conversationId: string, patch: WorkPatch): Promise<WorkState> {
    // a person becoming the owner ends a bot's hold (a conversation has one holder)
    const p: WorkPatch = patch.ownerId && patch.bot === undefined ? { ...patch, bot: null } : patch;
    const has = (k: keyof WorkPatch) => p[k] !== undefined;
    const [rows] = await em.query(
      `UPDATE routing.conversation_work SET
         team_id = CASE WHEN $2 THEN $3::uuid ELSE team_id END,
         owner_id = CASE WHEN $4 THEN $5::uuid ELSE owner_id END,
         status = CASE WHEN $6 THEN $7 ELSE status END,
         snooze_until = CASE WHEN $8 THEN $9::timestamptz ELSE snooze_until END,
         priority = CASE WHEN $10 THEN $11 ELSE priority END,
         labels = CASE WHEN $12 THEN $13::text[] ELSE labels END,
         resolved_at = CASE WHEN $14 THEN (CASE WHEN $15 THEN clock_timestamp() ELSE NULL END) ELSE resolved_at END,
         -- the queue: an unowned conversation waits from when it lost its owner or was reopened
         queued_at = CASE WHEN (CASE WHEN $4 THEN $5::uuid ELSE owner_id END) IS NOT NULL THEN NULL
           WHEN (CASE WHEN $17 THEN $18 ELSE bot_id END) IS NOT NULL THEN NULL
           -- released by a bot: waits in the queue from when the bot took it
           WHEN bot_id IS NOT NULL THEN coalesce(bot_since, clock_timestamp())
           WHEN owner_id IS NOT NULL OR queued_at IS NULL OR (status = 'resolved' AND $6 AND $7 <> 'resolved') THEN clock_timestamp()
           ELSE queued_at END,
         bot_since = CASE WHEN NOT $17 THEN bot_since WHEN $18::text IS NULL THEN NULL
           WHEN $18::text IS NOT DISTINCT FROM bot_id THEN bot_since ELSE clock_timestamp() END,
         bot_id = CASE WHEN $17 THEN $18 ELSE bot_id END,
         bot_name = CASE WHEN $17 THEN $19 ELSE bot_name END,
         assigned_at = CASE WHEN $4 AND $5::uuid IS NOT NULL AND $5::uuid IS DISTINCT FROM owner_id THEN coalesce($16::timestamptz, clock_timestamp()) ELSE assigned_at END,
         last_owner_id = CASE WHEN $4 AND $5::uuid IS NOT NULL THEN $5::uuid ELSE last_owner_id END,
         version = version + 1, updated_at = clock_timestamp()
       WHERE conversation_id = $1 RETURNING ${WORK_COLS}`,
      [
        conversationId,
        has('teamId'),
        p.teamId ?? null,
        has('ownerId'),
        p.ownerId ?? null,
        has('status'),
        p.status ?? null,
        has('snoozeUntil'),
        p.snoozeUntil ?? null,
        has('priority'),
        p.priority ?? null,
        has('labels'),
        p.labels ?? null,
        has('resolvedAt'),
        p.resolvedAt === 'now',
        p.assignedAt ?? null,
        has('bot'),
        p.bot?.id ?? null,
        p.bot?.name ?? null,
      ],
    );
    return toWork(rows[0]);
  }

  /**
   * Owners for several unowned conversations (locked by the caller, at the version given) and each agent marked as just
   * assigned, in one statement: what `update(…, { ownerId, assignedAt })` and `AgentRepository.markAssigned` do for one.
   * The agents' last-assignment times keep the order of the picks (a microsecond apart), so round robin goes on where
   * the batch stopped. Returns the rows after, by conversation id; a row that moved (version, owner) is left out.
   */
  async assignMany(em: EntityManager, picks: { conversationId: string; ownerId: string; version: number }[], assignedAt: Date): Promise<Map<string, WorkState>> {
    if (!picks.length) return new Map();
    const [rows] = await em.query(
      `WITH p AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[]) WITH ORDINALITY AS p(pick_conversation, pick_owner, pick_version, pick_n)),
       marked AS (
         UPDATE routing.agent a SET last_assigned_at = (SELECT clock_timestamp()) + make_interval(secs => m.n / 1000000.0)
         FROM (SELECT pick_owner, max(pick_n) AS n FROM p GROUP BY pick_owner) m WHERE a.user_id = m.pick_owner)
       UPDATE routing.conversation_work SET owner_id = p.pick_owner, queued_at = NULL, bot_id = NULL, bot_name = NULL, bot_since = NULL,
         assigned_at = $4, last_owner_id = p.pick_owner, version = version + 1, updated_at = clock_timestamp()
       FROM p WHERE conversation_id = p.pick_conversation AND version = p.pick_version AND owner_id IS NULL
       RETURNING ${WORK_COLS}`,
      [picks.map((p) => p.conversationId), picks.map((p) => p.ownerId), picks.map((p) => p.version), assignedAt],
    );
    return new Map(rows.map((r: Record<string, any>) => [r.conversation_id, toWork(r)]));
  }

  /**
   * A newer message moves the activity time (lists are ordered by it); no version change. A customer's message
   * starts the "waiting for an answer" time (kept until someone replies).
   */
  async touchMessage(em: EntityManager, conversationId: string, at: string, customer = false): Promise<void> {
    await em.query(
      `UPDATE routing.conversation_work SET last_message_at = greatest(last_message_at, $2::timestamptz),
         activity_at = greatest(activity_at, $2::timestamptz),
         waiting_since = CASE WHEN $3 THEN coalesce(waiting_since, $2::timestamptz) ELSE waiting_since END
       WHERE conversation_id = $1`,
      [conversationId, at, customer],
    );
  }

  /** Someone answered the customer: nobody is waiting any more. */
  async answered(em: EntityManager, conversationId: string): Promise<void> {
    await em.query(`UPDATE routing.conversation_work SET waiting_since = NULL WHERE conversation_id = $1 AND waiting_since IS NOT NULL`, [
      conversationId,
    ]);
  }

  /**
   * One page, newest activity first. The actor's visibility (its teams, the unassigned-team queue, what it owns
   * elsewhere) is split into disjoint branches, each an ordered index scan with its own LIMIT, merged by UNION ALL:
   * one `team_id = ANY(...) OR ...` filter would make PostgreSQL sort every matching row instead.
   */
  async list(em: EntityManager, f: ListFilter): Promise<{ items: WorkState[]; last: { activityKey: string; id: string } | null }> {
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    const common: string[] = [];
    if (f.status) common.push(`status = ${arg(f.status)}`);
    if (f.teamId) common.push(`team_id = ${arg(f.teamId)}::uuid`);
    if (f.assigneeId) common.push(`owner_id = ${arg(f.assigneeId)}::uuid`);
    if (f.label) common.push(`labels @> ARRAY[${arg(f.label)}::text]`);
    if (f.phoneNumberId) common.push(`phone_number_id = ${arg(f.phoneNumberId)}`);
    if (f.ids) {
      if (f.ids.length === 0) return { items: [], last: null };
      common.push(`conversation_id = ANY(${arg(f.ids)}::uuid[])`);
    }
    if (f.view === 'mine') common.push(f.bot ? `bot_id = ${arg(f.actorId)}` : `owner_id = ${arg(f.actorId)}::uuid`);
    if (f.view === 'unassigned') common.push(`owner_id IS NULL AND bot_id IS NULL`);
    if (f.after) common.push(`(activity_at, conversation_id) < (${arg(f.after.activityKey)}::timestamptz, ${arg(f.after.id)}::uuid)`);

    // disjoint scopes the actor may see
    const scopes: string[] = [];
    if (f.view === 'mine') scopes.push('TRUE'); // one's own conversations are always visible
    else if (f.view === 'team') scopes.push(...f.teamIds.map((t) => `team_id = ${arg(t)}::uuid`));
    else if (f.admin) scopes.push('TRUE');
    else {
      scopes.push(...f.teamIds.map((t) => `team_id = ${arg(t)}::uuid`));
      scopes.push('team_id IS NULL');
      scopes.push(`owner_id = ${arg(f.actorId)}::uuid AND team_id IS NOT NULL AND team_id <> ALL(${arg(f.teamIds)}::uuid[])`);
    }
    if (scopes.length === 0) return { items: [], last: null };
    const limit = arg(f.limit + 1);
    const order = 'ORDER BY activity_at DESC, conversation_id DESC';
    const branch = (scope: string) =>
      `(SELECT ${WORK_COLS}, activity_at AS sort_at FROM routing.conversation_work WHERE ${[scope, ...common].join(' AND ')} ${order} LIMIT ${limit})`;
    const rows = await em.query(
      scopes.length === 1
        ? branch(scopes[0])
        : `SELECT * FROM (${scopes.map(branch).join(' UNION ALL ')}) x ORDER BY sort_at DESC, conversation_id DESC LIMIT ${limit}`,
      args,
    );
    const more = rows.length > f.limit;
    const page = rows.slice(0, f.limit);
    const lastRow = more ? page[page.length - 1] : null;
    return { items: page.map(toWork), last: lastRow ? { activityKey: lastRow.activity_key, id: lastRow.conversation_id } : null };
  }

  async numberTeam(em: EntityManager, phoneNumberId: string): Promise<string | null> {
    const rows = await em.query(`SELECT team_id FROM routing.number_team WHERE phone_number_id = $1`, [phoneNumberId]);
    return rows[0]?.team_id ?? null;
  }

  async setNumberTeam(em: EntityManager, phoneNumberId: string, teamId: string | null): Promise<void> {
    await em.query(
      `INSERT INTO routing.number_team (phone_number_id, team_id) VALUES ($1, $2)
       ON CONFLICT (phone_number_id) DO UPDATE SET team_id = excluded.team_id, updated_at = clock_timestamp()`,
      [phoneNumberId, teamId],
    );
  }
}

export interface AuditInsert {
  conversationId: string | null;
  teamId: string | null;
  actor: { type: string; id: string | null; name: string | null };
  action: string;
  before: unknown;
  after: unknown;
  note?: string | null;
  requestId?: string | null;
}

export interface AuditFilter {
  teamIds: string[] | null; // null = every team (admin)
  conversationId?: string;
  actorId?: string;
  action?: string;
  from?: string;
  to?: string;
  beforeSeq?: string;
  limit: number;
}

const toAudit = (r: Record<string, any>): AuditEntryView => ({
  id: r.id,
  seq: String(r.seq),
  conversationId: r.conversation_id,
  teamId: r.team_id,
  actor: { type: r.actor_type, id: r.actor_id, name: r.actor_name },
  action: r.action,
  before: r.before,
  after: r.after,
  note: r.note,
  requestId: r.request_id,
  createdAt: iso(r.created_at)!,
});

const toNote = (r: Record<string, any>): NoteView => ({
  id: r.id,
  conversationId: r.conversation_id,
  author: { type: r.author_type, id: r.author_id, name: r.author_name },
  body: r.body,
  mentions: r.mentions,
  createdAt: iso(r.created_at)!,
});

/** Transactions whose audit entries are being collected (see `AuditRepository.collect`; module-wide: two modules provide the class). */
const collectingAudit = new TxCollector<AuditInsert>();

/** Append-only: this class has no update or delete, and the table's trigger refuses them anyway. */
@Injectable()
export class AuditRepository {
  async append(em: EntityManager, e: AuditInsert): Promise<void> {
    const pending = collectingAudit.of(em);
    if (pending) {
      pending.push(e);
      return;
    }
    await em.query(
      `INSERT INTO routing.audit_entry (conversation_id, team_id, actor_type, actor_id, actor_name, action, before, after, note, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        e.conversationId,
        e.teamId,
        e.actor.type,
        e.actor.id,
        e.actor.name,
        e.action,
        e.before === undefined ? null : JSON.stringify(e.before),
        e.after === undefined ? null : JSON.stringify(e.after),
        e.note ?? null,
        e.requestId ?? null,
      ],
    );
  }

  /**
   * Runs `fn` in the caller's transaction with the entries appended on `em` held back, then writes them in one
   * multi-row INSERT, in the order appended (so `seq` keeps each conversation's order), before returning. Only for
   * code that does not read the audit trail it is writing (the batch of opened conversations).
   */
  async collect<T>(em: EntityManager, fn: () => Promise<T>): Promise<T> {
    return collectingAudit.run(em, fn, async (pending) => {
      await em.query(
        `INSERT INTO routing.audit_entry (conversation_id, team_id, actor_type, actor_id, actor_name, action, before, after, note, request_id)
         SELECT (e->>'conversationId')::uuid, (e->>'teamId')::uuid, e->'actor'->>'type', e->'actor'->>'id', e->'actor'->>'name', e->>'action',
           e->'before', e->'after', e->>'note', e->>'requestId'
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS t(e, n) ORDER BY n`,
        [JSON.stringify(pending)], // as `append`: undefined before/after → SQL NULL (key dropped), null → JSON null
      );
    });
  }

  async forConversation(em: EntityManager, conversationId: string, limit: number): Promise<AuditEntryView[]> {
    const rows = await em.query(`SELECT * FROM routing.audit_entry WHERE conversation_id = $1 ORDER BY seq LIMIT $2`, [
      conversationId,
      limit,
    ]);
    return rows.map(toAudit);
  }

  async list(em: EntityManager, f: AuditFilter): Promise<AuditEntryView[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    if (f.teamIds) where.push(`team_id = ANY(${arg(f.teamIds)}::uuid[])`);
    if (f.conversationId) where.push(`conversation_id = ${arg(f.conversationId)}::uuid`);
    if (f.actorId) where.push(`actor_id = ${arg(f.actorId)}`);
    if (f.action) where.push(`action = ${arg(f.action)}`);
    if (f.from) where.push(`created_at >= ${arg(f.from)}::timestamptz`);
    if (f.to) where.push(`created_at < ${arg(f.to)}::timestamptz`);
    if (f.beforeSeq) where.push(`seq < ${arg(f.beforeSeq)}::bigint`);
    const rows = await em.query(
      `SELECT * FROM routing.audit_entry ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ${arg(f.limit)}`,
      args,
    );
    return rows.map(toAudit);
  }
}

@Injectable()
export class NoteRepository {
  async insert(
    em: EntityManager,
    n: { conversationId: string; author: { type: string; id: string; name: string | null }; body: string; mentions: string[] },
  ): Promise<NoteView> {
    const rows = await em.query(
      `INSERT INTO routing.note (conversation_id, author_type, author_id, author_name, body, mentions)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING *`,
      [n.conversationId, n.author.type, n.author.id, n.author.name, n.body, n.mentions],
    );
    return toNote(rows[0]);
  }

  async forConversation(em: EntityManager, conversationId: string, limit: number): Promise<NoteView[]> {
    const rows = await em.query(`SELECT * FROM routing.note WHERE conversation_id = $1 ORDER BY created_at, id LIMIT $2`, [
      conversationId,
      limit,
    ]);
    return rows.map(toNote);
  }
}
