import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { toDatabaseUnavailable } from './faults.js';
import { queryWithStatementTimeout } from './statement-timeout.js';

/** What `pg.Pool` and Neon's Pool (a copy of `pg-pool`) share that this module relies on. */
export interface DriverPool {
  connect(): Promise<DriverClient>;
  end(): Promise<void>;
  on(event: 'connect', listener: (client: DriverClient) => void): unknown;
  /** The pool's settings, which Kysely reads (e.g. to open a control connection). */
  options: object;
}

interface DriverClient {
  query(...args: unknown[]): unknown;
  /** `pg-pool` destroys the client when given an error (or `true`) instead of keeping it. */
  release(destroy?: Error | boolean): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * A pool whose dead connections can neither crash the process nor be handed out again, and
 * whose connection and timeout errors reach callers as DatabaseUnavailableError.
 *
 * Why: a backend terminated under a query first answers the query with an error (57P01) and
 * only then closes the socket. Kysely releases the client on that error as if it were healthy,
 * `pg-pool` keeps it, and the next checkout (the read retry, or any waiting request) takes the
 * same client; `pg-pool` removes its 'error' listener from a checked-out client and Kysely adds
 * none, so when the socket closes the client emits 'error' with no listener: an uncaught
 * exception that ends the process. The same holds when the socket dies mid-query for any reason,
 * and a query that timed out (`query_timeout`) leaves its client busy with the abandoned query.
 * A statement the server cancelled itself (57014, `statementTimeoutMs`) leaves a healthy
 * connection, which is kept.
 */
export function guardedPool(pool: DriverPool, { statementTimeoutMs }: { statementTimeoutMs?: number | undefined } = {}): PostgresPool {
  const dead = new WeakMap<DriverClient, Error>();
  const wrapped = new WeakMap<DriverClient, PostgresPoolClient>();
  pool.on('connect', (client) => {
    // For the client's whole life, checked out or not (`pg-pool` handles idle ones itself).
    client.on('error', (error) => {
      if (!dead.has(client)) dead.set(client, error);
    });
  });
  const guard = (client: DriverClient): PostgresPoolClient => ({
    query: ((sql: unknown, parameters: unknown) => {
      if (typeof sql !== 'string') return client.query(sql); // a cursor: Kysely streams, untouched
      const sent = statementTimeoutMs
        ? queryWithStatementTimeout(client, sql, parameters as unknown[], statementTimeoutMs)
        : (client.query(sql, parameters) as Promise<unknown>);
      return sent.catch((error: unknown) => {
        const translated = toDatabaseUnavailable(error);
        if (translated !== error && !cancelledByServer(error) && !dead.has(client)) dead.set(client, error as Error);
        throw translated;
      });
    }) as PostgresPoolClient['query'],
    release: (destroy?: boolean) => client.release(dead.get(client) ?? destroy),
  });
  return {
    connect: async () => {
      let client: DriverClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toDatabaseUnavailable(error);
      }
      // Kysely keys its connection objects by client: one wrapper per client, for its whole life.
      let guarded = wrapped.get(client);
      if (!guarded) wrapped.set(client, (guarded = guard(client)));
      return guarded;
    },
    end: () => pool.end(),
    options: pool.options,
  };
}

/** The server stopped the statement (statement_timeout) and said so: the connection is fine. */
function cancelledByServer(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '57014';
}
