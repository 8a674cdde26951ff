import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../shared/db/connect.js';
import { freePort } from '../shared/db/free-port.js';
import type { Schema } from '../shared/store/schema.js';

/**
 * openDatabase's PGlite path (shared/db/connect.ts: PGlite served over the wire protocol to a
 * `pg` pool under Kysely) with PGlite options, which openDatabase does not take: what an option
 * would change there, measured before it is applied.
 */
export async function openPgliteWith(dataDir: string, options: PGliteOptions): Promise<Database> {
  const pglite = await PGlite.create(dataDir, options);
  const port = await freePort();
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port, maxConnections: 16 });
  await server.start();
  const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres', max: 4 });
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    driver: 'pglite',
    close: async () => {
      await db.destroy();
      await server.stop();
      await pglite.close();
    },
  };
}

/** PGlite's own start parameters plus `-c name=value` settings (startParams replaces the defaults). */
export function withSettings(settings: Record<string, string>): string[] {
  return [...PGlite.defaultStartParams, ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
}
