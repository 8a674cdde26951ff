import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';

// `npm run migrate` as a newcomer runs it.
let testDb: TestDatabase;
let dataDir: string;
beforeAll(async () => {
  testDb = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'migrate-script-'));
});
afterAll(async () => {
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function migrate(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('DATABASE_')));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/migrate.ts'], { env: { ...clean, DATA_DIR: dataDir, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  return new Promise<typeof out & { code: number | null }>((resolve) => child.once('exit', (code) => resolve({ ...out, code })));
}

describe('npm run migrate', () => {
  it('without DATABASE_URL refuses, instead of silently migrating the embedded dev database', async () => {
    const result = await migrate({});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^npm run migrate: neither DATABASE_URL_UNPOOLED nor DATABASE_URL is set, so there is nothing to migrate\./);
    expect(result.stderr).toContain('DATABASE_DRIVER=pglite npm run migrate');
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('names the database it migrates, without the password', async () => {
    const url = new URL(testDb.url);
    url.password = 'hunter2'; // trust auth: never asked for
    const first = await migrate({ DATABASE_URL: `${url.toString()}?application_name=migrate-test` });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe(`migrating postgres://postgres@127.0.0.1:5432/${testDb.name} (pg driver)`);
    expect(first.stdout).toContain('applied: 0001_initial');
    expect(first.stdout).not.toContain('hunter2');
    const again = await migrate({ DATABASE_URL_UNPOOLED: testDb.url, DATABASE_URL: 'postgres://unused@127.0.0.1:1/none' });
    expect(again.stdout).toContain(`migrating postgres://postgres@127.0.0.1:5432/${testDb.name}`);
    expect(again.stdout).toContain('nothing to apply: the schema is up to date');
  });
});
