import { Logger } from '@aws-lambda-powertools/logger';
import { createMiddleware } from 'hono/factory';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { DatabaseUnavailableError } from '../../shared/errors.js';
import type { Transport } from '../../shared/http/api.js';
import { chatkitApp } from '../../shared/http/chatkit-app.js';
import type { ApiEnv } from '../../shared/http/env.js';
import { listThreadsApp } from '../../shared/http/rest-apps.js';
import type { AssistantMessageItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import type { Responder, TurnInput } from '../../shared/responder/responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import type { RequestContext } from '../../shared/store/store.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { thread, uid, userMessage } from '../support/fixtures.js';
import { parseSse } from '../support/sse.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

// A dead or frozen database link, on both drivers, with a TCP proxy we control in the path:
// pg → proxy → PostgreSQL, and Neon's driver → WebSocket bridge → proxy → PgBouncer → PostgreSQL.

const unhandled: unknown[] = [];
const collect = (error: unknown) => void unhandled.push(error);
beforeAll(() => {
  process.on('uncaughtException', collect);
  process.on('unhandledRejection', collect);
});
afterAll(() => {
  process.off('uncaughtException', collect);
  process.off('unhandledRejection', collect);
});

const TIMEOUTS = { connectionTimeoutMillis: 1_000, queryTimeoutMillis: 500 };

const drivers = [
  { driver: 'pg' as const, target: () => Number(new URL(inject('postgresUrl')).port) },
  { driver: 'neon' as const, target: () => inject('pgbouncerPort') },
];

describe.each(drivers)('a dead or frozen database on $driver', ({ driver, target }) => {
  let testDb: TestDatabase;
  let proxy: TcpProxy;
  let admin: pg.Client; // on the `postgres` database: terminates backends
  let locker: pg.Client; // on the test database, direct: holds a lock that makes statements wait
  let lockerPid: number;
  let locked = false;
  const idleDrops: Error[] = []; // what the faults do to idle connections: expected, kept off the console
  const opened: Database[] = [];

  const open = async (options: { connectionTimeoutMillis?: number; queryTimeoutMillis?: number; maxConnections?: number } = {}) => {
    const database = await openDatabase({
      url: `postgres://postgres@127.0.0.1:${proxy.port}/${testDb.name}`,
      driver,
      neonWsProxy: inject('neonWsProxy'),
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 5_000,
      queryTimeoutMillis: options.queryTimeoutMillis ?? 5_000,
      maxConnections: options.maxConnections,
      onIdleError: (error) => void idleDrops.push(error),
    });
    opened.push(database);
    return { database, store: new PostgresStore(database.db) };
  };

  /** Backends of the test database (through PgBouncer: its server connections) that match `where`. */
  const backends = async (where: string) => {
    const { rows } = await admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> $2 AND backend_type = 'client backend' AND ${where}`,
      [testDb.name, lockerPid],
    );
    return rows.map((row) => row.pid);
  };
  const waitForBackends = async (where: string, count: number | (() => number) = 1) => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const pids = await backends(where);
      if (pids.length >= (typeof count === 'number' ? count : count())) return pids;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${count} backends with ${where}`);
  };
  const WAITING = `wait_event_type = 'Lock'`;
  const SLEEPING = `state = 'active' AND query LIKE '%pg_sleep%'`;
  const terminate = async (pids: number[]) => {
    await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid', [pids]);
  };
  const terminateAll = async () => terminate(await backends('true'));
  const lockThreads = async () => {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE chatkit_threads IN ACCESS EXCLUSIVE MODE');
    locked = true;
  };
  const unlock = async () => {
    if (locked) await locker.query('ROLLBACK');
    locked = false;
  };
  /** Settles at once into the error (null: success), so no rejection is left unhandled while a test waits. */
  const outcome = (promise: Promise<unknown>) => promise.then(() => null, (error: unknown) => error);
  const expectUnavailable = async (settled: Promise<unknown>, reason?: DatabaseUnavailableError['reason']) => {
    const error = await settled;
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    if (reason) expect((error as DatabaseUnavailableError).reason).toBe(reason);
    return error as DatabaseUnavailableError;
  };

  let database: Database;
  let store: PostgresStore;
  const ctx: RequestContext = { userId: uid('user') };
  const seeded = thread({ title: 'seeded' });

  beforeAll(async () => {
    const port = target();
    if (port === null) throw new Error('PgBouncer is required for the Neon driver');
    testDb = await createTestDatabase();
    const direct = await openDatabase({ url: testDb.url });
    await migrateToLatest(direct.db);
    await direct.close();
    proxy = await startTcpProxy({ host: '127.0.0.1', port });
    admin = new pg.Client({ connectionString: inject('postgresUrl') });
    locker = new pg.Client({ connectionString: testDb.url });
    await Promise.all([admin.connect(), locker.connect()]);
    lockerPid = (await locker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    ({ database, store } = await open());
    await store.createThread(seeded, userMessage(seeded.id, 'hello'), ctx);
  });

  afterEach(async () => {
    proxy.resume();
    await proxy.start();
    await unlock();
    expect(unhandled.splice(0)).toEqual([]);
    // Leaves no statement of one test running into the next.
    await terminate(await backends(SLEEPING));
  });

  afterAll(async () => {
    for (const db of opened) await db.close().catch(() => {});
    await Promise.all([admin?.end(), locker?.end()]);
    await proxy?.close();
    await testDb?.drop();
  });

  /** The process is alive, and the store works again right away. */
  const worksAgain = async (target = store) => {
    expect((await target.loadThread(seeded.id, ctx)).id).toBe(seeded.id);
    const item = userMessage(seeded.id, 'after the fault');
    await target.addThreadItem(seeded.id, item, ctx);
    expect(await target.loadItem(seeded.id, item.id, ctx)).toEqual(item);
  };

  describe('a backend terminated in flight (pg_terminate_backend)', () => {
    it('a slow statement rejects with DatabaseUnavailableError; the next call succeeds', async () => {
      const slow = outcome(sql`SELECT pg_sleep(30)`.execute(database.db));
      await terminate(await waitForBackends(SLEEPING));
      await expectUnavailable(slow, 'connection');
      await worksAgain();
    });

    it('a read is retried once on a new connection, and rejects with DatabaseUnavailableError when killed again', async () => {
      await lockThreads();
      const read = outcome(store.loadThreads({ limit: 5 }, ctx));
      const [first] = await waitForBackends(WAITING);
      await terminate([first!]);
      const retry = await waitForBackends(`${WAITING} AND pid <> ${first}`);
      await terminate(retry);
      await expectUnavailable(read, 'connection');

      const retried = outcome(store.loadThread(seeded.id, ctx));
      await terminate(await waitForBackends(WAITING));
      await waitForBackends(WAITING); // the retry, waiting on the lock again
      await unlock();
      expect(await retried).toBeNull();
      await worksAgain();
    });

    it('a write is not retried: it rejects with DatabaseUnavailableError', async () => {
      await lockThreads();
      const write = outcome(store.saveThread({ ...seeded, title: 'renamed' }, ctx));
      await terminate(await waitForBackends(WAITING));
      await expectUnavailable(write, 'connection');
      await unlock();
      await worksAgain();
    });
  });

  describe('the proxy drops every connection', () => {
    it('statements in flight reject with DatabaseUnavailableError; a read retries on a new connection', async () => {
      await lockThreads();
      const slow = outcome(sql`SELECT pg_sleep(30)`.execute(database.db));
      const write = outcome(store.addThreadItem(seeded.id, userMessage(seeded.id, 'lost'), ctx));
      await waitForBackends(SLEEPING);
      await waitForBackends(WAITING);
      proxy.killAll();
      await expectUnavailable(slow, 'connection');
      await expectUnavailable(write, 'connection');

      const read = outcome(store.loadThreadItems(seeded.id, { limit: 5 }, ctx));
      await waitForBackends(WAITING);
      proxy.killAll();
      await waitForBackends(WAITING); // the retry
      await unlock();
      expect(await read).toBeNull();
      await worksAgain();
    });

    it('while the proxy is down calls fail with DatabaseUnavailableError; after it is back they succeed', async () => {
      await proxy.stop();
      await expectUnavailable(outcome(store.loadThreads({ limit: 5 }, ctx)), 'connection');
      await expectUnavailable(outcome(store.saveThread(seeded, ctx)));
      await proxy.start();
      await worksAgain();
    });
  });

  describe('a frozen link', () => {
    it(`fails with DatabaseUnavailableError within the query timeout (${TIMEOUTS.queryTimeoutMillis} ms), then works after resume`, async () => {
      const { store: quick } = await open(TIMEOUTS);
      await quick.loadThreads({ limit: 1 }, ctx); // a pooled connection
      proxy.freeze();
      const started = performance.now();
      await expectUnavailable(outcome(quick.loadThread(seeded.id, ctx)), 'timeout');
      expect(performance.now() - started).toBeLessThan(5_000);
      // The timed-out connection is gone; a new one cannot be opened while the link is frozen.
      const connecting = performance.now();
      await expectUnavailable(outcome(quick.addThreadItem(seeded.id, userMessage(seeded.id, 'frozen'), ctx)), 'timeout');
      expect(performance.now() - connecting).toBeLessThan(5_000);
      proxy.resume();
      await worksAgain(quick);
    });

    it('a statement that timed out does not hold up the next one: its connection is not reused', async () => {
      const { database: single, store: quick } = await open({ ...TIMEOUTS, maxConnections: 1 });
      await expectUnavailable(outcome(sql`SELECT pg_sleep(3)`.execute(single.db)), 'timeout');
      await worksAgain(quick); // on the one connection it would be queued behind the sleep, and time out
    });
  });

  it('a storm: 40 steps of store calls with backends terminated and connections dropped at random', async () => {
    const random = mulberry32(driver === 'pg' ? 7 : 11);
    const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
    const reads = [
      () => store.loadThread(seeded.id, ctx),
      () => store.loadThreadWithItems(seeded.id, 5, ctx),
      () => store.loadThreads({ limit: 5 }, ctx),
      () => store.loadThreadItems(seeded.id, { limit: 5, order: 'desc' }, ctx),
    ];
    const writes = [
      () => store.addThreadItem(seeded.id, userMessage(seeded.id, 'storm'), ctx),
      () => store.saveThread({ ...seeded, title: `storm ${random()}` }, ctx),
      () => {
        const t = thread();
        return store.createThread(t, userMessage(t.id, 'storm'), ctx);
      },
    ];
    const outcomes = { ok: 0, unavailable: 0, faults: 0 };
    const settle = async (calls: Promise<unknown>[]) => {
      for (const error of await Promise.all(calls)) {
        if (error === null) outcomes.ok++;
        else if (error instanceof DatabaseUnavailableError) outcomes.unavailable++;
        else throw error;
      }
    };
    for (let step = 0; step < 40; step++) {
      const fault = pick(['none', 'between', 'in-flight', 'proxy', 'sleeping'] as const);
      let unsettled = 0;
      const calls = () =>
        [pick(writes), ...Array.from({ length: Math.floor(random() * 3) }, () => pick([...reads, ...writes]))].map((call) => {
          unsettled++;
          return outcome(call()).finally(() => unsettled--);
        });
      if (fault === 'none') {
        await settle(calls());
      } else if (fault === 'between') {
        await terminateAll();
        await settle(calls());
      } else if (fault === 'sleeping') {
        let sleeping = true; // until it fails on its own, on a connection an earlier step killed
        const slow = outcome(sql`SELECT pg_sleep(30)`.execute(database.db)).finally(() => (sleeping = false));
        const running = calls();
        await terminate(await waitForBackends(SLEEPING, () => (sleeping ? 1 : 0)));
        await settle([slow, ...running]);
      } else {
        await lockThreads();
        const running = calls();
        // Every call still running waits on the lock (one may already have failed on a dead connection).
        const pids = await waitForBackends(WAITING, () => unsettled);
        if (fault === 'proxy') proxy.killAll();
        else await terminate(pids.slice(0, 1 + Math.floor(random() * pids.length))); // none when all failed already
        await new Promise((r) => setTimeout(r, 20));
        await unlock();
        await settle(running);
      }
      if (fault !== 'none') outcomes.faults++;
    }
    expect(outcomes.faults).toBeGreaterThan(10);
    expect(outcomes.unavailable).toBeGreaterThan(0);
    expect(outcomes.ok).toBeGreaterThan(0);
    await worksAgain();
  });

  describe('over HTTP', () => {
    const pending: Promise<unknown>[] = [];
    const transport: Transport = {
      authenticate: createMiddleware<ApiEnv>(async (c, next) => {
        c.set('userId', ctx.userId);
        await next();
      }),
      connection: createMiddleware<ApiEnv>(async (c, next) => {
        c.set('abortSignal', c.req.raw.signal);
        c.set('waitUntil', (work) => void pending.push(work));
        await next();
      }),
    };
    const api = { transport, logger: new Logger({ logLevel: 'SILENT' }), corsOrigins: ['*'] };
    const get = (app: { request(path: string): Response | Promise<Response> }) => app.request('/threads?limit=5');

    it('answers 503 database_unavailable with Retry-After when the link is frozen or down, then 200', async () => {
      const { store: quick } = await open(TIMEOUTS);
      const threads = listThreadsApp({ store: quick, ...api });
      expect((await get(threads)).status).toBe(200);

      proxy.freeze();
      const frozen = await get(threads);
      expect(frozen.status).toBe(503);
      expect(Number(frozen.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await frozen.json()).toEqual({ error: { code: 'database_unavailable', message: expect.any(String) } });
      proxy.resume();
      expect((await get(threads)).status).toBe(200);

      const chat = chatkitApp({ chatkit: new ChatKitServer({ store: quick, responder: new FreezingResponder(() => {}) }), ...api });
      await proxy.stop();
      const refused = await chat.request('/chatkit', { method: 'POST', body: JSON.stringify({ type: 'threads.list', params: {} }) });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect(await refused.json()).toEqual({ error: { code: 'database_unavailable', message: expect.any(String) } });
      await proxy.start();
      expect((await get(threads)).status).toBe(200);
    });

    it('a stream whose database freezes mid-answer ends with an error event; the next request succeeds', async () => {
      const { store: quick } = await open(TIMEOUTS);
      const chat = chatkitApp({ chatkit: new ChatKitServer({ store: quick, responder: new FreezingResponder(() => proxy.freeze()) }), ...api });
      const input = { content: [{ type: 'input_text', text: 'hello' }], attachments: [], inference_options: {} };
      const response = await chat.request('/chatkit', { method: 'POST', body: JSON.stringify({ type: 'threads.create', params: { input } }) });
      expect(response.status).toBe(200);
      const events = parseSse(await response.text());
      expect(events[0]?.type).toBe('thread.created');
      expect(events.filter((e) => e.type === 'error').length).toBeGreaterThan(0);
      await Promise.all(pending.splice(0)); // the stream's work settled, without throwing
      proxy.resume();
      const threads = listThreadsApp({ store: quick, ...api });
      expect((await get(threads)).status).toBe(200);
    });
  });
});

/**
 * Answers with one message; between announcing it and finishing it, renames the thread and
 * calls `fault`, so both the item's insert and the thread's update meet the fault.
 */
class FreezingResponder implements Responder {
  constructor(private readonly fault: () => void) {}

  async *respond({ thread, ids }: TurnInput): AsyncIterable<ThreadStreamEvent> {
    const message: AssistantMessageItem = { id: ids('message'), thread_id: thread.id, created_at: new Date().toISOString(), type: 'assistant_message', content: [] };
    yield { type: 'thread.item.added', item: message };
    this.fault();
    thread.title = 'renamed mid-stream';
    yield { type: 'thread.item.done', item: { ...message, content: [{ type: 'output_text', text: 'hi', annotations: [] }] } };
  }

  async title(): Promise<string> {
    return 'title';
  }
}

/** A small seeded generator: the same storm on every run. */
function mulberry32(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
