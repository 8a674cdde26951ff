import { pathToFileURL } from 'node:url';

/** The bench's output: markdown lines, printed as they come and kept for results/latest.md. */
export interface Report {
  lines: string[];
  say(line?: string): void;
  table(head: string[], rows: Array<Array<string | number>>): void;
}

export function createReport(): Report {
  const lines: string[] = [];
  const say = (line = '') => {
    lines.push(line);
    console.log(line);
  };
  return {
    lines,
    say,
    table(head, rows) {
      say(`| ${head.join(' | ')} |`);
      say(`|${head.map(() => '---').join('|')}|`);
      for (const row of rows) say(`| ${row.join(' | ')} |`);
      say();
    },
  };
}

/**
 * Runs one section by itself when its file is the script (`tsx bench/<section>.ts`), on
 * DATABASE_URL (default: the local server) at BENCH_SCALE, as `npm run bench` runs it.
 */
export async function runAlone<T>(moduleUrl: string, section: (options: { serverUrl: string; scale: 'quick' | 'full'; report: Report }) => Promise<T>) {
  if (moduleUrl !== pathToFileURL(process.argv[1] ?? '').href) return;
  const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const results = await section({ serverUrl, scale: process.env.BENCH_SCALE === 'full' ? 'full' : 'quick', report: createReport() });
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
