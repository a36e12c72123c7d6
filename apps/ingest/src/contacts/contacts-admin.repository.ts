import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { CONTACT_CONVERSATIONS_MAX, type ContactView } from '@app/contracts';
import { lockKey, one, rows } from '../db.util';

/** A contact as the contacts API reads and edits it (the webhook path uses ContactRepository). */
export interface ContactRecord {
  id: string;
  user_id: string | null;
  wa_id: string | null;
  profile_name: string | null;
  name: string | null;
  attributes: Record<string, string>;
  labels: string[];
  blocked_at: Date | null;
  merged_into_id: string | null;
  erased_at: Date | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  cursor_at: string;
  conversation_ids: string[];
}

const SELECT = `SELECT k.id, k.user_id, k.wa_id, k.profile_name, k.name, k.attributes, k.labels, k.blocked_at, k.merged_into_id,
    k.erased_at, k.version, k.created_at, k.updated_at, k.created_at::text AS cursor_at,
    ARRAY(SELECT c.id FROM ingest.conversation c WHERE c.contact_id = k.id AND c.merged_into_id IS NULL
          ORDER BY c.last_message_at DESC, c.id DESC LIMIT ${CONTACT_CONVERSATIONS_MAX}) AS conversation_ids
  FROM ingest.contact k`;

export interface ContactFilter {
  q?: string;
  key?: string;
  label?: string;
  blocked?: boolean;
  after?: { at: string; id: string };
  limit: number;
}

export interface ContactPatch {
  name?: string | null;
  attributes?: Record<string, string>;
  labels?: string[];
  blocked?: boolean;
}

/** The data side of the contacts API: lists, edits, merges and erasures of `ingest.contact` and what hangs off it. */
@Injectable()
export class ContactsAdminRepository {
  get(em: EntityManager, id: string, lock = false): Promise<ContactRecord | undefined> {
    return one<ContactRecord>(em, `${SELECT} WHERE k.id = $1 ${lock ? 'FOR UPDATE OF k' : ''}`, [id]);
  }

  /** The end of a tombstone chain (the contact itself when it was not merged). */
  async survivorId(em: EntityManager, id: string): Promise<string | undefined> {
    const r = await one<{ id: string }>(
      em,
      `WITH RECURSIVE chain(id, merged_into_id, depth) AS (
         SELECT id, merged_into_id, 0 FROM ingest.contact WHERE id = $1
         UNION ALL SELECT k.id, k.merged_into_id, chain.depth + 1 FROM ingest.contact k JOIN chain ON k.id = chain.merged_into_id WHERE chain.depth < 20)
       SELECT id FROM chain WHERE merged_into_id IS NULL LIMIT 1`,
      [id],
    );
    return r?.id;
  }

  /** The contact and every contact merged into it (directly or through other tombstones). */
  async group(em: EntityManager, id: string): Promise<string[]> {
    const r = await rows<{ id: string }>(
      em,
      `WITH RECURSIVE g(id, depth) AS (SELECT $1::uuid, 0 UNION ALL
         SELECT k.id, g.depth + 1 FROM ingest.contact k JOIN g ON k.merged_into_id = g.id WHERE g.depth < 20)
       SELECT id FROM g`,
      [id],
    );
    return r.map((x) => x.id);
  }

  /** Newest first, tombstones left out; `q` literally (LIKE wildcards escaped), also as phone digits. */
  async list(em: EntityManager, f: ContactFilter): Promise<{ items: ContactRecord[]; more: boolean }> {
    const args: unknown[] = [];
    const arg = (v: unknown) => {
      args.push(v);
      return `$${args.length}`;
    };
    const where = ['k.merged_into_id IS NULL'];
    if (f.q) {
      const p = arg(`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      const alts = ['k.name', 'k.profile_name', 'k.wa_id', 'k.user_id'].map((col) => `${col} ILIKE ${p} ESCAPE '\\'`);
      const digits = f.q.replace(/[\s+()\-.]/g, '');
      if (/^\d{2,}$/.test(digits)) alts.push(`k.wa_id LIKE ${arg(`%${digits}%`)}`);
      where.push(`(${alts.join(' OR ')})`);
    }
    if (f.key) {
      const p = arg(f.key);
      where.push(`(k.wa_id = ${p} OR k.user_id = ${p})`);
    }
    if (f.label) where.push(`k.labels @> ARRAY[${arg(f.label)}::text]`);
    if (f.blocked !== undefined) where.push(f.blocked ? 'k.blocked_at IS NOT NULL' : 'k.blocked_at IS NULL');
    if (f.after) where.push(`(k.created_at, k.id) < (${arg(f.after.at)}::timestamptz, ${arg(f.after.id)}::uuid)`);
    const found = await rows<ContactRecord>(
      em,
      `${SELECT} WHERE ${where.join(' AND ')} ORDER BY k.created_at DESC, k.id DESC LIMIT ${arg(f.limit + 1)}`,
      args,
    );
    return { items: found.slice(0, f.limit), more: found.length > f.limit };
  }

  async update(em: EntityManager, id: string, p: ContactPatch): Promise<void> {
    await em.query(
      `UPDATE ingest.contact SET
         name = CASE WHEN $2 THEN $3 ELSE name END,
         attributes = COALESCE($4::jsonb, attributes),
         labels = COALESCE($5::text[], labels),
         blocked_at = CASE WHEN $6::boolean IS NULL THEN blocked_at WHEN $6 THEN COALESCE(blocked_at, now()) ELSE NULL END,
         version = version + 1, updated_at = now()
       WHERE id = $1`,
      [id, p.name !== undefined, p.name ?? null, p.attributes ? JSON.stringify(p.attributes) : null, p.labels ?? null, p.blocked ?? null],
    );
  }

  /**
   * Takes the advisory locks the inbound path (ContactRepository) holds while it stores a message of a person, for
   * every WhatsApp id of these contacts, in the same (sorted) order. A merge or erasure then waits for a message
   * being stored, and a message arriving meanwhile waits for it and sees the result (the tombstone's redirect, the
   * replaced BSUID) instead of landing in a thread the merge emptied or moved, or in an erased one. Call before
   * locking any contact row (the inbound path locks in that order too).
   */
  async lockPersons(em: EntityManager, contactIds: string[]): Promise<void> {
    const r = await rows<{ u: string | null; w: string | null }>(em, `SELECT user_id AS u, wa_id AS w FROM ingest.contact WHERE id = ANY($1::uuid[])`, [
      contactIds,
    ]);
    const keys = [...new Set(r.flatMap((c) => [c.u && `u:${c.u}`, c.w && `w:${c.w}`]).filter((k): k is string => !!k))].sort();
    for (const k of keys) await lockKey(em, `ingest-contact:${k}`);
  }

  /** The contact's conversations, locked, with the number they are on (for a merge). */
  conversationsLocked(em: EntityManager, contactId: string): Promise<{ id: string; phone_number_id: string; merged_into_id: string | null }[]> {
    return rows(
      em,
      `SELECT id, phone_number_id, merged_into_id FROM ingest.conversation WHERE contact_id = $1 ORDER BY id FOR UPDATE`,
      [contactId],
    );
  }

  async moveConversation(em: EntityManager, conversationId: string, contactId: string): Promise<void> {
    await em.query(`UPDATE ingest.conversation SET contact_id = $2, updated_at = now() WHERE id = $1`, [conversationId, contactId]);
  }

  /**
   * Moves every message of `from` into `into` (same number) and recomputes both threads' counters; `from` stays
   * as an empty skeleton pointing at `into`. Returns the number of messages moved.
   */
  async absorbConversation(em: EntityManager, from: string, into: string): Promise<number> {
    const moved = await rows(em, `UPDATE ingest.message SET conversation_id = $2 WHERE conversation_id = $1 RETURNING id`, [from, into]);
    await em.query(
      `UPDATE ingest.conversation c SET
         message_count = s.n,
         last_message_at = COALESCE(s.last_at, c.last_message_at),
         last_inbound_at = GREATEST(c.last_inbound_at, s.last_inbound),
         last_message_text = COALESCE((SELECT left(m.text, 500) FROM ingest.message m WHERE m.conversation_id = c.id
                                       ORDER BY m.sent_at DESC, m.seq DESC LIMIT 1), c.last_message_text),
         updated_at = now()
       FROM (SELECT count(*)::int AS n, max(sent_at) AS last_at,
                    max(sent_at) FILTER (WHERE direction = 'inbound' AND origin = 'customer') AS last_inbound
             FROM ingest.message WHERE conversation_id = $1) s
       WHERE c.id = $1`,
      [into],
    );
    await em.query(
      `UPDATE ingest.conversation SET merged_into_id = $2, message_count = 0, last_message_text = NULL, updated_at = now() WHERE id = $1`,
      [from, into],
    );
    return moved.length;
  }

  /** The survivor takes what it lacks from the merged contact; the merged one becomes a tombstone. */
  async markMerged(em: EntityManager, survivor: ContactRecord, merged: ContactRecord): Promise<void> {
    const labels = [...new Set([...survivor.labels, ...merged.labels])];
    await em.query(
      `UPDATE ingest.contact SET
         name = COALESCE(name, $2), profile_name = COALESCE(profile_name, $3), wa_id = COALESCE(wa_id, $4),
         attributes = $5::jsonb || attributes, labels = $6::text[],
         blocked_at = COALESCE(blocked_at, $7), version = version + 1, updated_at = now()
       WHERE id = $1`,
      [survivor.id, merged.name, merged.profile_name, merged.wa_id, JSON.stringify(merged.attributes), labels, merged.blocked_at],
    );
    await em.query(`UPDATE ingest.contact SET merged_into_id = $2, merged_at = now(), version = version + 1, updated_at = now() WHERE id = $1`, [
      merged.id,
      survivor.id,
    ]);
  }

  /** Conversations of `contactId` that a merge emptied into another conversation. */
  absorbed(em: EntityManager, contactId: string): Promise<{ from: string; into: string }[]> {
    return rows(em, `SELECT id AS "from", merged_into_id AS "into" FROM ingest.conversation WHERE contact_id = $1 AND merged_into_id IS NOT NULL`, [
      contactId,
    ]);
  }

  /** The wa_ids and BSUIDs these contacts carry (erased ones no longer have any). */
  async keysOf(em: EntityManager, contactIds: string[]): Promise<string[]> {
    const r = await rows<{ k: string }>(
      em,
      `SELECT DISTINCT k FROM ingest.contact c, LATERAL (VALUES (c.wa_id), (c.user_id), (c.parent_user_id)) v(k)
       WHERE c.id = ANY($1::uuid[]) AND c.erased_at IS NULL AND k IS NOT NULL`,
      [contactIds],
    );
    return r.map((x) => x.k);
  }

  /** Every conversation of these contacts (absorbed skeletons included). */
  async conversationIdsOf(em: EntityManager, contactIds: string[], lock = true): Promise<string[]> {
    const r = await rows<{ id: string }>(em, `SELECT id FROM ingest.conversation WHERE contact_id = ANY($1::uuid[])${lock ? ' FOR UPDATE' : ''}`, [contactIds]);
    return r.map((x) => x.id);
  }

  /** Storage keys of the stored media files in these conversations. */
  async mediaKeys(em: EntityManager, conversationIds: string[]): Promise<string[]> {
    const r = await rows<{ storage_key: string }>(
      em,
      `SELECT md.storage_key FROM ingest.media md JOIN ingest.message m ON m.id = md.message_id
       WHERE m.conversation_id = ANY($1::uuid[]) AND md.storage_key IS NOT NULL
       UNION SELECT u.storage_key FROM ingest.upload u WHERE u.conversation_id = ANY($1::uuid[])`,
      [conversationIds],
    );
    return r.map((x) => x.storage_key);
  }

  /**
   * Redacts every message of these conversations (text, the type's content with captions, referral, context,
   * errors), their media records and raw statuses; the conversations keep only counters and times.
   * Returns how many messages were redacted (0 when repeated).
   */
  async redactConversations(em: EntityManager, conversationIds: string[]): Promise<number> {
    await em.query(
      `UPDATE ingest.media SET state = 'erased', storage_key = NULL, last_error = NULL, updated_at = now()
       WHERE message_id IN (SELECT id FROM ingest.message WHERE conversation_id = ANY($1::uuid[]))`,
      [conversationIds],
    );
    await em.query(
      `UPDATE ingest.message_status SET raw = '{}'::jsonb
       WHERE message_id IN (SELECT id FROM ingest.message WHERE conversation_id = ANY($1::uuid[]))`,
      [conversationIds],
    );
    const r = await rows(
      em,
      `UPDATE ingest.message SET text = '', content = '{}'::jsonb, referral = NULL, context = NULL, errors = '[]'::jsonb
       WHERE conversation_id = ANY($1::uuid[])
         AND (text <> '' OR content <> '{}'::jsonb OR referral IS NOT NULL OR context IS NOT NULL OR errors <> '[]'::jsonb)
       RETURNING id`,
      [conversationIds],
    );
    await em.query(`UPDATE ingest.conversation SET last_message_text = NULL, updated_at = now() WHERE id = ANY($1::uuid[])`, [conversationIds]);
    return r.length;
  }

  /** Clears the person's profile; the BSUID is replaced, so a later message from them starts a new contact. */
  async eraseProfiles(em: EntityManager, contactIds: string[], at: Date): Promise<void> {
    await em.query(
      `UPDATE ingest.contact SET profile_name = NULL, name = NULL, username = NULL, wa_id = NULL, parent_user_id = NULL,
         user_id = 'erased:' || id::text, attributes = '{}'::jsonb, erased_at = $2, version = version + 1, updated_at = now()
       WHERE id = ANY($1::uuid[])`,
      [contactIds, at],
    );
  }
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

export function toContactView(r: ContactRecord): ContactView {
  return {
    id: r.id,
    userId: r.user_id,
    waId: r.wa_id,
    profileName: r.profile_name,
    name: r.name,
    // keys in alphabetical order (jsonb keeps its own order: shorter keys first)
    attributes: Object.fromEntries(Object.entries(r.attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    labels: r.labels ?? [],
    blocked: r.blocked_at !== null,
    blockedAt: iso(r.blocked_at),
    erasedAt: iso(r.erased_at),
    version: Number(r.version),
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    conversationIds: r.conversation_ids ?? [],
  };
}
