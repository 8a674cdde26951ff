import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunksOf, loadedWith, type Chunk } from '../../infra/chunks.js';
import { buildFunctions, type BuiltFunction } from '../../infra/function-build.js';
import { FUNCTIONS, type FunctionName } from '../../infra/functions.js';

// Each function built as the stack builds it (infra/function-build.ts), then loaded by a fresh Node
// process as Lambda loads it: ESM/require breakage shows here, not after a deploy. What loads at
// init is what a cold start pays for; what a dynamic import loads comes later, when first needed.

const run = promisify(execFile);
const NAMES = Object.keys(FUNCTIONS) as FunctionName[];
const outDir = mkdtempSync(join(tmpdir(), 'bundles-'));
let built: Record<FunctionName, BuiltFunction>;
const chunks = (name: FunctionName) => chunksOf(built[name].metafile);
const holds = (chunk: Chunk, source: string) => chunk.contents.some(([s]) => s === source);

beforeAll(async () => {
  built = await buildFunctions(outDir);
  // The Lambda Node.js runtime provides the AWS SDK v3 and nothing else: `pg`, left out of the
  // bundles, is not there either.
  mkdirSync(join(outDir, 'node_modules'));
  symlinkSync(join(process.cwd(), 'node_modules', '@aws-sdk'), join(outDir, 'node_modules', '@aws-sdk'));
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** Imports a function's index.mjs in a fresh process; the handler's type and every file it loaded. */
async function load(name: FunctionName): Promise<{ handler: string; loaded: string[] }> {
  const index = join(built[name].dir, 'index.mjs');
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = [];
    registerHooks({ load(url, context, next) { if (url.startsWith('file:')) loaded.push(url); return next(url, context); } });
    // The runtime's awslambda global, as far as loading a streaming handler needs it.
    globalThis.awslambda = { streamifyResponse: (h) => h, HttpResponseStream: { from: (s) => s } };
    const m = await import(${JSON.stringify(`file://${index}`)});
    console.log(JSON.stringify({ handler: typeof m.handler, loaded }));
    process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', script], {
    cwd: built[name].dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      // As deployed: in Lambda (tracing on), Neon's pooled endpoint (the pool connects on first use, not at load).
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_LAMBDA_FUNCTION_NAME: `chatkit-${name}`,
      AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
      DATABASE_URL: 'postgres://app@ep-bundle-test-pooler.us-east-2.aws.neon.tech/neondb',
      OPENAI_API_KEY: 'sk-bundle-test',
      JWT_SECRET: 'bundle-test-secret-of-at-least-32-bytes',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  const result = JSON.parse(stdout) as { handler: string; loaded: string[] };
  const prefix = `file://${built[name].dir}/`;
  return { handler: result.handler, loaded: result.loaded.filter((url) => url.startsWith(prefix)).map((url) => url.slice(prefix.length)) };
}

describe('Lambda bundles', () => {
  it.each(NAMES)('%s loads in a fresh Node process, reading exactly the chunks its build marks as loaded at init', async (name) => {
    const { handler, loaded } = await load(name);
    expect(handler).toBe('function');
    expect(loaded.sort()).toEqual(chunks(name).filter((c) => c.atInit).map((c) => c.file).sort());
  });

  it('keeps the Agents SDK, the openai SDK and what only they use out of the chat function’s init, in chunks of their own', () => {
    const chat = chunks('chat');
    // (The agent's model settings are dependency-free and read at start: shared/agent may be at init, its SDKs not.)
    for (const source of ['@openai/agents-core', '@openai/agents-openai', 'openai']) {
      expect(chat.filter((c) => holds(c, source)).length, source).toBeGreaterThan(0);
      for (const chunk of chat.filter((c) => holds(c, source))) expect(chunk.atInit, `${source} in ${chunk.file}`).toBe(false);
    }
  });

  it('loads the MCP client only if the agent uses an MCP server: the first turn does not compile it', () => {
    const chat = chunks('chat');
    const agent = chat.find((c) => !c.atInit && holds(c, 'shared/agent') && holds(c, '@openai/agents-openai'))!;
    const withAgent = loadedWith(built.chat.metafile, agent.file).map((file) => chat.find((c) => c.file === file)!);
    expect(withAgent.some((c) => holds(c, '@openai/agents-core'))).toBe(true);
    expect(withAgent.filter((c) => holds(c, '@modelcontextprotocol/client')).map((c) => c.file)).toEqual([]);
  });

  it.each(NAMES)('%s: the X-Ray tracer is not loaded at init', (name) => {
    const tracer = chunks(name).filter((c) => holds(c, 'aws-xray-sdk-core'));
    expect(tracer.length).toBe(1);
    expect(tracer[0]!.atInit).toBe(false);
  });

  it('the authorizer loads neither the database driver, the query builder nor zod at init', () => {
    const atInit = chunks('authorizer').filter((c) => c.atInit);
    for (const source of ['@neondatabase/serverless', 'kysely', 'zod']) expect(atInit.filter((c) => holds(c, source)).map((c) => c.file), source).toEqual([]);
  });

  it('keeps zod in English only: no other locale in any function', () => {
    for (const name of NAMES) {
      const locales = Object.keys(built[name].metafile.inputs).filter((input) => /node_modules\/zod\/.*\/locales\/(?!en\.js|index\.js)[^/]+\.js$/.test(input));
      expect(locales, name).toEqual([]);
    }
  });

  it('writes source maps without the sources (stack traces still name the original files and lines)', () => {
    for (const name of NAMES) {
      const dir = built[name].dir;
      const maps = [...readdirSync(dir), ...readdirSync(join(dir, 'chunks'), { withFileTypes: true }).filter((e) => e.isFile()).map((e) => `chunks/${e.name}`)].filter((f) => f.endsWith('.map'));
      expect(maps.length).toBeGreaterThan(0);
      for (const map of maps) {
        const parsed = JSON.parse(readFileSync(join(dir, map), 'utf8')) as { sources: string[]; sourcesContent?: unknown };
        expect(parsed.sourcesContent, map).toBeUndefined();
        if (map === 'index.mjs.map') expect(parsed.sources.some((source) => source.endsWith(`/${FUNCTIONS[name].entry}`)), name).toBe(true);
      }
    }
  });
});
