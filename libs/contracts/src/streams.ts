import type { StreamName } from './define';

export interface StreamSpec {
  name: StreamName;
  /** Subject filters, relative to the namespace. */
  subjects: string[];
  /** How long JetStream keeps events (ms). Limits retention: every durable consumer sees each event. */
  maxAgeMs: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped by the server. */
  duplicateWindowMs: number;
}

const DAY = 24 * 60 * 60 * 1000;

export const STREAMS: Record<StreamName, StreamSpec> = {
  WEBHOOKS: { name: 'WEBHOOKS', subjects: ['webhook.>'], maxAgeMs: 7 * DAY, duplicateWindowMs: 2 * 60_000 },
  INBOX_EVENTS: { name: 'INBOX_EVENTS', subjects: ['inbox.>'], maxAgeMs: 7 * DAY, duplicateWindowMs: 2 * 60_000 },
  DLQ: { name: 'DLQ', subjects: ['dlq.>'], maxAgeMs: 30 * DAY, duplicateWindowMs: 2 * 60_000 },
};

/** Dead-letter subject for a message that kept failing on `subject`. */
export function deadLetterSubject(subject: string): string {
  return `dlq.${subject}`;
}
