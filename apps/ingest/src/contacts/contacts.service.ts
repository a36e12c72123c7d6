import { Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  CONTACT_ATTRIBUTES_MAX,
  ContactKeysV1,
  DirectoryChangedV1,
  EraseContactV1,
  GetContactV1,
  ListContactsV1,
  MergeContactsV1,
  UpdateContactV1,
  type Actor,
  type PayloadOf,
  type RequestOf,
  type ResponseOf,
} from '@app/contracts';
import { ConflictError, NotFoundError, ValidationError } from '@app/messaging';
import { decodeCursor, encodeCursor, OutboxWriter, TIMESTAMP_TEXT, UUID_TEXT } from '@app/persistence';
import { ConversationRepository } from '../conversations/conversation.repository';
import { MediaStore } from '../media/media-store';
import { ContactsAdminRepository, toContactView, type ContactPatch, type ContactRecord } from './contacts-admin.repository';

type Audit = Pick<PayloadOf<typeof DirectoryChangedV1>, 'action' | 'entityId' | 'before' | 'after'>;

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * The contacts API's rules (ingest owns contacts). Who may call what is decided by the gateway; here: tombstones
 * redirect to their survivor, edits are versioned and audited without personal data, merges are idempotent, and
 * erasure redacts content and deletes files in the same transaction that records it.
 */
@Injectable()
export class ContactsService {
  private readonly log = new Logger('Contacts');

  constructor(
    private readonly ds: DataSource,
    private readonly repo: ContactsAdminRepository,
    private readonly conversations: ConversationRepository,
    private readonly outbox: OutboxWriter,
    private readonly store: MediaStore,
  ) {}

  async list(q: RequestOf<typeof ListContactsV1>): Promise<ResponseOf<typeof ListContactsV1>> {
    let after: { at: string; id: string } | undefined;
    if (q.cursor) {
      const c = decodeCursor<[string, string]>(q.cursor, (o) => Array.isArray(o) && o.length === 2 && TIMESTAMP_TEXT.test(o[0]) && UUID_TEXT.test(o[1]));
      if (!c) throw new ValidationError('cursor: not a cursor this list returned');
      after = { at: c[0], id: c[1] };
    }
    const page = await this.repo.list(this.ds.manager, { q: q.q, key: q.key, label: q.label, blocked: q.blocked, after, limit: q.limit });
    const last = page.items[page.items.length - 1];
    return { items: page.items.map(toContactView), nextCursor: page.more && last ? encodeCursor([last.cursor_at, last.id]) : null };
  }

  async get(q: RequestOf<typeof GetContactV1>): Promise<ResponseOf<typeof GetContactV1>> {
    const em = this.ds.manager;
    const id = await this.repo.survivorId(em, q.contactId);
    const c = id ? await this.repo.get(em, id) : undefined;
    if (!c) throw new NotFoundError(`contact ${q.contactId} not found`);
    const conversations = (await this.conversations.list(em, { limit: c.conversation_ids.length || 1, ids: c.conversation_ids })).items;
    return { contact: toContactView(c), redirectedFrom: id !== q.contactId ? q.contactId : null, conversations };
  }

  update(r: RequestOf<typeof UpdateContactV1>): Promise<ResponseOf<typeof UpdateContactV1>> {
    return this.ds.transaction(async (em) => {
      const c = await this.locked(em, r.contactId);
      if (r.version !== undefined && r.version !== c.version)
        throw new ConflictError(`contact ${c.id} changed since version ${r.version}`, { current: toContactView(c) });
      const patch: ContactPatch = {};
      const fields: string[] = [];
      if (r.name !== undefined && r.name !== c.name) {
        patch.name = r.name;
        fields.push('name');
      }
      let attributeKeys: string[] = [];
      if (r.attributes) {
        const next = { ...c.attributes };
        for (const [k, v] of Object.entries(r.attributes)) {
          if (v === null) delete next[k];
          else next[k] = v;
        }
        attributeKeys = [...new Set([...Object.keys(next), ...Object.keys(c.attributes)])].filter((k) => next[k] !== c.attributes[k]).sort();
        if (Object.keys(next).length > CONTACT_ATTRIBUTES_MAX)
          throw new ValidationError(`attributes: at most ${CONTACT_ATTRIBUTES_MAX} keys per contact (this change would leave ${Object.keys(next).length})`);
        if (attributeKeys.length) {
          patch.attributes = next;
          fields.push('attributes');
        }
      }
      if (r.labels) {
        const labels = [...new Set(r.labels)];
        if (!sameSet(labels, c.labels)) {
          patch.labels = labels;
          fields.push('labels');
        }
      }
      const wasBlocked = c.blocked_at !== null;
      if (r.blocked !== undefined && r.blocked !== wasBlocked) {
        patch.blocked = r.blocked;
        fields.push('blocked');
      }
      if (!fields.length) return toContactView(c); // no-op: nothing written, nothing audited
      await this.repo.update(em, c.id, patch);
      const after = (await this.repo.get(em, c.id))!;
      // personal values (name, attribute values) never go to the append-only trail: only what changed
      const state = (x: ContactRecord) => ({ fields, attributeKeys, labels: x.labels, blocked: x.blocked_at !== null, version: Number(x.version) });
      const action = fields.length === 1 && fields[0] === 'blocked' ? (r.blocked ? 'contact.blocked' : 'contact.unblocked') : 'contact.updated';
      await this.audit(em, r.actor, { action, entityId: c.id, before: state(c), after: state(after) });
      return toContactView(after);
    });
  }

  merge(r: RequestOf<typeof MergeContactsV1>): Promise<ResponseOf<typeof MergeContactsV1>> {
    return this.ds.transaction(async (em) => {
      // both rows locked in id order, so two merges of the same pair never deadlock
      const [a, b] = [r.survivorId, r.mergedId].sort();
      await this.repo.lockPersons(em, [a, b]);
      const byId = new Map<string, ContactRecord>();
      for (const id of [a, b]) {
        const c = await this.repo.get(em, id, true);
        if (!c) throw new NotFoundError(`contact ${id} not found`);
        byId.set(id, c);
      }
      const survivor = byId.get(r.survivorId)!;
      const merged = byId.get(r.mergedId)!;
      if (merged.merged_into_id === survivor.id) {
        return { ...(await this.mergeResult(em, survivor.id, merged.id, [], 0)), alreadyMerged: true };
      }
      if (merged.merged_into_id) throw new ConflictError(`contact ${merged.id} was already merged into contact ${merged.merged_into_id}`);
      if (survivor.merged_into_id)
        throw new ConflictError(`contact ${survivor.id} was merged into contact ${survivor.merged_into_id}; merge into that contact instead`);
      if (survivor.erased_at || merged.erased_at) throw new ConflictError('an erased contact cannot be merged');

      const mine = await this.repo.conversationsLocked(em, survivor.id);
      const theirs = await this.repo.conversationsLocked(em, merged.id);
      const moved: string[] = [];
      let movedMessages = 0;
      for (const conv of theirs) {
        if (conv.merged_into_id) continue; // already an absorbed skeleton of an earlier merge
        const same = mine.find((m) => m.phone_number_id === conv.phone_number_id && !m.merged_into_id);
        if (same) movedMessages += await this.repo.absorbConversation(em, conv.id, same.id);
        else {
          await this.repo.moveConversation(em, conv.id, survivor.id);
          moved.push(conv.id);
        }
      }
      await this.repo.markMerged(em, survivor, merged);
      const result = await this.mergeResult(em, survivor.id, merged.id, moved, movedMessages);
      await this.audit(em, r.actor, {
        action: 'contact.merged',
        entityId: survivor.id,
        before: { mergedContactId: merged.id },
        after: {
          mergedContactId: merged.id,
          movedConversationIds: moved,
          absorbedConversationIds: result.absorbedConversationIds,
          movedMessages,
        },
      });
      return { ...result, alreadyMerged: false };
    });
  }

  private async mergeResult(em: EntityManager, survivorId: string, mergedId: string, moved: string[], movedMessages: number) {
    return {
      contact: toContactView((await this.repo.get(em, survivorId))!),
      mergedId,
      movedConversationIds: moved,
      absorbedConversationIds: await this.repo.absorbed(em, mergedId),
      movedMessages,
    };
  }

  async keys(q: RequestOf<typeof ContactKeysV1>): Promise<ResponseOf<typeof ContactKeysV1>> {
    const em = this.ds.manager;
    const id = await this.repo.survivorId(em, q.contactId);
    if (!id) throw new NotFoundError(`contact ${q.contactId} not found`);
    const group = await this.repo.group(em, id);
    return { contactId: id, keys: await this.repo.keysOf(em, group), conversationIds: await this.repo.conversationIdsOf(em, group, false) };
  }

  /**
   * One transaction: content redacted, profile cleared, files deleted, audit fact written. A file that cannot be
   * deleted (other than already gone) fails the whole erasure, which can then be retried: nothing is left half done.
   */
  erase(r: RequestOf<typeof EraseContactV1>): Promise<ResponseOf<typeof EraseContactV1>> {
    return this.ds.transaction(async (em) => {
      const survivorId = await this.repo.survivorId(em, r.contactId);
      if (survivorId) await this.repo.lockPersons(em, await this.repo.group(em, survivorId));
      const c = await this.locked(em, r.contactId);
      const contactIds = await this.repo.group(em, c.id);
      const conversationIds = await this.repo.conversationIdsOf(em, contactIds);
      const keys = conversationIds.length ? await this.repo.mediaKeys(em, conversationIds) : [];
      const messages = conversationIds.length ? await this.repo.redactConversations(em, conversationIds) : 0;
      const at = new Date();
      await this.repo.eraseProfiles(em, contactIds, at);
      let mediaFiles = 0;
      for (const key of keys) if (await this.store.remove(key)) mediaFiles++;
      const counts = { contacts: contactIds.length, conversations: conversationIds.length, messages, mediaFiles };
      await this.audit(em, r.actor, { action: 'contact.erased', entityId: c.id, before: null, after: { erasedAt: at.toISOString(), ...counts } });
      this.log.log({ msg: 'contact erased', contactId: c.id, actorId: r.actor.id, ...counts });
      return { contactId: c.id, erasedAt: at.toISOString(), ...counts };
    });
  }

  /** The contact (a tombstone's survivor), locked for the rest of the transaction. */
  private async locked(em: EntityManager, id: string): Promise<ContactRecord> {
    const survivorId = await this.repo.survivorId(em, id);
    const c = survivorId ? await this.repo.get(em, survivorId, true) : undefined;
    if (!c) throw new NotFoundError(`contact ${id} not found`);
    if (c.merged_into_id) return this.locked(em, c.merged_into_id); // merged meanwhile
    return c;
  }

  private async audit(em: EntityManager, actor: Actor, a: Audit): Promise<void> {
    await this.outbox.add(em, DirectoryChangedV1, {
      eventId: randomUUID(),
      occurredAt: new Date().toISOString(),
      actor: { type: actor.type, id: actor.id, name: actor.name },
      entityType: 'contact',
      ...a,
    });
  }
}
