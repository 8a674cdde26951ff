import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (apt-get install chromium); never a browser downloaded by a test tool. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Whether the browser tests run: Chromium installed, or CI (where a missing Chromium is a failure, not a skip). */
export function browserTestsRun(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === 'true') return true; // launchChromium then fails, naming the install
  console.warn(`\n*** ${CHROMIUM} is not installed: the browser tests are SKIPPED (apt-get install chromium) ***\n`);
  return false;
}

/** Headless Chromium kept on this machine: every name but the loopback ones resolves to nothing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (apt-get install chromium): under CI the browser tests must run`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', // root, as on CI
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
}

/** A page's origin of its own: an HTTP server on another port that serves `html` at `/`. */
export async function serveOrigin(html: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    if (request.url !== '/') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface DevServer {
  /** Where the API listens (http://127.0.0.1:port). */
  url: string;
  /** The chat page's origin (http://localhost:port). */
  page: string;
  /** Its DATA_DIR (the generated secrets are there). */
  dataDir: string;
  output: () => string;
  stop(): Promise<void>;
}

/** `npm run dev` as a child process on a fresh PGlite in a temporary DATA_DIR. */
export async function startDevServer(env: Record<string, string>): Promise<DevServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chatkit-browser-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '', NODE_ENV: 'development', LOG_LEVEL: 'ERROR', ...env };
  for (const name of ['OPENAI_API_KEY', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL']) if (!(name in env)) delete childEnv[name];
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'dev/server.ts'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dev server did not start:\n${output}`)), 60_000);
    child.stdout!.on('data', () => {
      if (!output.includes('Chat page')) return;
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => reject(new Error(`dev server exited (${code}):\n${output}`)));
  });
  return {
    url: /listening on (http:\/\/\S+)/.exec(output)![1]!,
    page: /Chat page \(dev only\): (http:\/\/\S+?)\/ /.exec(output)![1]!,
    dataDir,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
