import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { esbuildOptions } from '../../infra/esbuild-options.js';
import { FUNCTIONS, type FunctionName } from '../../infra/functions.js';

const run = promisify(execFile);
const outDir = mkdtempSync(join(tmpdir(), 'bundles-'));
// The Lambda Node.js runtime provides the AWS SDK v3 and nothing else: `pg` and `ws`, left out of
// the bundles, are not there either.
mkdirSync(join(outDir, 'node_modules'));
symlinkSync(join(process.cwd(), 'node_modules', '@aws-sdk'), join(outDir, 'node_modules', '@aws-sdk'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

// Each function bundled as the stack bundles it, then loaded by a fresh Node process as Lambda
// loads it: ESM/require breakage shows here, not after a deploy.
describe('Lambda bundles', () => {
  it.each(Object.keys(FUNCTIONS) as FunctionName[])('%s bundles and loads in a fresh Node process', async (name) => {
    const outfile = join(outDir, name, 'index.mjs');
    await build(esbuildOptions(name, outfile));
    expect(statSync(outfile).size).toBeGreaterThan(1000);
    const { stdout } = await run(
      process.execPath,
      [
        // Lambda's Node 22 has a global WebSocket (the Neon driver's transport); Node 20 has it behind a flag.
        ...(Number(process.versions.node.split('.')[0]) < 22 ? ['--experimental-websocket'] : []),
        '--input-type=module',
        '-e',
        // The runtime's awslambda global, as far as loading a streaming handler needs it.
        `globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
         const m = await import(${JSON.stringify(`file://${outfile}`)}); console.log(typeof m.handler); process.exit(0);`,
      ],
      {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'production',
          // As deployed: Neon's pooled endpoint (the pool connects on first use, not at load).
          DATABASE_URL: 'postgres://app@ep-bundle-test-pooler.us-east-2.aws.neon.tech/neondb',
          OPENAI_API_KEY: 'sk-bundle-test',
          JWT_SECRET: 'bundle-test-secret-of-at-least-32-bytes',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
        },
        cwd: outDir,
      },
    );
    expect(stdout.trim()).toBe('function');
  });
});
