import type { Metafile } from 'esbuild';
import { basename } from 'node:path';

export interface Chunk {
  /** The file's name in the asset: `index.mjs` or `chunks/<name>-<hash>.mjs`. */
  file: string;
  bytes: number;
  /** Imported, directly or not, by index.mjs's static imports: read and compiled at init. */
  atInit: boolean;
  /**
   * Otherwise, the chunk that a dynamic import in the init code loads, and this one with it (the
   * agent's, the tracer's); undefined when only a deeper dynamic import would load it.
   */
  loadedBy: string | undefined;
  /** The packages (or our own top folders) it holds, biggest first, with their bytes. */
  contents: Array<[source: string, bytes: number]>;
}

/** The JavaScript files of a built function (maps left out), the entry first, and what each holds. */
export function chunksOf(metafile: Metafile): Chunk[] {
  const atInit = new Set(loadedWith(metafile, 'index.mjs'));
  const later = javascript(metafile)
    .filter(([path]) => atInit.has(fileName(path)))
    .flatMap(([, output]) => output.imports)
    .filter((imported) => imported.kind === 'dynamic-import' && metafile.outputs[imported.path])
    .map((imported) => fileName(imported.path));
  const groups = [...new Set(later)].map((file) => [file, new Set(loadedWith(metafile, file))] as const);
  return javascript(metafile)
    .map(([path, output]) => {
      const file = fileName(path);
      const group = atInit.has(file) ? undefined : groups.find(([, files]) => files.has(file))?.[0];
      return { file, bytes: output.bytes, atInit: atInit.has(file), loadedBy: group, contents: contents(output.inputs) };
    })
    .sort((a, b) => Number(b.file === 'index.mjs') - Number(a.file === 'index.mjs') || Number(b.atInit) - Number(a.atInit) || b.bytes - a.bytes);
}

/** `file` and every chunk its static imports load with it, directly or not (asset file names). */
export function loadedWith(metafile: Metafile, file: string): string[] {
  const paths = new Map(javascript(metafile).map(([path]) => [fileName(path), path]));
  const seen = new Set<string>();
  const visit = (path: string) => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const imported of metafile.outputs[path]!.imports) if (imported.kind === 'import-statement' && metafile.outputs[imported.path]) visit(imported.path);
  };
  const start = paths.get(file);
  if (!start) throw new Error(`no ${file} in this build`);
  visit(start);
  return [...seen].map(fileName);
}

/** What a cold start reads and compiles: the bytes of the chunks loaded at init. */
export const initBytes = (chunks: Chunk[]) => chunks.filter((c) => c.atInit).reduce((sum, c) => sum + c.bytes, 0);

const javascript = (metafile: Metafile) => Object.entries(metafile.outputs).filter(([path]) => path.endsWith('.mjs'));
const fileName = (path: string) => (basename(path) === 'index.mjs' ? 'index.mjs' : `chunks/${basename(path)}`);

function contents(inputs: Metafile['outputs'][string]['inputs']): Array<[string, number]> {
  const by = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(inputs)) {
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
    const source = pkg ?? input.replace(/^(\.\.\/)+/, '').split('/').slice(0, 2).join('/');
    by.set(source, (by.get(source) ?? 0) + bytesInOutput);
  }
  return [...by].filter(([, bytes]) => bytes > 0).sort((a, b) => b[1] - a[1]);
}
