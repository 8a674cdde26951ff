import { DatabaseUnavailableError } from '../errors.js';

// What `pg` and Neon's driver (its bundled copy of `pg`) report when the connection is lost or
// refused: SQLSTATE classes 08 and 57P0x from the server or a pooler (PgBouncer reports most of
// its own failures as 08P01), socket error codes, and the drivers' own messages.
const CONNECTION_CODES = new Set([
  '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08004', '08006', '08P01',
  'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
]);
const CONNECTION_MESSAGES =
  /connection terminated|terminating connection|connection ended|socket hang up|client has encountered a connection error|websocket|server conn crashed|server closed the connection/i;
// 57014: the server cancelled the statement (statement_timeout set on the role or database).
const TIMEOUT_CODES = new Set(['57014']);
const TIMEOUT_MESSAGES = /query read timeout|timeout exceeded when trying to connect|connection timeout|timeout expired/i;

/** Why the database failed a statement, when it is the link rather than the statement: or null. */
export function databaseFault(error: unknown): DatabaseUnavailableError['reason'] | null {
  if (error instanceof DatabaseUnavailableError) return error.reason;
  if (typeof error !== 'object' || error === null) return null;
  // Neon's driver over a WHATWG WebSocket (Node's own, as on Lambda) rejects with the socket's
  // `error` event, not an Error, when the connection drops.
  if (typeof Event !== 'undefined' && error instanceof Event) return 'connection';
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if ((typeof code === 'string' && TIMEOUT_CODES.has(code)) || TIMEOUT_MESSAGES.test(text)) return 'timeout';
  if ((typeof code === 'string' && CONNECTION_CODES.has(code)) || CONNECTION_MESSAGES.test(text)) return 'connection';
  return null;
}

/** The one translation of a driver's connection or timeout error into what callers see; other errors unchanged. */
export function toDatabaseUnavailable(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError) return error;
  const reason = databaseFault(error);
  return reason ? new DatabaseUnavailableError(reason, { cause: error }) : error;
}

/** Whether an error means the connection died under the query, so the query never ran to completion. */
export function isConnectionTerminated(error: unknown): boolean {
  return databaseFault(error) === 'connection';
}

/**
 * Runs an idempotent read, once more if the connection was terminated under it. A timeout is not
 * retried: a second wait would take the request past API Gateway's 29 s.
 */
export async function retryIfTerminated<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    if (!isConnectionTerminated(error)) throw error;
    return read();
  }
}
