import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { NoticeRequestedV1, SlaEscalatedV1, type NoticeKind } from '@app/contracts';
import { OutboxRelay, OutboxWriter } from '@app/persistence';

export interface NoticeSpec {
  kind: NoticeKind;
  conversationId: string | null;
  /** Users to tell (null entries are dropped). */
  userIds: (string | null)[];
  /** Also (or, with no users, instead) the managers of this team. */
  teamManagersOf?: string | null;
  title: string;
  body?: string | null;
  data?: Record<string, unknown> | null;
}

export interface EscalationSpec {
  conversationId: string;
  teamId: string | null;
  target: string;
  level: string;
  dueAt: Date | null;
  actions: string[];
  late: boolean;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Notices to people and the escalation log (+ its audit event), written in the caller's transaction. */
@Injectable()
export class EscalationWriter {
  constructor(
    private readonly outbox: OutboxWriter,
    private readonly relay: OutboxRelay,
  ) {}

  private payload(n: NoticeSpec, at: Date) {
    const userIds = [...new Set(n.userIds.filter((u): u is string => !!u && UUID.test(u)))];
    const teamManagersOf = n.teamManagersOf ?? null;
    if (!userIds.length && !teamManagersOf) return null; // nobody to tell
    return NoticeRequestedV1.schema.parse({
      eventId: randomUUID(),
      occurredAt: at.toISOString(),
      kind: n.kind,
      audience: { userIds, teamManagersOf },
      conversationId: n.conversationId,
      title: n.title,
      body: n.body ?? null,
      data: n.data ?? null,
      source: 'sla',
    });
  }

  /**
   * Many notices in one statement (a batch of due reminders). The same rows OutboxWriter.add writes, validated by
   * the contract the same way; the relay is kicked once, when the caller's transaction commits.
   */
  async notices(em: EntityManager, list: NoticeSpec[], at: Date): Promise<void> {
    const rows = list.map((n) => this.payload(n, at)).filter((p) => p !== null);
    if (!rows.length) return;
    await em.query(
      `INSERT INTO sla.outbox (id, subject, payload) SELECT (r->>'eventId')::uuid, $2, r FROM jsonb_array_elements($1::jsonb) r`,
      [JSON.stringify(rows), NoticeRequestedV1.subject],
    );
    this.relay.afterCommit(em);
  }

  async notice(em: EntityManager, n: NoticeSpec, at: Date): Promise<void> {
    const p = this.payload(n, at);
    if (p) await this.outbox.add(em, NoticeRequestedV1, p);
  }

  /** Recorded on the conversation (GET …/sla shows it) and sent to routing's audit trail. */
  async escalation(em: EntityManager, e: EscalationSpec, at: Date): Promise<void> {
    const id = randomUUID();
    await em.query(`INSERT INTO sla.escalation (id, conversation_id, target, level, actions, late, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`, [
      id,
      e.conversationId,
      e.target,
      e.level,
      JSON.stringify(e.actions),
      e.late,
      at,
    ]);
    await this.outbox.add(em, SlaEscalatedV1, {
      eventId: id,
      occurredAt: at.toISOString(),
      conversationId: e.conversationId,
      teamId: e.teamId,
      target: e.target,
      level: e.level,
      dueAt: e.dueAt ? e.dueAt.toISOString() : null,
      actions: e.actions,
      late: e.late,
    });
  }
}
