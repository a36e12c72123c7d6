import type { EntityManager } from 'typeorm';

/**
 * Records that `consumer` applied `eventId`, inside the caller's transaction.
 * Returns false when it was applied before: the caller must then change nothing.
 */
export async function claimEvent(em: EntityManager, schema: string, consumer: string, eventId: string): Promise<boolean> {
  const rows = await em.query(
    `INSERT INTO ${schema}.processed_event (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
    [consumer, eventId],
  );
  return rows.length > 0;
}

/** `claimEvent` for several events in one statement: the ids not applied before (the caller applies only those). */
export async function claimEvents(em: EntityManager, schema: string, consumer: string, eventIds: string[]): Promise<Set<string>> {
  const rows: { event_id: string }[] = await em.query(
    `INSERT INTO ${schema}.processed_event (consumer, event_id) SELECT $1, e FROM unnest($2::text[]) e ORDER BY e
     ON CONFLICT DO NOTHING RETURNING event_id`,
    [consumer, eventIds],
  );
  return new Set(rows.map((r) => r.event_id));
}
