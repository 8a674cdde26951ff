import { build, type BuildOptions, type Metafile } from 'esbuild';
import { join } from 'node:path';
import { FUNCTIONS, ROOT, type FunctionName } from './functions.js';
import { sideEffectFree } from './side-effect-free.js';
import { zodEnglishOnly } from './zod-english-only.js';

/** The handler of every built function: `index.mjs`, export `handler`. */
export const HANDLER = 'index.handler';

export interface BuiltFunction {
  /** The directory the stack deploys (Code.fromAsset): index.mjs, its chunks, their maps. */
  dir: string;
  metafile: Metafile;
}

/**
 * How every function is built: ESM for Node 24, minified, code-split so that what a dynamic
 * `import()` loads (the agent with the Agents and openai SDKs, the X-Ray tracer) stays in chunks of
 * its own, neither read nor compiled at init (a single-file bundle inlines `import()`, and V8 then
 * compiles it all at init); source maps without the sources (stack traces are the same, the maps a
 * third of the size); zod in English only; the MCP client only if the agent uses it. The AWS SDK v3
 * is the runtime's (the S3 SDK is imported on the first attachment).
 */
export function buildOptions(name: FunctionName, outdir: string): BuildOptions {
  return {
    entryPoints: { index: join(ROOT, FUNCTIONS[name].entry) },
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    mainFields: ['module', 'main'],
    // What connect.ts imports lazily and Lambda never loads: PGlite (the dev database) and `pg`
    // (local servers; Lambda talks to Neon through its own driver).
    external: ['@aws-sdk/*', '@electric-sql/pglite', '@electric-sql/pglite-socket', 'pg'],
    // Packages that call `require` (the X-Ray SDK, debug) need a real one in an ES module.
    banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
    plugins: [zodEnglishOnly, sideEffectFree([{ importPath: /\/mcp-server\/node\.mjs$/, inPackage: '@openai/agents-core' }])],
    metafile: true,
    logLevel: 'silent',
  };
}

/** Builds one function into `outdir`, which then holds exactly what Lambda runs. */
export async function buildFunction(name: FunctionName, outdir: string): Promise<BuiltFunction> {
  const result = await build(buildOptions(name, outdir));
  return { dir: outdir, metafile: result.metafile! };
}

/** Every function, each into `<root>/<name>`. */
export async function buildFunctions(root: string): Promise<Record<FunctionName, BuiltFunction>> {
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const built = await Promise.all(names.map((name) => buildFunction(name, join(root, name))));
  return Object.fromEntries(names.map((name, i) => [name, built[i]!])) as Record<FunctionName, BuiltFunction>;
}
