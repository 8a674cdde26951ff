import type { BuiltFunction } from '../infra/function-build.js';
import { chunksOf, initBytes } from '../infra/chunks.js';
import type { FunctionName } from '../infra/functions.js';
import type { Report } from './report.js';

const kib = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10 * 1024 ? 1 : 0)}`;

/** Every function's chunks: bytes, loaded at init or later, and the biggest of what each holds. */
export function chunkTable(report: Report, built: Record<FunctionName, BuiltFunction>): Record<string, unknown> {
  const rows: Array<Array<string>> = [];
  const results: Record<string, unknown> = {};
  for (const [name, { metafile }] of Object.entries(built)) {
    const chunks = chunksOf(metafile);
    results[name] = { initBytes: initBytes(chunks), chunks: chunks.map(({ file, bytes, atInit }) => ({ file, bytes, atInit })) };
    for (const chunk of chunks) {
      const loaded = chunk.atInit ? 'init' : chunk.loadedBy === chunk.file ? 'its own import()' : chunk.loadedBy ? `with ${chunk.loadedBy}` : 'only if used';
      rows.push([name, chunk.file, kib(chunk.bytes), loaded, chunk.contents.slice(0, 4).map(([source, bytes]) => `${source} ${kib(bytes)}`).join(', ')]);
    }
  }
  report.say('### Our bundles, chunk by chunk (KiB): loaded at init, by an `import()` of index.mjs when first needed (the agent with the first turn, the tracer after the first answer), or only if a deeper one runs');
  report.table(['function', 'chunk', 'KiB', 'loaded', 'biggest contents, KiB'], rows);
  return results;
}

