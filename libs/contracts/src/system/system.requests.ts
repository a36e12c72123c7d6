import { z } from 'zod';
import { defineRequest, type ServiceName } from '../define';

const PingResponse = z.object({
  service: z.string(),
  instanceId: z.string(),
  version: z.string(),
  database: z.enum(['ok', 'down']),
  time: z.string(),
});
export type PingResponse = z.infer<typeof PingResponse>;

function ping(service: Exclude<ServiceName, 'gateway'>) {
  return defineRequest({
    subject: `${service}.ping.v1`,
    service,
    request: z.object({}).passthrough(),
    response: PingResponse,
    timeoutMs: 2_000,
  });
}

/** Liveness of each back-end service through the bus, answered by one replica. */
export const PingV1 = {
  ingest: ping('ingest'),
  routing: ping('routing'),
  sla: ping('sla'),
  notifications: ping('notifications'),
} as const;
export type PingableService = keyof typeof PingV1;
