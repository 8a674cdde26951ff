import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { queryWithStatementTimeout } from '../../shared/db/statement-timeout.js';
import { DatabaseUnavailableError } from '../../shared/errors.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { uid } from '../support/fixtures.js';

// DATABASE_QUERY_TIMEOUT_MS stops the statement on the server, not only the client's wait: a
// search that runs past it must not keep a backend busy after the caller got its 503, through
// PgBouncer in transaction mode (Neon's pooler) as directly.
let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(async () => {
  await testDb?.drop();
});

async function direct<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testDb.url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

/** Backends still running a statement whose text holds `marker`. */
const running = (marker: string) =>
  direct(async (client) => {
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()`,
      [marker],
    );
    return rows[0]!.n;
  });

const routes = [
  { name: 'pg, direct', driver: 'pg' as const, url: () => testDb.url },
  { name: 'Neon driver through PgBouncer (transaction mode)', driver: 'neon' as const, url: () => testDb.pgbouncerUrl },
];

describe.each(routes)('a statement past DATABASE_QUERY_TIMEOUT_MS, $name', ({ driver, url }) => {
  let database: Database;
  beforeAll(async () => {
    if (!url()) throw new Error('PgBouncer is required for this test');
    database = await openDatabase({ url: url()!, driver, neonWsProxy: inject('neonWsProxy'), queryTimeoutMillis: 400, maxConnections: 1 });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('is cancelled by the server: a 503 for the caller, and gone from pg_stat_activity', async () => {
    const marker = uid('slow');
    const outcome = await sql`SELECT pg_sleep(20), ${marker}::text AS marker`.execute(database.db).then(
      () => 'finished',
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(DatabaseUnavailableError);
    expect((outcome as DatabaseUnavailableError).reason).toBe('timeout');
    expect(await running(marker)).toBe(0);
    // The server answered the cancellation itself (57014), not the client's wait.
    expect(((outcome as DatabaseUnavailableError).cause as { code?: string }).code).toBe('57014');
  });

  it('leaves its connection usable, and the statements after it run under the same limit', async () => {
    // One connection: the one the cancelled statement ran on.
    await expect(sql`SELECT pg_sleep(5)`.execute(database.db)).rejects.toBeInstanceOf(DatabaseUnavailableError);
    const { rows } = await sql<{ limit: string; n: number }>`SELECT current_setting('statement_timeout') AS limit, ${7}::int AS n`.execute(database.db);
    expect(rows).toEqual([{ limit: '400ms', n: 7 }]);
  });

  it('answers statements that finish in time as before: rows, parameters, errors and writes', async () => {
    await sql`CREATE TABLE IF NOT EXISTS timed_${sql.raw(driver)} (v text)`.execute(database.db);
    const inserted = await sql`INSERT INTO ${sql.table(`timed_${driver}`)} (v) VALUES (${'a'}), (${'b'})`.execute(database.db);
    expect(inserted.numAffectedRows).toBe(2n);
    const { rows } = await sql<{ v: string }>`SELECT v FROM ${sql.table(`timed_${driver}`)} ORDER BY v`.execute(database.db);
    expect(rows).toEqual([{ v: 'a' }, { v: 'b' }]);
    await expect(sql`SELECT 1/0`.execute(database.db)).rejects.toMatchObject({ code: '22012' });
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
  });
  it('runs an explicit transaction (BEGIN … COMMIT) statement by statement under the limit, and rolls back a cancelled one', async () => {
    const table = sql.table(`timed_tx_${driver}`);
    await sql`CREATE TABLE IF NOT EXISTS ${table} (v text)`.execute(database.db);
    await database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO ${table} (v) VALUES (${'kept'})`.execute(trx);
      expect((await sql<{ limit: string }>`SELECT current_setting('statement_timeout') AS limit`.execute(trx)).rows).toEqual([{ limit: '400ms' }]);
    });
    const cancelled = database.db.transaction().execute(async (trx) => {
      await sql`INSERT INTO ${table} (v) VALUES (${'lost'})`.execute(trx);
      await sql`SELECT pg_sleep(5)`.execute(trx);
    });
    await expect(cancelled).rejects.toBeInstanceOf(DatabaseUnavailableError);
    expect((await sql<{ v: string }>`SELECT v FROM ${table}`.execute(database.db)).rows).toEqual([{ v: 'kept' }]);
  });
});

describe('queryWithStatementTimeout', () => {
  it("sets the limit for its own statement only: the session's setting is untouched after it", async () => {
    await direct(async (client) => {
      const result = (await queryWithStatementTimeout(client, `SELECT current_setting('statement_timeout') AS limit, $1::int AS n`, [1], 1234)) as pg.QueryResult;
      expect(result.rows).toEqual([{ limit: '1234ms', n: 1 }]);
      expect(result.command).toBe('SELECT');
      expect((await client.query('SHOW statement_timeout')).rows).toEqual([{ statement_timeout: '0' }]);
    });
  });

  it('refuses a limit that is not a positive whole number of milliseconds', async () => {
    await direct(async (client) => {
      for (const ms of [0, -1, 1.5, Number.NaN]) expect(() => queryWithStatementTimeout(client, 'SELECT 1', [], ms)).toThrow(/milliseconds/);
    });
  });
});
