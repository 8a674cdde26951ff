/**
 * One process's memory with the database open: run by pglite-memory.ts as its own process
 * (`--expose-gc`), given a probe as JSON in argv. Opens the database, migrates it, runs the store
 * check (unless `check: false`), then reports the resident set (after GC) and its peak; then
 * restarts the database and checks that the data is still there. Prints one line of JSON.
 */
import type { PGliteOptions } from '@electric-sql/pglite';
import { readFileSync } from 'node:fs';
import { openDatabase, type Database } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { openPgliteWith } from './pglite-variant.js';
import { persisted, storeCheck } from './store-check.js';

export type Probe = (
  | { kind: 'pg'; url: string }
  | { kind: 'pglite'; dataDir: string }
  | { kind: 'pglite-options'; dataDir: string; options: PGliteOptions }
) & { check?: boolean };

export interface ProbeResult {
  openMs: number;
  workMs: number;
  rssMiB: number;
  peakMiB: number;
  /** Null when there was no store check to find again. */
  persisted: boolean | null;
}

const probe = JSON.parse(process.argv[2]!) as Probe;
const open = (): Promise<Database> => {
  if (probe.kind === 'pg') return openDatabase({ url: probe.url });
  if (probe.kind === 'pglite') return openDatabase({ driver: 'pglite', dataDir: probe.dataDir });
  return openPgliteWith(probe.dataDir, probe.options);
};
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

const fail = (error: unknown) => {
  console.log(JSON.stringify({ error: error instanceof Error ? error.message.split('\n')[0] : String(error) }));
  process.exit(0);
};
// PGlite rejects some options from a promise nobody awaits.
process.on('unhandledRejection', fail);
try {
  let started = performance.now();
  let database = await open();
  await migrateToLatest(database.db);
  const openMs = performance.now() - started;
  started = performance.now();
  if (probe.check !== false) await storeCheck(database.db);
  const workMs = performance.now() - started;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc?.();
  const peakKiB = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]);
  const result: ProbeResult = { openMs, workMs, rssMiB: mib(process.memoryUsage().rss), peakMiB: mib(peakKiB * 1024), persisted: null };
  await database.close();
  if (probe.check !== false) {
    database = await open();
    result.persisted = await persisted(database.db);
    await database.close();
  }
  console.log(JSON.stringify(result));
  process.exit(0);
} catch (error) {
  fail(error);
}
