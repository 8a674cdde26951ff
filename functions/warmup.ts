import { sql } from 'kysely';
import { openDatabase, type Database } from '../shared/db/connect.js';
import { createLogger } from '../shared/log.js';
import { lambdaDatabaseOptions } from './runtime/lambda-database.js';
import { databaseObservers } from './runtime/database-metrics.js';
import { instrumented } from './runtime/invocation.js';
import { loadSecretsIntoEnv } from './runtime/secrets.js';

const logger = createLogger('chatkit-warmup');
const TIMEOUT_MS = 5_000;
let database: Promise<Database> | undefined;

/**
 * Scheduled ping of Neon's pooled endpoint, so a suspended compute wakes before a user waits on
 * it. It warms the database only, not the other functions. It reports rather than throws: a
 * failed ping is a metric (the log), not a reason to retry the schedule and wake the compute again.
 */
export const handler = instrumented(async (): Promise<{ ok: boolean; ms: number }> => {
  const started = performance.now();
  try {
    database ??= loadSecretsIntoEnv().then(() =>
      openDatabase({ ...lambdaDatabaseOptions('app'), ...databaseObservers(logger), maxConnections: 1, connectionTimeoutMillis: TIMEOUT_MS }),
    );
    const { db } = await database;
    await Promise.race([
      sql`SELECT 1`.execute(db),
      new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer in ${TIMEOUT_MS} ms`)), TIMEOUT_MS).unref()),
    ]);
    const ms = Math.round(performance.now() - started);
    logger.info('neon warm-up', { ok: true, ms });
    return { ok: true, ms };
  } catch (error) {
    const ms = Math.round(performance.now() - started);
    logger.warn('neon warm-up failed', { ok: false, ms, error: (error as Error).message });
    // Nothing failed is kept (secrets, a connection stuck on an unanswered ping): the next ping starts afresh.
    const stale = database;
    database = undefined;
    void stale?.then((d) => d.close(), () => {});
    return { ok: false, ms };
  }
});
