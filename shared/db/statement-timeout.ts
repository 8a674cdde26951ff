// A statement that the server itself stops when it runs past its time.
//
// The drivers' own `query_timeout` only stops waiting: the server runs the statement on, and
// through a pooler (PgBouncer, Neon's `-pooler`) the abandoned backend keeps its CPU and locks
// until it finishes. `statement_timeout` makes the server cancel it, but a session-level
// `SET` does not survive transaction pooling (the next statement may run on another server
// connection, and the setting leaks to other clients), and `BEGIN; SET LOCAL …; …; COMMIT`
// costs three more round trips. So each statement is sent in one pipeline with its setting:
//
//   Parse/Bind/Execute  SELECT set_config('statement_timeout', '<ms>', true)
//   Parse/Bind/Describe/Execute  <the statement>
//   Sync
//
// Both run in the one implicit transaction that lasts until Sync, so the setting is local to it
// (gone at Sync, never seen by another client of the pooler), a pooler keeps both on one server
// connection, and the server arms the timer when the statement's own Parse arrives. Still one
// round trip. The server answers a statement it stopped with 57014, a DatabaseUnavailableError.
//
// This is done with the driver's own Query class (`pg`, and the copy of it inside Neon's
// driver): the setting's messages go first, and its row and command-complete are not the
// statement's result.

/** What `pg`'s Connection (and Neon's copy) offers a query to write protocol messages. */
interface ProtocolConnection {
  stream: { cork?: () => void; uncork?: () => void };
  parse(message: { text: string; name: string; types: unknown[] }): void;
  bind(message: { portal: string; statement: string; values: unknown[] }): void;
  execute(message: { portal: string; rows: number }): void;
}

interface DriverQuery {
  callback?: ((error: Error | null, result?: unknown) => void) | undefined;
  submit(connection: ProtocolConnection): Error | null;
  requiresPreparation(): boolean;
  handleDataRow(message: unknown): void;
  handleCommandComplete(message: unknown, connection: ProtocolConnection): void;
}

type DriverQueryClass = new (text: string, values: unknown[]) => DriverQuery;

/** A pooled client of either driver: its class carries the driver's Query class, as `pg.Client.Query` does. */
export interface TimedClient {
  query(query: unknown, parameters?: unknown): unknown;
}

const timedClasses = new WeakMap<DriverQueryClass, new (text: string, values: unknown[], ms: number) => DriverQuery>();

function timedQueryClass(Query: DriverQueryClass) {
  let Timed = timedClasses.get(Query);
  if (!Timed) {
    Timed = class extends Query {
      #settingPending = true;
      readonly #setting: string;

      constructor(text: string, values: unknown[], ms: number) {
        super(text, values);
        this.#setting = `SELECT set_config('statement_timeout', '${ms}', true)`;
      }

      // Always the extended protocol: a simple Query message would end the pipeline's transaction.
      override requiresPreparation() {
        return true;
      }

      override submit(connection: ProtocolConnection) {
        connection.stream.cork?.();
        try {
          connection.parse({ text: this.#setting, name: '', types: [] });
          connection.bind({ portal: '', statement: '', values: [] });
          connection.execute({ portal: '', rows: 0 });
          return super.submit(connection);
        } finally {
          connection.stream.uncork?.();
        }
      }

      override handleDataRow(message: unknown) {
        if (!this.#settingPending) super.handleDataRow(message);
      }

      override handleCommandComplete(message: unknown, connection: ProtocolConnection) {
        if (this.#settingPending) this.#settingPending = false;
        else super.handleCommandComplete(message, connection);
      }
    };
    timedClasses.set(Query, Timed);
  }
  return Timed;
}

/**
 * Transaction control is sent as it is: it takes no time, and in a transaction a failed statement
 * has aborted, anything but ROLLBACK (the setting too) would fail and leave it open.
 */
const TRANSACTION_CONTROL = /^\s*(begin|start|commit|end|rollback|abort|savepoint|release)\b/i;

/**
 * Runs one statement (`$n` parameters, as Kysely sends them) that the server cancels after `ms`
 * milliseconds. Resolves with the driver's result, as `client.query(sql, parameters)` would.
 */
export function queryWithStatementTimeout(client: TimedClient, sql: string, parameters: readonly unknown[], ms: number): Promise<unknown> {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`a statement timeout is a positive whole number of milliseconds, not ${ms}`);
  if (TRANSACTION_CONTROL.test(sql)) return client.query(sql, parameters) as Promise<unknown>;
  const Query = (client.constructor as { Query?: DriverQueryClass }).Query;
  if (typeof Query !== 'function') throw new Error('this database driver has no Query class to extend');
  const Timed = timedQueryClass(Query);
  return new Promise((resolve, reject) => {
    const query = new Timed(sql, [...parameters], ms);
    query.callback = (error, result) => (error ? reject(error) : resolve(result));
    client.query(query);
  });
}
