import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ConversationAssignedV1, ConversationResolvedV1, ConversationWorkChangedV1, type WorkState } from '@app/contracts';
import { currentCorrelationId } from '@app/messaging';
import type { OutboxWriter } from '@app/persistence';
import type { AuditRepository } from './work.repository';

export type AssignReason = 'claim' | 'assign' | 'handoff' | 'takeover' | 'reply' | 'route' | 'requeue' | 'reassign';

export const SYSTEM_ACTOR = { type: 'system', id: null, name: 'routing' } as const;

/** The part of the state an audit entry records before/after (`bot` when a bot held it before or after). */
const snapshot = (w: WorkState, withBot = false) => ({
  teamId: w.teamId,
  ownerId: w.ownerId,
  status: w.status,
  snoozeUntil: w.snoozeUntil,
  priority: w.priority,
  labels: w.labels,
  version: w.version,
  ...(withBot ? { bot: w.bot ? { id: w.bot.id, name: w.bot.name } : null } : {}),
});

/** One audit entry and the events for a change (also used by the event handlers, with the system actor). */
export async function recordChange(
  audit: AuditRepository,
  outbox: OutboxWriter,
  em: EntityManager,
  c: {
    actor: { type: string; id: string | null; name: string | null };
    action: string;
    before: WorkState | null;
    after: WorkState;
    note: string | null;
    reason?: AssignReason;
    /** Why (e.g. the rule and strategy that chose the owner), kept with the audit entry's `after`. */
    why?: Record<string, unknown>;
  },
): Promise<void> {
  const { before, after } = c;
  const withBot = !!(before?.bot || after.bot);
  const now = new Date().toISOString();
  await audit.append(em, {
    conversationId: after.conversationId,
    teamId: after.teamId,
    actor: c.actor,
    action: c.action,
    before: before ? snapshot(before, withBot) : null,
    after: { ...snapshot(after, withBot), ...(c.why ?? {}) },
    note: c.note,
    requestId: currentCorrelationId() ?? null,
  });
  await outbox.add(em, ConversationWorkChangedV1, { eventId: randomUUID(), occurredAt: now, action: c.action, actor: c.actor, state: after });
  if (before && c.reason && (before.ownerId !== after.ownerId || before.teamId !== after.teamId)) {
    await outbox.add(em, ConversationAssignedV1, {
      eventId: randomUUID(),
      occurredAt: now,
      conversationId: after.conversationId,
      reason: c.reason,
      teamId: after.teamId,
      ownerId: after.ownerId,
      previousTeamId: before.teamId,
      previousOwnerId: before.ownerId,
      note: c.note,
      actor: c.actor,
      version: after.version,
    });
  }
  if (before && before.status !== 'resolved' && after.status === 'resolved') {
    await outbox.add(em, ConversationResolvedV1, {
      eventId: randomUUID(),
      occurredAt: now,
      conversationId: after.conversationId,
      resolvedBy: c.actor.type === 'user' ? c.actor.id : null,
    });
  }
}

