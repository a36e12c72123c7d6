import { z } from 'zod';

/** A JetStream event: published once, seen by every service's durable consumer. */
export interface EventContract<S extends z.ZodTypeAny = z.ZodTypeAny> {
  /** `<domain>.<entity>.<past-verb>.v<N>`; the bus prefixes it with the deployment namespace. */
  subject: string;
  /** The stream (see streams.ts) whose subjects capture this one. */
  stream: StreamName;
  schema: S;
}

/** A request/reply call over core NATS, always bounded by a timeout. */
export interface RequestContract<Q extends z.ZodTypeAny = z.ZodTypeAny, R extends z.ZodTypeAny = z.ZodTypeAny> {
  /** `<service>.<verb-noun>.v<N>`; answered by one member of the service's queue group. */
  subject: string;
  /** The service that answers (its queue group). */
  service: ServiceName;
  request: Q;
  response: R;
  timeoutMs: number;
}

export type PayloadOf<C extends { schema: z.ZodTypeAny }> = z.infer<C['schema']>;
export type RequestOf<C extends { request: z.ZodTypeAny }> = z.infer<C['request']>;
/** What a caller may pass (defaults not yet applied). */
export type RequestInputOf<C extends { request: z.ZodTypeAny }> = z.input<C['request']>;
export type ResponseOf<C extends { response: z.ZodTypeAny }> = z.infer<C['response']>;

export const SERVICES = ['gateway', 'ingest', 'routing', 'sla', 'notifications'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Default request timeout (issue: "request/reply always with a timeout (default 5 s)"). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export type StreamName = 'WEBHOOKS' | 'INBOX_EVENTS' | 'DLQ';

export function defineEvent<S extends z.ZodTypeAny>(c: EventContract<S>): EventContract<S> {
  return c;
}

export function defineRequest<Q extends z.ZodTypeAny, R extends z.ZodTypeAny>(
  c: Omit<RequestContract<Q, R>, 'timeoutMs'> & { timeoutMs?: number },
): RequestContract<Q, R> {
  return { ...c, timeoutMs: c.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS };
}

/** Every event payload carries these so handlers can dedupe and order. */
export const eventBase = {
  eventId: z.string().uuid(),
  occurredAt: z.string().datetime({ offset: true }),
};
