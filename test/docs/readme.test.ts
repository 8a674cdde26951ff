import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../support/browser.js';

// The README's examples cannot rot: its curl block runs against `npm run dev`, and its Connect
// ChatKit examples type-check against the published ChatKit types.
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The code blocks that follow a `<!-- … test/docs/readme.test.ts -->` marker, with their language. */
function markedBlocks(): Array<{ marker: string; lang: string; code: string }> {
  const pattern = /<!-- ([^>]*test\/docs\/readme\.test\.ts) -->\n```(\w+)\n([\s\S]*?)\n```/g;
  return [...README.matchAll(pattern)].map(([, marker, lang, code]) => ({ marker: marker!, lang: lang!, code: code! }));
}

describe('the README', () => {
  it('has the curl block and both ChatKit examples marked for this test', () => {
    expect(markedBlocks().map((b) => b.lang)).toEqual(['sh', 'tsx', 'ts']);
  });

  it('type-checks the Connect ChatKit examples against @openai/chatkit and @openai/chatkit-react', async () => {
    // Under node_modules, so that the examples resolve the packages as an app would.
    const dir = join(ROOT, 'node_modules', '.cache', 'readme-examples');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const examples = markedBlocks().filter((b) => b.lang !== 'sh');
    examples.forEach((b, i) => writeFileSync(join(dir, `example-${i}.${b.lang}`), b.code));
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.browser.json', include: ['*.ts', '*.tsx'] }));
    const checked = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: ROOT }).then(
      () => 'ok',
      (error: { stdout: string }) => error.stdout,
    );
    expect(checked).toBe('ok');
    // The check is real: a wrong option is an error.
    writeFileSync(join(dir, 'example-0.tsx'), examples[0]!.code.replace("type: 'two_phase'", "type: 'three_phase'"));
    const refused = await run(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir], { cwd: ROOT }).then(
      () => '',
      (error: { stdout: string }) => error.stdout,
    );
    expect(refused).toContain('three_phase');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  describe('curl block, against npm run dev', () => {
    let dev: DevServer;
    let work: string;
    beforeAll(async () => {
      dev = await startDevServer({ JWT_SECRET: '' });
      work = mkdtempSync(join(tmpdir(), 'readme-curl-'));
    }, 90_000);
    afterAll(async () => {
      await dev?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('runs every request as written, in a fresh directory', async () => {
      const block = markedBlocks().find((b) => b.lang === 'sh')!.code;
      expect(block).toContain('API=http://127.0.0.1:8787\n');
      // `npm run` as the reader runs it, in the project, whatever directory the shell is in.
      const bin = join(work, 'bin');
      mkdirSync(bin);
      const npm = (await run('bash', ['-c', 'command -v npm'])).stdout.trim();
      writeFileSync(join(bin, 'npm'), `#!/bin/sh\nexec "${npm}" --prefix "${ROOT}" "$@"\n`);
      chmodSync(join(bin, 'npm'), 0o755);
      const script = `set -euo pipefail\n${block.replace('API=http://127.0.0.1:8787', `API=${dev.url}`)}\n`;
      const { stdout } = await run('bash', ['-c', script], {
        cwd: work,
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, DATA_DIR: dev.dataDir },
        maxBuffer: 16 * 1024 * 1024,
      });
      for (const expected of [
        '(offline echo) Hello!',
        '(offline echo) What time is it?',
        'get_time returned {\\"now\\":',
        'search_conversations returned',
        '"title":"Greetings"',
        '"snippet":',
        'upload: 200\n',
        '(offline echo) Summarize this [with 1 attachment]',
        'New title: Lisbon trip', // the card
        'rename_conversation returned', // once approved
        '{"threads":[],"has_more":false,"next_cursor":null}',
        '"code":"not_found"',
        ' 404\n',
        '{"status":"deleted"}',
        '{"status":"ok"}',
      ]) {
        expect(stdout).toContain(expected);
      }
      expect(stdout.match(/"error"/g)?.length).toBe(1); // the second user's 404, and nothing else
      expect(stdout.trimEnd()).toMatch(/The caller's threads[^\n]*$/); // the OpenAPI summary, last
    }, 60_000);
  });
});
