import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseOptionsFromEnv, driverFor, isConnectionTerminated, openDatabase, retryIfTerminated } from '../../shared/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { inject } from 'vitest';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});

describe('choosing a driver', () => {
  it('takes Neon hosts to the Neon driver, other URLs to pg, no URL to PGlite', () => {
    expect(driverFor('postgres://u:p@ep-cool-darkness-123456-pooler.eu-central-1.aws.neon.tech/neondb?sslmode=require')).toBe('neon');
    expect(driverFor('postgres://postgres@127.0.0.1:5432/test')).toBe('pg');
    expect(driverFor(undefined)).toBe('pglite');
  });

  it('reads the app and migration URLs from the environment', () => {
    const env = { DATABASE_URL: 'postgres://pooled/db', DATABASE_URL_UNPOOLED: 'postgres://direct/db', DATA_DIR: '/tmp/x' };
    expect(databaseOptionsFromEnv(env, 'app')).toMatchObject({ url: 'postgres://pooled/db', dataDir: '/tmp/x' });
    expect(databaseOptionsFromEnv(env, 'migrate')).toMatchObject({ url: 'postgres://direct/db' });
    expect(databaseOptionsFromEnv({ DATABASE_URL: 'postgres://pooled/db' }, 'migrate').url).toBe('postgres://pooled/db');
    expect(() => databaseOptionsFromEnv({ DATABASE_DRIVER: 'mysql' }, 'app')).toThrow(/DATABASE_DRIVER/);
  });
});

describe('round-trip counting', () => {
  it('counts one per statement, and BEGIN and COMMIT in a transaction', async () => {
    const seen: string[] = [];
    const database = await openDatabase({ url: testDb.url, onQuery: (q) => seen.push(q) });
    try {
      await sql`SELECT 1`.execute(database.db);
      expect(seen).toHaveLength(1);
      await database.db.transaction().execute((trx) => sql`SELECT 2`.execute(trx));
      expect(seen.slice(1).map((q) => q.toLowerCase().trim())).toEqual(['begin', 'select 2', 'commit']);
    } finally {
      await database.close();
    }
  });
});

describe('a connection dropped while idle', () => {
  for (const driver of ['pg', 'neon'] as const) {
    it(`does not crash the process and the next query reconnects (${driver})`, async () => {
      const dropped: Error[] = [];
      const url = driver === 'neon' ? testDb.pgbouncerUrl : testDb.url;
      if (!url) throw new Error('PgBouncer is required for the Neon driver test');
      const database = await openDatabase({ url, driver, neonWsProxy: inject('neonWsProxy'), onIdleError: (e) => dropped.push(e) });
      try {
        await sql`SELECT 1`.execute(database.db);
        // Terminate every server connection of this database, as a suspended Neon compute does.
        const admin = new pg.Client({ connectionString: testDb.url });
        await admin.connect();
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [testDb.name]);
        await admin.end();
        await new Promise((r) => setTimeout(r, 200));
        if (driver === 'pg') expect(dropped.length).toBeGreaterThan(0);
        // PgBouncer hides the server connection from the Neon client: its next query may meet the
        // dead server connection once, which is what the read retry is for.
        const { rows } = await retryIfTerminated(() => sql<{ n: number }>`SELECT 42 AS n`.execute(database.db));
        expect(rows).toEqual([{ n: 42 }]);
      } finally {
        await database.close();
      }
    });
  }
});

describe('retryIfTerminated', () => {
  it('retries a read once after a terminated connection, and only then', async () => {
    let calls = 0;
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(await retryIfTerminated(async () => (++calls === 1 ? Promise.reject(terminated) : 'ok'))).toBe('ok');
    expect(calls).toBe(2);

    calls = 0;
    await expect(retryIfTerminated(async () => { calls++; throw terminated; })).rejects.toBe(terminated);
    expect(calls).toBe(2);

    calls = 0;
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(retryIfTerminated(async () => { calls++; throw syntax; })).rejects.toBe(syntax);
    expect(calls).toBe(1);
    expect(isConnectionTerminated(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionTerminated('nope')).toBe(false);
  });
});

describe('PGlite', () => {
  it('keeps its data across close and reopen of the same DATA_DIR', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pglite-persist-'));
    try {
      const first = await openDatabase({ dataDir });
      expect(first.driver).toBe('pglite');
      await sql`CREATE TABLE kept (v text)`.execute(first.db);
      await sql`INSERT INTO kept VALUES ('still here')`.execute(first.db);
      await first.close();
      const second = await openDatabase({ dataDir });
      const { rows } = await sql<{ v: string }>`SELECT v FROM kept`.execute(second.db);
      expect(rows).toEqual([{ v: 'still here' }]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
