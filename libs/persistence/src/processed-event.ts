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
