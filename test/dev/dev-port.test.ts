import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

// `npm run dev` started while its port is taken (another dev server, usually).
let taken: Server;
let port: number;
let dataDir: string;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
  dataDir = mkdtempSync(join(tmpdir(), 'dev-port-'));
});
afterAll(() => {
  taken?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function runDevServer(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'dev/server.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', JWT_SECRET: 'dev-port-test-secret-of-32-bytes-or-more', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  return new Promise<typeof out & { code: number | null }>((resolve) => child.once('exit', (code) => resolve({ ...out, code })));
}

it('says in one line which port is taken and how to pick another, before touching the database', async () => {
  const result = await runDevServer({ PORT: String(port) });
  expect(result.code).toBe(1);
  expect(result.stderr.trim().split('\n')).toEqual([
    `npm run dev: port ${port} on 127.0.0.1 is already in use (another npm run dev?): stop that process, or pick another port, e.g. PORT=${port + 1} npm run dev`,
  ]);
  expect(result.stdout).toBe('');
  expect(readdirSync(dataDir)).toEqual([]); // the embedded database was never opened
});

it('says so in one line when PORT is not a port', async () => {
  const result = await runDevServer({ PORT: 'eighty' });
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe('npm run dev: PORT=eighty is not a port number: use one from 1024 to 65535, e.g. PORT=8788 npm run dev');
});
