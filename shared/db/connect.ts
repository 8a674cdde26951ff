import { Pool as NeonPool, neonConfig } from '@neondatabase/serverless';
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import { mkdirSync } from 'node:fs';
import type { Schema } from '../store/schema.js';
import { freePort } from './free-port.js';
import { guardedPool, type DriverPool } from './guarded-pool.js';

export { isConnectionTerminated, retryIfTerminated, toDatabaseUnavailable } from './faults.js';

export type DriverName = 'neon' | 'pg' | 'pglite';

/** Both well under API Gateway's 29 s, so a dead or frozen database is a 503, not a gateway timeout. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;
/**
 * How much longer than the server's own limit the client waits for an answer before it drops
 * the connection: the server's cancellation arrives first unless the link itself is dead.
 */
export const CLIENT_TIMEOUT_MARGIN_MS = 1_000;

export interface DatabaseOptions {
  /** A postgres:// URL; none means the embedded PGlite. */
  url?: string | undefined;
  /** Overrides the choice made from the URL. */
  driver?: DriverName | undefined;
  /** Where PGlite keeps its files (default `.data`). */
  dataDir?: string | undefined;
  /** Sized for Lambda, which serves one request at a time per instance. */
  maxConnections?: number | undefined;
  idleTimeoutMillis?: number | undefined;
  /** How long to wait for a connection, new or pooled (default 5 s; 0: no limit). */
  connectionTimeoutMillis?: number | undefined;
  /**
   * How long a statement may run (default: no limit). The server cancels it then (a per-statement
   * `statement_timeout`, which works through transaction poolers); the client drops the
   * connection if no answer came `CLIENT_TIMEOUT_MARGIN_MS` later. PGlite has neither.
   */
  queryTimeoutMillis?: number | undefined;
  /** Local testing only: `host:port` of a WebSocket-to-TCP bridge standing in for Neon's proxy. */
  neonWsProxy?: string | undefined;
  /** Called once per round trip to the server (BEGIN and COMMIT included). */
  onQuery?: ((sql: string) => void) | undefined;
  /** Where to report a connection that dropped while idle. */
  onIdleError?: ((error: Error) => void) | undefined;
}

export interface Database {
  db: Kysely<Schema>;
  driver: DriverName;
  close(): Promise<void>;
}

/**
 * The one way the product connects to PostgreSQL. Every driver goes through Kysely's
 * PostgresDialect: Neon's serverless driver (WebSocket) for Neon hosts, `pg` for any other
 * server, and PGlite served in-process over the wire protocol when there is no URL.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const driver = options.driver ?? driverFor(options.url);
  const pool = driver === 'pglite' ? await openPglite(options) : await openPool(driver, options);
  // PGlite runs no timers (a statement_timeout never fires there) and keeps a LOCAL setting past its transaction.
  const guarded = guardedPool(pool.pool, { statementTimeoutMs: driver === 'pglite' ? undefined : options.queryTimeoutMillis || undefined });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: options.onQuery ? counting(guarded, options.onQuery) : guarded }) });
  return {
    db,
    driver,
    close: async () => {
      await db.destroy();
      await pool.stop();
    },
  };
}

export function driverFor(url: string | undefined): DriverName {
  if (!url) return 'pglite';
  const host = new URL(url).hostname;
  return host.endsWith('.neon.tech') || host.endsWith('.neon.build') ? 'neon' : 'pg';
}

export function databaseOptionsFromEnv(env: NodeJS.ProcessEnv, purpose: 'app' | 'migrate'): DatabaseOptions {
  const url = (purpose === 'migrate' ? env.DATABASE_URL_UNPOOLED || env.DATABASE_URL : env.DATABASE_URL) || undefined;
  const driver = env.DATABASE_DRIVER as DriverName | undefined;
  if (driver && !['neon', 'pg', 'pglite'].includes(driver)) {
    throw new Error(`DATABASE_DRIVER must be neon, pg or pglite, not "${driver}"`);
  }
  return {
    url,
    driver,
    dataDir: env.DATA_DIR,
    neonWsProxy: env.NEON_WS_PROXY,
    connectionTimeoutMillis: milliseconds(env, 'DATABASE_CONNECT_TIMEOUT_MS') ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Migrations run DDL and wait on each other's lock: no query timeout for them.
    queryTimeoutMillis: purpose === 'app' ? (milliseconds(env, 'DATABASE_QUERY_TIMEOUT_MS') ?? DEFAULT_QUERY_TIMEOUT_MS) : undefined,
  };
}

function milliseconds(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a whole number of milliseconds (0: no limit), not "${value}"`);
  return Number(value);
}

interface OpenPool {
  pool: DriverPool;
  /** Whatever else to stop after Kysely has ended the pool. */
  stop(): Promise<void>;
}

async function openPool(driver: 'neon' | 'pg', options: DatabaseOptions): Promise<OpenPool> {
  if (!options.url) throw new Error(`the ${driver} driver needs a DATABASE_URL`);
  const config = {
    connectionString: options.url,
    max: options.maxConnections ?? 3,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 10_000,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? DEFAULT_CONNECT_TIMEOUT_MS,
    // Client-side (both drivers support it), so it also bounds a link that stopped answering;
    // the guarded pool then drops the connection, which is still busy with the abandoned query.
    // The server's own statement_timeout (guarded-pool.ts) normally answers first.
    query_timeout: options.queryTimeoutMillis ? options.queryTimeoutMillis + CLIENT_TIMEOUT_MARGIN_MS : undefined,
  };
  const pool = driver === 'neon' ? new NeonPool(await neonSettings(config, options.neonWsProxy)) : new (await loadPg()).Pool(config);
  // A connection dropped while idle (Neon suspends computes; poolers restart) must not crash
  // the process: the pool discards it and the next query opens a new one.
  pool.on('error', (error: Error) => (options.onIdleError ?? warnIdleError)(error));
  return { pool: pool as unknown as DriverPool, stop: async () => {} };
}

async function neonSettings<T extends object>(config: T, wsProxy: string | undefined): Promise<T> {
  // Node 22 (Lambda) has a WebSocket of its own; Node 20 (dev, tests) takes the `ws` package.
  neonConfig.webSocketConstructor = globalThis.WebSocket ?? (await import('ws')).default;
  // coalesceWrites stays on (the default): turned off, a statement's protocol messages leave as
  // separate small writes, and through TCP hops (the bench's PgBouncer path) each turn waited on
  // delayed ACKs, 3.8 ms → 44 ms at RTT 0 (npm run bench, 2026-11-25).
  if (wsProxy) {
    // Local testing only (a plain-WebSocket bridge, no TLS). The driver reads these globally.
    neonConfig.wsProxy = (host, port) => `${wsProxy}/v1?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  return config;
}

async function openPglite(options: DatabaseOptions): Promise<OpenPool> {
  const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-socket'),
  ]);
  const dataDir = options.dataDir ?? '.data';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  // PGlite's default 128 MB of shared buffers is sized for a server; a laptop's dev database is
  // fine with 16 MB, and the dev server holds 100-150 MiB less (npm run bench, PGlite memory).
  const pglite = await PGlite.create(dataDir, { startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'] });
  // Served over the wire protocol so that PGlite takes the same query path as production.
  const port = await freePort();
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections: 16 });
  await server.start();
  const pool = new (await loadPg()).Pool({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database: 'postgres',
    max: options.maxConnections ?? 4,
    idleTimeoutMillis: options.idleTimeoutMillis ?? 10_000,
  });
  pool.on('error', (error: Error) => (options.onIdleError ?? warnIdleError)(error));
  return {
    pool: pool as unknown as DriverPool,
    stop: async () => {
      await server.stop();
      await pglite.close();
    },
  };
}

/** Reports every query a pooled client sends: what a round trip is. */
function counting(pool: PostgresPool, onQuery: (sql: string) => void): PostgresPool {
  const wrapped = new WeakMap<PostgresPoolClient, PostgresPoolClient>();
  return {
    connect: async () => {
      const client = await pool.connect();
      let counted = wrapped.get(client);
      if (!counted) {
        counted = {
          query: ((sql: string, parameters: readonly unknown[]) => {
            onQuery(typeof sql === 'string' ? sql : 'cursor');
            return client.query(sql, parameters);
          }) as PostgresPoolClient['query'],
          release: (destroy) => client.release(destroy),
        };
        wrapped.set(client, counted);
      }
      return counted;
    },
    end: () => pool.end(),
    options: pool.options,
  };
}

/**
 * `pg`, loaded only where it is used: local servers, PGlite and tests. The Lambda functions talk
 * to Neon through its own driver and ship without it.
 */
async function loadPg(): Promise<typeof import('pg').default> {
  try {
    return (await import('pg')).default;
  } catch (error) {
    throw new Error('The pg driver is not in this bundle: on Lambda use a Neon URL (DATABASE_URL on *.neon.tech) or DATABASE_DRIVER=neon', { cause: error });
  }
}

function warnIdleError(error: Error) {
  // Over Node's own WebSocket (Neon) the "error" is the socket's error event, with no message.
  const reason = error.message || (error as { type?: string }).type || 'unknown';
  console.warn(`database: an idle connection was dropped (${reason}); the next query reconnects`);
}
