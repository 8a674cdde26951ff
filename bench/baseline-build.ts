import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FUNCTIONS, ROOT, type FunctionName } from '../infra/functions.js';

/**
 * The build before issue 18, kept as the cold-start baseline: main at this commit (its tracer at
 * init, the openai SDK at init), bundled as its NodejsFunction did — one file per function, ESM,
 * minified, source maps with the sources in them.
 */
export const BASELINE_COMMIT = 'ea260ac307ea9ecd65a678f341127c3616554692';

/**
 * Builds every function of the baseline commit into `<root>/<name>/index.mjs`, from its sources
 * taken out of git (the project's node_modules serve both builds). Undefined, with the reason,
 * when git does not have the commit (a shallow clone, an exported tree).
 */
export async function buildBaseline(root: string): Promise<{ dirs: Record<FunctionName, string> } | { unavailable: string }> {
  const source = join(root, 'source');
  mkdirSync(source, { recursive: true });
  try {
    const archive = execFileSync('git', ['-C', ROOT, 'archive', BASELINE_COMMIT, 'functions', 'shared', 'migrations'], { maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
    execFileSync('tar', ['-x', '-C', source], { input: archive });
  } catch (error) {
    return { unavailable: `git has no commit ${BASELINE_COMMIT.slice(0, 7)} here (${String((error as Error).message).split('\n')[0]})` };
  }
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
  const names = Object.keys(FUNCTIONS) as FunctionName[];
  const dirs = {} as Record<FunctionName, string>;
  await Promise.all(
    names.map(async (name) => {
      dirs[name] = join(root, name);
      await build({
        entryPoints: [join(source, FUNCTIONS[name].entry)],
        outfile: join(dirs[name], 'index.mjs'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        minify: true,
        sourcemap: true,
        mainFields: ['module', 'main'],
        external: ['@aws-sdk/*', '@electric-sql/pglite', '@electric-sql/pglite-socket', 'pg', 'ws'],
        banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
        logLevel: 'silent',
      });
    }),
  );
  return { dirs };
}
