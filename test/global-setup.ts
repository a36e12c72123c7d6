import { connect } from 'nats';
import { Client } from 'pg';
import { dropStaleTestDatabases, TEST_PG_URL } from '../libs/testing/src/database';

/** Fails fast, with the command to fix it, when PostgreSQL or NATS is not running. */
export default async function globalSetup(): Promise<void> {
  const pg = new Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 3_000 });
  try {
    await pg.connect();
    await pg.end();
  } catch (err) {
    throw new Error(
      `Tests need PostgreSQL at ${TEST_PG_URL} (${(err as Error).message}). Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`,
    );
  }
  const natsUrl = new URL(process.env.TEST_NATS_URL ?? 'nats://127.0.0.1:4222');
  try {
    const nc = await connect({ servers: `${natsUrl.hostname}:${natsUrl.port || 4222}`, timeout: 3_000 });
    await nc.jetstreamManager(); // fails when JetStream is not enabled
    await nc.close();
  } catch (err) {
    throw new Error(
      `Tests need NATS with JetStream at ${natsUrl.host} (${(err as Error).message}). Start it: start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server`,
    );
  }
  await dropStaleTestDatabases();
}
