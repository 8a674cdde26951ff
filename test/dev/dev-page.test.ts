import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSse } from '../support/sse.js';

// `npm run dev` exactly as a newcomer starts it: through npm, no OPENAI_API_KEY, no JWT settings
// (a generated secret), the browser app on another origin allowed by CORS_ORIGINS.
const APP_ORIGIN = 'http://app.test:5173';
let dataDir: string;
let npm: ChildProcess;
let output = '';
let api: string;
let page: string;
let token: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chatkit-dev-page-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '', CORS_ORIGINS: APP_ORIGIN, NODE_ENV: 'development', LOG_LEVEL: 'ERROR' };
  for (const name of ['OPENAI_API_KEY', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_JWKS_URL']) delete env[name];
  npm = spawn('npm', ['run', 'dev'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  npm.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm run dev did not start:\n${output}`)), 60_000);
    npm.stdout!.on('data', () => {
      if (!/export TOKEN=\S+/.test(output)) return;
      clearTimeout(timer);
      resolve();
    });
    npm.once('exit', (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`)));
  });
  api = /listening on (http:\/\/\S+)/.exec(output)![1]!;
  page = /Chat page \(dev only\): (http:\/\/\S+?)\/ /.exec(output)![1]!;
  token = /export TOKEN=(\S+)/.exec(output)![1]!;
}, 90_000);
afterAll(async () => {
  if (npm && npm.exitCode === null && npm.signalCode === null) {
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    npm.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
const chatkit = (body: unknown, t = token) => fetch(`${api}/chatkit`, { method: 'POST', headers: { ...bearer(t), 'content-type': 'application/json' }, body: JSON.stringify(body) });
const input = (text: string, toolChoice?: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: toolChoice ? { tool_choice: { id: toolChoice } } : {} });

describe('npm run dev without a key or JWT settings', () => {
  it('prints the chat page (on localhost, the same port) and says the offline model answers', () => {
    expect(page).toBe(api.replace('127.0.0.1', 'localhost'));
    expect(output).toContain('No OPENAI_API_KEY: the assistant runs on an offline model');
  });

  it('serves the chat page: ChatKit from its CDN, this server as a custom backend, two-phase uploads, the agent’s tools', async () => {
    const response = await fetch(`${page}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    const config = JSON.parse(/<script type="application\/json" id="chat-config">(.*?)<\/script>/s.exec(html)![1]!);
    expect(config).toEqual({
      apiUrl: '/chatkit',
      tokenUrl: '/dev/token',
      user: 'dev-user',
      domainKey: 'domain_pk_localhost_dev',
      scriptUrl: 'https://cdn.platform.openai.com/deployments/chatkit/chatkit.js',
      tools: ['search_conversations', 'get_time', 'rename_conversation'],
      attachments: { maxBytes: 20 * 1024 * 1024 },
    });
    expect(html).toContain('<script type="module" src="/dev/chat.js"></script>');
    const script = await (await fetch(`${page}/dev/chat.js`)).text();
    expect(script).toContain("type: \"two_phase\"");
    expect(script).toContain('history: { enabled: true');
    expect(script).toContain('document.createElement("openai-chatkit")');
    expect(script).not.toContain('import type');
    expect((await fetch(`${page}/?user=bob`)).status).toBe(200);
    expect((await fetch(`${page}/?user=${encodeURIComponent('../etc')}`)).status).toBe(400);
  });

  it('hands the page a token for this machine only, and to no other origin', async () => {
    const minted = await fetch(`${page}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json', origin: APP_ORIGIN }, body: JSON.stringify({ user: 'carol' }) });
    expect(minted.status).toBe(200);
    expect(minted.headers.get('access-control-allow-origin')).toBeNull();
    const { token: carol, user } = (await minted.json()) as { token: string; user: string };
    expect(user).toBe('carol');
    expect((await fetch(`${api}/threads`, { headers: bearer(carol) })).status).toBe(200);
    // A page on another site whose name resolves to 127.0.0.1 (DNS rebinding) asks with its own Host.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const sent = request(`${api}/dev/token`, { method: 'POST', headers: { host: 'evil.example:80' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body }));
      });
      sent.on('error', reject);
      sent.end();
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body).error.code).toBe('forbidden');
  });

  it('runs the agent offline: /get_time {} calls the tool, shows its task, answers with its output', async () => {
    const response = await chatkit({ type: 'threads.create', params: { input: input('/get_time {}') } });
    expect(response.status).toBe(200);
    const events = parseSse(await response.text()) as Array<{ type: string; item?: { type: string; workflow?: unknown; content?: Array<{ text: string }> } }>;
    const workflow = events.find((e) => e.type === 'thread.item.added' && e.item?.type === 'workflow')!.item!;
    expect(workflow.workflow).toMatchObject({ tasks: [{ title: 'Get time', status_indicator: 'loading' }] });
    const answer = events.filter((e) => e.type === 'thread.item.done' && e.item?.type === 'assistant_message').at(-1)!.item!;
    expect(answer.content![0]!.text).toMatch(/^get_time returned \{"now":"\d{4}-\d\d-\d\dT/);

    const echoed = parseSse(await (await chatkit({ type: 'threads.create', params: { input: input('just text') } })).text());
    expect(JSON.stringify(echoed)).toContain('(offline echo) just text');
    const picked = await chatkit({ type: 'threads.create', params: { input: input('anything', 'get_time') } });
    expect(await picked.text()).toContain('get_time returned');
  });

  it('answers CORS for the allowed origin on every route a browser calls: preflights, uploads, previews, errors, unknown routes', async () => {
    const preflight = (path: string, method: string, origin = APP_ORIGIN, headers = 'content-type') =>
      fetch(`${api}${path}`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });
    const allowed = (response: Response) => response.headers.get('access-control-allow-origin');

    const created = (await (await chatkit({ type: 'attachments.create', params: { name: 'a.txt', size: 5, mime_type: 'text/plain' } })).json()) as { upload_descriptor: { url: string; headers: Record<string, string> } };
    const upload = new URL(created.upload_descriptor.url);
    expect(created.upload_descriptor.headers).toEqual({ 'content-type': 'text/plain' });
    const uploadPreflight = await preflight(upload.pathname, 'PUT');
    expect(uploadPreflight.status).toBe(204);
    expect(allowed(uploadPreflight)).toBe(APP_ORIGIN);
    expect(uploadPreflight.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(uploadPreflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('content-type');
    expect(allowed(await preflight(upload.pathname, 'PUT', 'http://other.test'))).toBeNull();

    const put = (url: string, body: string) => fetch(url, { method: 'PUT', headers: { origin: APP_ORIGIN, 'content-type': 'text/plain' }, body });
    const wrongSize = await put(created.upload_descriptor.url, 'too long');
    expect([wrongSize.status, allowed(wrongSize)]).toEqual([413, APP_ORIGIN]);
    const forged = await put(created.upload_descriptor.url.replace(/.$/, (c: string) => (c === 'A' ? 'B' : 'A')), 'hello');
    expect([forged.status, allowed(forged)]).toEqual([403, APP_ORIGIN]);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const done = await put(created.upload_descriptor.url, 'hello');
    expect([done.status, allowed(done)]).toEqual([200, APP_ORIGIN]);

    const apiPreflight = await preflight('/chatkit', 'POST', APP_ORIGIN, 'authorization,content-type');
    expect([apiPreflight.status, allowed(apiPreflight)]).toEqual([204, APP_ORIGIN]);
    const unauthorized = await fetch(`${api}/chatkit`, { method: 'POST', headers: { origin: APP_ORIGIN } });
    expect([unauthorized.status, allowed(unauthorized)]).toEqual([401, APP_ORIGIN]);
    expect(unauthorized.headers.get('access-control-expose-headers')).toContain('Retry-After');
    for (const path of ['/health', '/openapi.json', '/nowhere']) {
      const response = await fetch(`${api}${path}`, { headers: { origin: APP_ORIGIN } });
      expect(allowed(response), path).toBe(APP_ORIGIN);
    }
    expect(allowed(await preflight('/nowhere', 'GET'))).toBe(APP_ORIGIN);
  });

  it('signs a second user’s token with npm run token, who sees none of the first user’s threads', async () => {
    const { thread } = parseSse(await (await chatkit({ type: 'threads.create', params: { input: input('mine') } })).text())[0] as unknown as { thread: { id: string } };
    const result = spawnSync('npm', ['run', '-s', 'token', '--', '--user', 'bob'], { env: { ...process.env, DATA_DIR: dataDir, JWT_SECRET: '' }, encoding: 'utf8' });
    expect(result.status).toBe(0);
    const bob = result.stdout.trim();
    expect(bob).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(JSON.parse(Buffer.from(bob.split('.')[1]!, 'base64url').toString()).sub).toBe('bob');
    expect(await (await fetch(`${api}/threads`, { headers: bearer(bob) })).json()).toEqual({ threads: [], has_more: false, next_cursor: null });
    expect((await fetch(`${api}/threads/${thread.id}/messages`, { headers: bearer(bob) })).status).toBe(404);

    const refused = spawnSync('npm', ['run', '-s', 'token', '--', '--user', 'no spaces'], { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is not a dev user id');
  });

  it('stops, freeing its port, when the npm process is killed', async () => {
    const exited = new Promise((resolve) => npm.once('exit', resolve));
    npm.kill('SIGTERM');
    await exited;
    let free = false;
    for (let attempt = 0; attempt < 50 && !free; attempt++) {
      free = await fetch(`${api}/health`).then(
        () => false,
        () => true,
      );
      if (!free) await new Promise((r) => setTimeout(r, 100));
    }
    expect(free).toBe(true);
  });
});
