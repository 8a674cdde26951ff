import type { PGliteOptions } from '@electric-sql/pglite';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Probe, ProbeResult } from './memory-probe.js';
import { withSettings } from './pglite-variant.js';
import type { Report } from './report.js';
import { median, ms } from './stats.js';
import { scratchDatabase } from './scratch-database.js';

export interface PgliteMemoryOptions {
  /** A PostgreSQL server for the `pg` baseline (a scratch database is created and dropped there). */
  serverUrl: string;
  runs: number;
  /** The shared_buffers sizes to try. */
  sharedBuffers: string[];
  report: Report;
}

interface Variant {
  label: string;
  probe: (dir: string) => Probe;
}

const shipped = '`openDatabase({ driver: "pglite", dataDir })`';
const sharedBuffers = (size: string): Variant => ({
  label: `${shipped} with \`startParams: [...PGlite.defaultStartParams, '-c', 'shared_buffers=${size}']\``,
  probe: (dataDir) => ({ kind: 'pglite-options', dataDir, options: { startParams: withSettings({ shared_buffers: size }) } }),
});
const withOptions = (label: string, options: PGliteOptions): Variant => ({
  label: `${shipped} with \`${label}\``,
  probe: (dataDir) => ({ kind: 'pglite-options', dataDir, options }),
});

/** Restarts on an existing data dir (what `npm run dev` does after its first start), as shipped and with options. */
const variants = (sizes: string[]): Variant[] => [
  { label: 'PGlite with its defaults (shared_buffers=128MB): the baseline', probe: (dataDir) => ({ kind: 'pglite-options', dataDir, options: {} }) },
  { label: `${shipped}, as shipped (shared_buffers=16MB, shared/db/connect.ts)`, probe: (dataDir) => ({ kind: 'pglite', dataDir }) },
  withOptions('relaxedDurability: true', { relaxedDurability: true }),
  ...sizes.map(sharedBuffers),
  withOptions('initialMemory: 64 MiB', { initialMemory: 64 * 2 ** 20 }),
];

const run = promisify(execFile);

/** Runs one probe in a process of its own (memory-probe.ts). */
async function probe(p: Probe): Promise<ProbeResult | { error: string }> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/memory-probe.ts', JSON.stringify(p)], { maxBuffer: 2 ** 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/**
 * Dev on PGlite: the resident memory of a process that opens the database, migrates it and runs
 * the store check, against the same process on `pg` to a local server, and PGlite options that
 * might cut it — each measured, with the store check and a restart to prove the data is kept.
 */
export async function benchPgliteMemory({ serverUrl, runs, sharedBuffers: sizes, report }: PgliteMemoryOptions) {
  const root = mkdtempSync(join(tmpdir(), 'bench-pglite-'));
  const scratch = await scratchDatabase(serverUrl, 'chatkit_bench_memory');
  const rows: Array<{ label: string; result: ProbeResult | { error: string } }> = [];
  const measure = async (label: string, next: (i: number) => Promise<Probe>) => {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await probe(await next(i)));
    const ok = results.filter((r): r is ProbeResult => !('error' in r));
    const result: ProbeResult | { error: string } = ok.length
      ? { openMs: median(ok.map((r) => r.openMs)), workMs: median(ok.map((r) => r.workMs)), rssMiB: median(ok.map((r) => r.rssMiB)), peakMiB: median(ok.map((r) => r.peakMiB)), persisted: ok.some((r) => r.persisted === false) ? false : ok[0]!.persisted }
      : results[0]!;
    rows.push({ label, result });
  };
  try {
    await measure('`pg` to the local server (baseline)', async () => {
      await scratch.reset();
      return { kind: 'pg', url: scratch.url };
    });
    await scratch.drop();
    const template = join(root, 'template');
    await measure(`${shipped}, first start (initdb + migrations; no store check)`, async (i) => ({ kind: 'pglite', dataDir: `${template}${i ? `-${i}` : ''}`, check: false }));
    for (const [v, variant] of variants(sizes).entries()) {
      await measure(variant.label, async (i) => {
        const dataDir = join(root, `v${v}-${i}`);
        cpSync(template, dataDir, { recursive: true });
        return variant.probe(dataDir);
      });
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  report.say(`## Dev on PGlite: resident memory of a process with the database open, migrated, after the store check${runs > 1 ? ` (median of ${runs})` : ''}`);
  report.table(
    ['database in the process', 'RSS after GC, MiB', 'peak RSS, MiB', 'open + migrate, ms', 'store check, ms', 'store check and data after restart'],
    rows.map(({ label, result }) =>
      'error' in result
        ? [label, '–', '–', '–', '–', `fails: ${result.error}`]
        : [label, result.rssMiB.toFixed(0), result.peakMiB.toFixed(0), ms(result.openMs), result.persisted === null ? '–' : ms(result.workMs), result.persisted === null ? '–' : result.persisted ? 'ok' : 'DATA LOST'],
    ),
  );
  return rows;
}
