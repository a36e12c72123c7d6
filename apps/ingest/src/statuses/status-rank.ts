import type { MessageStatus } from '@app/contracts';

/** Delivery progress of an outbound message: queued < sent < delivered < read < played. */
const RANK: Record<string, number> = { queued: 0, sent: 1, delivered: 2, read: 3, played: 4 };

export function isKnownStatus(s: string): s is MessageStatus {
  return s in RANK || s === 'failed';
}

/**
 * Monotonic merge: a status only moves forward. `failed` wins over queued/sent only, and is terminal
 * unless a status that proves delivery (delivered, read, played) arrives — in any order.
 * Returns the new status, or null when `incoming` does not move the message.
 */
export function mergeStatus(current: string | null, incoming: string): MessageStatus | null {
  if (!isKnownStatus(incoming)) return null;
  if (current === incoming) return null;
  if (current === null) return incoming;
  if (incoming === 'failed') return (RANK[current] ?? 0) <= RANK.sent ? 'failed' : null;
  if (current === 'failed') return RANK[incoming] >= RANK.delivered ? incoming : null;
  return RANK[incoming] > (RANK[current] ?? -1) ? incoming : null;
}
