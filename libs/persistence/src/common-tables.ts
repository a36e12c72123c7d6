/**
 * SQL for the tables every service keeps in its own schema: the transactional outbox (state change and
 * event in one commit) and processed_event (idempotent consumers). Used by each service's first migration.
 */
export function commonTablesUp(schema: string): string[] {
  return [
    `CREATE SCHEMA IF NOT EXISTS ${schema}`,
    `CREATE TABLE ${schema}.outbox (
       id uuid PRIMARY KEY,
       subject text NOT NULL,
       payload jsonb NOT NULL,
       correlation_id text,
       created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
       published_at timestamptz,
       attempts int NOT NULL DEFAULT 0,
       last_error text)`,
    `CREATE INDEX outbox_unpublished_ix ON ${schema}.outbox (created_at) WHERE published_at IS NULL`,
    `CREATE TABLE ${schema}.processed_event (
       consumer text NOT NULL,
       event_id text NOT NULL,
       processed_at timestamptz NOT NULL DEFAULT now(),
       CONSTRAINT processed_event_pk PRIMARY KEY (consumer, event_id))`,
  ];
}

export function commonTablesDown(schema: string): string[] {
  return [`DROP TABLE ${schema}.processed_event`, `DROP TABLE ${schema}.outbox`];
}
