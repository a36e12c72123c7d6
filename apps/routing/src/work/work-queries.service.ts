import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { Actor, AuditEntryView, NoteView, RequestOf, ListAuditV1, ListWorkV1, WorkState } from '@app/contracts';
import { ForbiddenError, NotFoundError, ValidationError } from '@app/messaging';
import { decodeCursor, encodeCursor, TIMESTAMP_TEXT, UUID_TEXT } from '@app/persistence';
import { canSee } from './permissions';
import { AuditRepository, NoteRepository, WorkRepository } from './work.repository';

const encode = encodeCursor;
function decode<T>(cursor: string, check: (o: any) => boolean): T {
  const o = decodeCursor<T>(cursor, check);
  if (o === null) throw new ValidationError('cursor is not valid', { field: 'cursor' });
  return o;
}

/** Reads of the work state, notes and audit trail, limited to what the actor may see. */
@Injectable()
export class WorkQueriesService {
  constructor(
    private readonly ds: DataSource,
    private readonly work: WorkRepository,
    private readonly audit: AuditRepository,
    private readonly notes: NoteRepository,
  ) {}

  async get(actor: Actor, conversationId: string): Promise<WorkState> {
    const w = await this.work.find(this.ds.manager, conversationId);
    if (!w || !canSee(actor, w)) throw new NotFoundError(`conversation ${conversationId} not found`);
    return w;
  }

  async list(r: RequestOf<typeof ListWorkV1>): Promise<{ items: WorkState[]; nextCursor: string | null }> {
    const after = r.cursor
      ? decode<{ a: string; i: string }>(r.cursor, (o) => typeof o?.a === 'string' && TIMESTAMP_TEXT.test(o.a) && typeof o?.i === 'string' && UUID_TEXT.test(o.i))
      : undefined;
    const { items, last } = await this.work.list(this.ds.manager, {
      admin: r.actor.role === 'admin',
      actorId: r.actor.id,
      teamIds: r.actor.teamIds,
      view: r.view,
      bot: r.actor.type === 'bot',
      status: r.status,
      teamId: r.teamId,
      assigneeId: r.assigneeId,
      label: r.label,
      phoneNumberId: r.phoneNumberId,
      ids: r.ids,
      after: after ? { activityKey: after.a, id: after.i } : undefined,
      limit: r.limit,
    });
    return { items, nextCursor: last ? encode({ a: last.activityKey, i: last.id }) : null };
  }

  async activity(actor: Actor, conversationId: string, limit: number): Promise<{ notes: NoteView[]; events: AuditEntryView[] }> {
    await this.get(actor, conversationId);
    const [notes, events] = await Promise.all([
      this.notes.forConversation(this.ds.manager, conversationId, limit),
      this.audit.forConversation(this.ds.manager, conversationId, limit),
    ]);
    return { notes, events };
  }

  /** Admins see the whole trail; managers the entries of their teams; others nothing. */
  async listAudit(r: RequestOf<typeof ListAuditV1>): Promise<{ items: AuditEntryView[]; nextCursor: string | null }> {
    const a = r.actor;
    if (a.role !== 'admin' && a.role !== 'manager') throw new ForbiddenError('only managers and admins can read the audit trail');
    const beforeSeq = r.cursor ? decode<{ s: string }>(r.cursor, (o) => /^\d{1,19}$/.test(o?.s)).s : undefined;
    const items = await this.audit.list(this.ds.manager, {
      teamIds: a.role === 'admin' ? null : a.teamIds,
      conversationId: r.conversationId,
      actorId: r.actorId,
      action: r.action,
      from: r.from,
      to: r.to,
      beforeSeq,
      limit: r.limit,
    });
    return { items, nextCursor: items.length === r.limit ? encode({ s: items[items.length - 1].seq }) : null };
  }
}
