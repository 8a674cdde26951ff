import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openDatabase, type Database, type DriverName } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';

export interface TestDatabase {
  name: string;
  /** Direct TCP URL to the server. */
  url: string;
  /** The same database through PgBouncer in transaction mode (null when PgBouncer is not installed). */
  pgbouncerUrl: string | null;
  drop(): Promise<void>;
}

async function admin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: inject('postgresUrl') });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the real server, so test files never share tables. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `ck_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const server = new URL(inject('postgresUrl'));
  const url = `postgres://${server.username}@${server.host}/${name}`;
  const bouncer = inject('pgbouncerPort');
  return {
    name,
    url,
    pgbouncerUrl: bouncer ? `postgres://${server.username}@127.0.0.1:${bouncer}/${name}` : null,
    drop: () => admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => {}),
  };
}

/** A fresh database on the real server, every migration applied, and a `pg` connection to it (`onQuery` sees every statement, the migrations' too). */
export async function createMigratedDatabase(options: { onQuery?: (sql: string) => void } = {}): Promise<{ testDb: TestDatabase; database: Database }> {
  const testDb = await createTestDatabase();
  const database = await openDatabase({ url: testDb.url, onQuery: options.onQuery });
  await migrateToLatest(database.db);
  return { testDb, database };
}

export interface StoreBackend {
  name: 'pg' | 'neon+pgbouncer' | 'pglite';
  driver: DriverName;
  /** A migrated database on this backend; close() also removes it. */
  open(options?: { onQuery?: (sql: string) => void }): Promise<Database>;
}

/** Every way the product reaches PostgreSQL; suites run unchanged against each. */
export function storeBackends(): StoreBackend[] {
  const backends: StoreBackend[] = [
    {
      name: 'pg',
      driver: 'pg',
      open: async (options) => {
        const created = await createTestDatabase();
        await migrated(created.url);
        return cleanup(await openDatabase({ url: created.url, onQuery: options?.onQuery }), created.drop);
      },
    },
    {
      name: 'pglite',
      driver: 'pglite',
      open: async (options) => {
        const dataDir = mkdtempSync(join(tmpdir(), 'pglite-'));
        const database = await openDatabase({ driver: 'pglite', dataDir });
        await migrateToLatest(database.db);
        await database.close();
        return cleanup(await openDatabase({ driver: 'pglite', dataDir, onQuery: options?.onQuery }), async () =>
          rmSync(dataDir, { recursive: true, force: true }),
        );
      },
    },
  ];
  if (inject('pgbouncerPort') !== null) {
    backends.splice(1, 0, {
      name: 'neon+pgbouncer',
      driver: 'neon',
      open: async (options) => {
        const created = await createTestDatabase();
        await migrated(created.url); // migrations go over the direct URL, as in production
        const database = await openDatabase({
          url: created.pgbouncerUrl!,
          driver: 'neon',
          neonWsProxy: inject('neonWsProxy'),
          onQuery: options?.onQuery,
        });
        return cleanup(database, created.drop);
      },
    });
  }
  return backends;
}

async function migrated(url: string) {
  const database = await openDatabase({ url });
  try {
    await migrateToLatest(database.db);
  } finally {
    await database.close();
  }
}

function cleanup(database: Database, remove: () => Promise<void>): Database {
  return { ...database, close: () => database.close().then(remove) };
}
