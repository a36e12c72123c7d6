import { startEmbeddedPostgres } from '@app/persistence/embedded-postgres';

/**
 * `node -r test/support/ts-register.js test/support/embedded-db.ts <dataDir>`: the embedded PostgreSQL of
 * single-machine mode alone, in its own process (PGlite loads its WASM with a dynamic import() that Jest's VM does
 * not allow). Prints `url=<DATABASE_URL>` once it accepts connections; SIGTERM stops it.
 */
async function main(): Promise<void> {
  const db = await startEmbeddedPostgres({ dataDir: process.argv[2] });
  process.stdout.write(`url=${db.url}\n`);
  process.once('SIGTERM', () => void db.stop().then(() => process.exit(0)));
}
main().catch((err) => {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
});
