import { sql } from 'kysely';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  databaseOptionsFromEnv,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_QUERY_TIMEOUT_MS,
  driverFor,
  isConnectionTerminated,
  openDatabase,
  retryIfTerminated,
  toDatabaseUnavailable,
} from '../../shared/db/connect.js';
import { DatabaseUnavailableError } from '../../shared/errors.js';
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

  it('reads the connect and query timeouts, with defaults well under API Gateway\'s 29 s', () => {
    expect(databaseOptionsFromEnv({}, 'app')).toMatchObject({ connectionTimeoutMillis: DEFAULT_CONNECT_TIMEOUT_MS, queryTimeoutMillis: DEFAULT_QUERY_TIMEOUT_MS });
    expect(DEFAULT_CONNECT_TIMEOUT_MS + DEFAULT_QUERY_TIMEOUT_MS).toBeLessThan(29_000);
    const env = { DATABASE_CONNECT_TIMEOUT_MS: '1500', DATABASE_QUERY_TIMEOUT_MS: '2500' };
    expect(databaseOptionsFromEnv(env, 'app')).toMatchObject({ connectionTimeoutMillis: 1500, queryTimeoutMillis: 2500 });
    expect(databaseOptionsFromEnv({ DATABASE_QUERY_TIMEOUT_MS: '0' }, 'app').queryTimeoutMillis).toBe(0);
    // Migrations run long DDL and wait on each other's lock.
    expect(databaseOptionsFromEnv(env, 'migrate')).toMatchObject({ connectionTimeoutMillis: 1500, queryTimeoutMillis: undefined });
    expect(() => databaseOptionsFromEnv({ DATABASE_QUERY_TIMEOUT_MS: '10s' }, 'app')).toThrow(/DATABASE_QUERY_TIMEOUT_MS/);
    expect(() => databaseOptionsFromEnv({ DATABASE_CONNECT_TIMEOUT_MS: '-1' }, 'app')).toThrow(/DATABASE_CONNECT_TIMEOUT_MS/);
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

    // What the store sees: the translated error. A lost connection is retried, a timeout is not.
    calls = 0;
    const lost = new DatabaseUnavailableError('connection', { cause: terminated });
    expect(await retryIfTerminated(async () => (++calls === 1 ? Promise.reject(lost) : 'ok'))).toBe('ok');
    calls = 0;
    const slow = new DatabaseUnavailableError('timeout');
    await expect(retryIfTerminated(async () => { calls++; throw slow; })).rejects.toBe(slow);
    expect(calls).toBe(1);
  });
});

describe('toDatabaseUnavailable', () => {
  it('turns connection and timeout errors of both drivers into DatabaseUnavailableError, and nothing else', () => {
    const cases: [Error, DatabaseUnavailableError['reason']][] = [
      [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'connection'],
      [new Error('Connection terminated unexpectedly'), 'connection'],
      [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }), 'connection'],
      [Object.assign(new Error('server conn crashed?'), { code: '08P01' }), 'connection'],
      [new Error('Query read timeout'), 'timeout'],
      [new Error('timeout exceeded when trying to connect'), 'timeout'],
      [new Error('Connection terminated due to connection timeout'), 'timeout'],
      [Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' }), 'timeout'],
    ];
    for (const [error, reason] of cases) {
      const translated = toDatabaseUnavailable(error) as DatabaseUnavailableError;
      expect(translated, error.message).toBeInstanceOf(DatabaseUnavailableError);
      expect(translated.reason, error.message).toBe(reason);
      expect(translated.cause).toBe(error);
      expect(translated.message).not.toContain(error.message); // internals stay in the log
    }
    const unique = Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' });
    expect(toDatabaseUnavailable(unique)).toBe(unique);
    const already = new DatabaseUnavailableError('timeout');
    expect(toDatabaseUnavailable(already)).toBe(already);
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
