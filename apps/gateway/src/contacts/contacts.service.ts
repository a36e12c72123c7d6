import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  ContactKeysV1,
  describeIssues,
  EraseContactV1,
  EraseConversationContentV1,
  EraseRecipientV1,
  GetContactV1,
  GetWorkV1,
  ListContactsV1,
  ListWorkV1,
  MergeContactsV1,
  SetStatusV1,
  UpdateContactV1,
  type ContactView,
  type ConversationSummary,
  type RequestInputOf,
  type ResponseOf,
  type WorkState,
} from '@app/contracts';
import { Bus, BusError } from '@app/messaging';
import { DirectoryAudit } from '../auth/directory-audit';
import { actorOf, type Principal } from '../auth/principal';
import { LabelsService } from '../labels/labels.service';
import type { ContactsQuery, UpdateContactDto } from './contacts.dto';
import { csvRow } from './csv';
import { ReceiptErasureRepository } from './receipt-erasure.repository';

/** Routing answers at most this many ids per ListWorkV1 page. */
const WORK_PAGE = 200;
/** A page of contacts for people who see only some of them is filled from at most this many ingest pages. */
const MAX_ROUNDS = 10;
const EXPORT_PAGE = 500;

/** What an erasure redacted outside ingest (counts only). */
export type ErasedCopies = {
  webhookReceipts: number;
  webhookRejections: number;
  eventDeliveries: number;
  outboundSends: number;
  notes: number;
  routeContexts: number;
};

export const CSV_COLUMNS = ['id', 'name', 'profile_name', 'wa_id', 'user_id', 'labels', 'attributes', 'blocked', 'created_at', 'updated_at'];

/**
 * The contacts API over ingest (which owns contacts) and routing (which decides who sees which conversation).
 * **Visibility:** admins and API keys see every contact. Anyone else sees a contact only through its
 * conversations: a contact is visible when at least one of its conversations is (routing's rule: the caller's
 * teams, the unassigned-team queue, what they own), and then only those conversations are listed. A contact
 * with no visible conversation is 404, exactly like an unknown one.
 */
@Injectable()
export class ContactsService {
  private readonly log = new Logger('Contacts');

  constructor(
    @Inject(Bus) private readonly bus: Bus,
    private readonly labels: LabelsService,
    private readonly ds: DataSource,
    private readonly receipts: ReceiptErasureRepository,
    private readonly audit: DirectoryAudit,
  ) {}

  /** One page, newest contacts first; for people who see only some contacts a page may hold fewer than `limit`. */
  async list(p: Principal, q: ContactsQuery, limit = q.limit ?? 50): Promise<{ items: ContactView[]; nextCursor: string | null }> {
    const filter = { q: q.q, label: q.label, blocked: q.blocked };
    if (this.seesAll(p)) return this.bus.request(ListContactsV1, { ...filter, cursor: q.cursor ?? null, limit });
    const items: ContactView[] = [];
    let cursor: string | null = q.cursor ?? null;
    for (let round = 0; round < MAX_ROUNDS && items.length < limit; round++) {
      const page = await this.bus.request(ListContactsV1, { ...filter, cursor, limit: limit - items.length });
      const work = await this.visibleWork(p, page.items.flatMap((c) => c.conversationIds));
      for (const c of page.items) {
        const visible = c.conversationIds.filter((id) => work.has(id));
        if (visible.length) items.push({ ...c, conversationIds: visible });
      }
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    return { items, nextCursor: cursor };
  }

  /** The contact with the conversations (across numbers) the caller may see, each with its work state. */
  async get(p: Principal, id: string) {
    const found = await this.bus.request(GetContactV1, { contactId: id });
    const work = await this.visibleWork(p, found.contact.conversationIds);
    const all = this.seesAll(p);
    const conversations = found.conversations.filter((c) => all || work.has(c.id));
    if (!all && conversations.length === 0) throw new NotFoundException(`contact ${id} not found`);
    return {
      ...found.contact,
      conversationIds: conversations.map((c) => c.id),
      redirectedFrom: found.redirectedFrom,
      conversations: conversations.map((c) => present(c, work.get(c.id))),
    };
  }

  /** Name / attributes / labels (catalogue names only, as for conversations). Managers and admins. */
  async update(p: Principal, id: string, dto: UpdateContactDto) {
    const current = await this.get(p, id);
    let labels: string[] | undefined;
    if (dto.labels) {
      const resolved = await this.labels.resolve(dto.labels.map((l) => l.trim()));
      // labels the contact already carries may stay even if renamed or deleted in the catalogue since
      const refused = resolved.unknown.filter((l) => !current.labels.includes(l));
      if (refused.length)
        throw new BadRequestException({
          message: `labels: not in the label catalogue: ${refused.map((l) => JSON.stringify(l)).join(', ')}`,
          details: { unknownLabels: refused },
        });
      labels = [...new Set(resolved.names)];
    }
    return this.change(p, { contactId: current.id, version: dto.version, name: dto.name, attributes: dto.attributes, labels });
  }

  /**
   * Blocking keeps the contact's conversations and stores what they send, but their messages no longer reopen
   * or route a conversation and nothing can be sent to them (409) until they are unblocked.
   */
  async setBlocked(p: Principal, id: string, blocked: boolean) {
    const current = await this.get(p, id);
    return this.change(p, { contactId: current.id, blocked });
  }

  /**
   * Admin: `mergedId` is the same person as `survivorId`. Conversations whose messages moved into the survivor's
   * conversation on the same number are resolved in routing (so no empty work item waits in a queue); repeating
   * the merge repeats that step, so an interrupted merge is finished by calling it again.
   */
  async merge(p: Principal, survivorId: string, mergedId: string): Promise<ResponseOf<typeof MergeContactsV1>> {
    if (survivorId === mergedId) throw new BadRequestException('mergedContactId: a contact cannot be merged into itself');
    const r = await this.bus.request(MergeContactsV1, { actor: actorOf(p), survivorId, mergedId });
    for (const { from } of r.absorbedConversationIds) await this.resolveAbsorbed(p, from);
    return r;
  }

  /**
   * Admin: GDPR erasure (see EraseContactV1). First the copies other places keep are redacted, asked before ingest
   * forgets the person's ids so a retry after a failure still finds them: the raw webhook bodies (receipts and the
   * dead letters of refused ones) and event-webhook deliveries the gateway keeps, notifications' outbound sends
   * (EraseRecipientV1) and routing's notes and route contexts (EraseConversationContentV1); then ingest erases. A
   * service that does not answer makes it 503 (all steps are idempotent, so it can be repeated). The audit trail
   * keeps who, when and the counts.
   */
  async erase(p: Principal, id: string): Promise<ResponseOf<typeof EraseContactV1> & ErasedCopies> {
    const { contactId, keys, conversationIds } = await this.bus.request(ContactKeysV1, { contactId: id });
    const outbound = await this.bus.request(EraseRecipientV1, { conversationIds, recipients: keys });
    const routing = await this.bus.request(EraseConversationContentV1, { conversationIds });
    const copies = await this.ds.transaction(async (em) => {
      const n: ErasedCopies = {
        webhookReceipts: await this.receipts.redactMentioning(em, keys),
        webhookRejections: await this.receipts.redactRejections(em, keys),
        eventDeliveries: await this.receipts.redactDeliveries(em, conversationIds),
        outboundSends: outbound.outboundSends,
        notes: routing.notes,
        routeContexts: routing.routeContexts,
      };
      if (Object.values(n).some((v) => v > 0))
        await this.audit.record(em, p, { action: 'contact.receipts-erased', entityType: 'contact', entityId: contactId, before: null, after: { contactId, ...n } });
      return n;
    });
    return { ...(await this.bus.request(EraseContactV1, { actor: actorOf(p), contactId })), ...copies };
  }

  /** CSV rows (header first) of every contact the caller may see, page by page, for streaming. */
  async *exportCsv(p: Principal, q: ContactsQuery): AsyncGenerator<string> {
    yield csvRow(CSV_COLUMNS);
    let cursor: string | null = null;
    do {
      const page = await this.list(p, { ...q, cursor: cursor ?? undefined }, EXPORT_PAGE);
      yield page.items
        .map((c) =>
          csvRow([c.id, c.name, c.profileName, c.waId, c.userId, c.labels.join(';'), JSON.stringify(c.attributes), c.blocked, c.createdAt, c.updatedAt]),
        )
        .join('');
      cursor = page.nextCursor;
    } while (cursor);
  }

  private async change(p: Principal, r: Omit<RequestInputOf<typeof UpdateContactV1>, 'actor'>) {
    const parsed = UpdateContactV1.request.safeParse({ actor: actorOf(p), ...r });
    if (!parsed.success) throw new BadRequestException(describeIssues(parsed.error.issues));
    return this.bus.request(UpdateContactV1, parsed.data);
  }

  private async resolveAbsorbed(p: Principal, conversationId: string): Promise<void> {
    try {
      const w = await this.bus.request(GetWorkV1, { actor: actorOf(p), conversationId });
      if (w.status === 'resolved') return;
      await this.bus.request(SetStatusV1, { actor: actorOf(p), conversationId, version: w.version, status: 'resolved' });
    } catch (err) {
      // never routed (NOT_FOUND) or changed meanwhile (CONFLICT): the merge itself stands; a repeat finishes this
      if (err instanceof BusError && (err.code === 'NOT_FOUND' || err.code === 'CONFLICT')) {
        this.log.warn(`merge: work item of absorbed conversation ${conversationId} not resolved: ${err.message}`);
        return;
      }
      throw err;
    }
  }

  private seesAll(p: Principal): boolean {
    return p.role === 'admin';
  }

  /** The work states of those of `ids` the caller may see (routing decides). */
  private async visibleWork(p: Principal, ids: string[]): Promise<Map<string, WorkState>> {
    const out = new Map<string, WorkState>();
    for (let i = 0; i < ids.length; i += WORK_PAGE) {
      const chunk = ids.slice(i, i + WORK_PAGE);
      const page = await this.bus.request(ListWorkV1, { actor: actorOf(p), view: 'all', ids: chunk, limit: WORK_PAGE });
      for (const w of page.items) out.set(w.conversationId, w);
    }
    return out;
  }
}

function present(c: ConversationSummary, w: WorkState | undefined) {
  return {
    id: c.id,
    phoneNumberId: c.phoneNumberId,
    status: w?.status ?? c.status,
    version: w?.version ?? null,
    teamId: w?.teamId ?? null,
    ownerId: w?.ownerId ?? null,
    labels: w?.labels ?? [],
    lastMessageAt: c.lastMessageAt,
    lastInboundAt: c.lastInboundAt,
    lastMessageText: c.lastMessageText,
    messageCount: c.messageCount,
    createdAt: c.createdAt,
  };
}
