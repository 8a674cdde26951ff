import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { pgBouncerInstalled, startPgBouncer } from './pgbouncer.js';
import { startWsBridge } from './ws-bridge.js';

export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres' };

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    pgbouncerPort: number | null;
    neonWsProxy: string;
  }
}

/** Once per run: check PostgreSQL, start PgBouncer (transaction mode) and the WebSocket bridge. */
export default async function setup(project: TestProject) {
  const postgresUrl = `postgres://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/postgres`;
  const client = new pg.Client({ connectionString: postgresUrl });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${postgresUrl} (${(error as Error).message}). Start it, or run .ci/run.`);
  } finally {
    await client.end().catch(() => {});
  }

  let pgbouncer: Awaited<ReturnType<typeof startPgBouncer>> | undefined;
  if (pgBouncerInstalled()) {
    pgbouncer = await startPgBouncer(POSTGRES);
  } else if (process.env.CI === 'true') {
    throw new Error('PgBouncer is not installed (apt-get install pgbouncer): under CI every backend must run');
  } else {
    console.warn('\n*** PgBouncer is not installed: the Neon-driver backend is SKIPPED (apt-get install pgbouncer) ***\n');
  }
  const bridge = await startWsBridge();

  project.provide('postgresUrl', postgresUrl);
  project.provide('pgbouncerPort', pgbouncer?.port ?? null);
  project.provide('neonWsProxy', bridge.proxy);

  return async () => {
    await bridge.stop();
    await pgbouncer?.stop();
  };
}
