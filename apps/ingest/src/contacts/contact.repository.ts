import { Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { lockKey, one } from '../db.util';
import type { ContactRef, SystemChange } from '../normalize/normalized.types';

export interface ContactRow {
  id: string;
  user_id: string | null;
  wa_id: string | null;
  profile_name: string | null;
  parent_user_id: string | null;
  username: string | null;
  labels: string[];
  attributes: Record<string, string>;
  blocked_at: Date | null;
  merged_into_id: string | null;
}

const COLS = 'id, user_id, wa_id, profile_name, parent_user_id, username, labels, attributes, blocked_at, merged_into_id';

/**
 * Contacts are keyed on the BSUID `user_id` when present; `wa_id` (phone) is an optional, mutable attribute.
 * A contact may first arrive with only one of them; the other is attached when a payload carries both.
 * Profile name and username are stored, never used as keys.
 */
@Injectable()
export class ContactRepository {
  private readonly log = new Logger('Contacts');

  /** Serialises writers that look up the same person (by either key) for the rest of the transaction. */
  private async lock(em: EntityManager, ref: { waId: string | null; userId: string | null }): Promise<void> {
    const keys = [ref.userId && `u:${ref.userId}`, ref.waId && `w:${ref.waId}`].filter(Boolean).sort() as string[];
    if (keys.length === 1) return lockKey(em, `ingest-contact:${keys[0]}`);
    // both keys in one round trip, always in the same order (no deadlock between two writers)
    await em.query(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0)), pg_advisory_xact_lock(hashtextextended($2, 0))`, [
      `ingest-contact:${keys[0]}`,
      `ingest-contact:${keys[1]}`,
    ]);
  }

  async resolve(em: EntityManager, ref: ContactRef): Promise<ContactRow> {
    if (!ref.userId && !ref.waId) throw new Error('contact has neither user_id nor wa_id');
    await this.lock(em, ref);
    let row: ContactRow | undefined;
    if (ref.userId) {
      [row] = await em.query(`SELECT ${COLS} FROM ingest.contact WHERE user_id = $1`, [ref.userId]);
      if (!row && ref.waId) {
        // known so far by phone only: attach the BSUID to it
        [row] = await em.query(
          `SELECT ${COLS} FROM ingest.contact WHERE wa_id = $1 AND user_id IS NULL ORDER BY updated_at DESC LIMIT 1`,
          [ref.waId],
        );
      }
    } else {
      [row] = await em.query(
        `SELECT ${COLS} FROM ingest.contact WHERE wa_id = $1 ORDER BY updated_at DESC LIMIT 1`,
        [ref.waId],
      );
    }
    // a merged contact keeps its keys and redirects to the survivor: the person's messages go there
    if (row?.merged_into_id) return this.survivor(em, row);
    if (!row) {
      row = await one<ContactRow>(em,
        `INSERT INTO ingest.contact (user_id, parent_user_id, wa_id, profile_name, username)
         VALUES ($1, $2, $3, $4, $5) RETURNING ${COLS}`,
        [ref.userId, ref.parentUserId, ref.waId, ref.name, ref.username],
      );
      return row!;
    }
    const same = (current: string | null, incoming: string | null) => incoming === null || incoming === current;
    if (
      (row.user_id !== null || ref.userId === null) &&
      same(row.wa_id, ref.waId) &&
      same(row.parent_user_id, ref.parentUserId) &&
      same(row.profile_name, ref.name) &&
      same(row.username, ref.username)
    ) {
      return row; // nothing new: no write
    }
    const updated = await one<ContactRow>(em,
      `UPDATE ingest.contact SET user_id = COALESCE(user_id, $2), wa_id = COALESCE($3, wa_id),
         parent_user_id = COALESCE($4, parent_user_id), profile_name = COALESCE($5, profile_name),
         username = COALESCE($6, username), updated_at = now()
       WHERE id = $1 AND ((user_id IS NULL AND $2::text IS NOT NULL) OR wa_id IS DISTINCT FROM COALESCE($3, wa_id)
         OR parent_user_id IS DISTINCT FROM COALESCE($4, parent_user_id) OR profile_name IS DISTINCT FROM COALESCE($5, profile_name)
         OR username IS DISTINCT FROM COALESCE($6, username))
       RETURNING ${COLS}`,
      [row.id, ref.userId, ref.waId, ref.parentUserId, ref.name, ref.username],
    );
    return updated ?? row; // nothing changed: no write
  }

  /** The contact a tombstone (merged contact) redirects to, following the chain. */
  async survivor(em: EntityManager, row: ContactRow): Promise<ContactRow> {
    for (let hops = 0; row.merged_into_id && hops < 20; hops++) {
      row = (await one<ContactRow>(em, `SELECT ${COLS} FROM ingest.contact WHERE id = $1`, [row.merged_into_id]))!;
    }
    return row;
  }

  /** `user_changed_number` moves the phone; `user_changed_user_id` moves the BSUID. The contact (and its threads) stay. */
  async applySystemChange(em: EntityManager, contactId: string, change: SystemChange): Promise<void> {
    if (change.type === 'user_changed_number' && change.newWaId) {
      await this.lock(em, { waId: change.newWaId, userId: null });
      await em.query(`UPDATE ingest.contact SET wa_id = $2, updated_at = now() WHERE id = $1`, [contactId, change.newWaId]);
    } else if (change.type === 'user_changed_user_id' && change.newUserId) {
      await this.lock(em, { waId: null, userId: change.newUserId });
      const [taken] = await em.query(`SELECT id FROM ingest.contact WHERE user_id = $1`, [change.newUserId]);
      if (taken && taken.id !== contactId) {
        this.log.warn({ msg: 'user_changed_user_id: the new user_id already belongs to another contact; not merged', contactId, otherContactId: taken.id });
        return;
      }
      await em.query(`UPDATE ingest.contact SET user_id = $2, updated_at = now() WHERE id = $1`, [contactId, change.newUserId]);
    }
  }
}
