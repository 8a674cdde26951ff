import type { BuildOptions } from 'esbuild';
import { join } from 'node:path';
import { BUNDLING, FUNCTIONS, ROOT, type FunctionName } from './functions.js';

/**
 * The esbuild options NodejsFunction derives from BUNDLING, for building a function outside CDK
 * (the bundle test, the benchmarks) exactly as a deploy does.
 */
export function esbuildOptions(name: FunctionName, outfile: string): BuildOptions {
  const extraExternals = Object.keys(BUNDLING.esbuildArgs ?? {})
    .filter((flag) => flag.startsWith('--external:'))
    .map((flag) => flag.slice('--external:'.length));
  return {
    entryPoints: [join(ROOT, FUNCTIONS[name].entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: BUNDLING.target,
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    mainFields: BUNDLING.mainFields,
    external: [...(BUNDLING.externalModules ?? []), ...extraExternals],
    banner: { js: BUNDLING.banner ?? '' },
    metafile: true,
    logLevel: 'silent',
  };
}
