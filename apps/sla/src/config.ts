import { z } from 'zod';
import { BaseConfigSchema, portSetting } from '@app/config';

export const SlaConfigSchema = BaseConfigSchema.extend({
  /** HTTP port for /health and /metrics. */
  PORT: portSetting(3003),
  /** How often each replica looks for due timers (0 = never on its own; tests and tools call runOnce). */
  SLA_TIMER_POLL_MS: z.coerce.number().int().min(0).default(250),
  /** Timers one replica claims per transaction. */
  SLA_TIMER_BATCH: z.coerce.number().int().min(1).max(5000).default(500),
  /** A timer fired more than this after its due time is flagged late (the service was down or behind). */
  SLA_TIMER_LATE_MS: z.coerce.number().int().min(0).default(5_000),
  /**
   * A clock's warning or breach timer that fires late (sla was down or behind) waits this long once more, so the
   * backlog (replies, applied at their `occurredAt`, and status changes) reaches the clock before it is judged.
   */
  SLA_LATE_CLOCK_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  /** Deliveries of a clock event before it is dead-lettered (an unknown conversation keeps failing). */
  SLA_EVENT_MAX_DELIVER: z.coerce.number().int().min(1).max(50).default(5),
  /** First redelivery delay of a failed clock event (doubles each time). */
  SLA_EVENT_BACKOFF_MS: z.coerce.number().int().min(10).default(1_000),
  /** Window warning when no policy says otherwise (minutes before the 24 h window closes). */
  SLA_WINDOW_WARNING_MINUTES: z.coerce.number().int().min(1).max(1380).default(120),
});
export const SLA_CONFIG = Symbol('SLA_CONFIG');
export type SlaConfig = z.infer<typeof SlaConfigSchema>;
