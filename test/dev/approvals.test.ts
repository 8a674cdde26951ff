import jwt from 'jsonwebtoken';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { approvalScenarios, type Answer, type ApprovalDeployment } from '../support/approval-scenarios.js';
import { startDevProcess, type DevProcess } from '../support/dev-process.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { readSse } from '../support/sse.js';

// Tools that ask first, through `npm run dev` as a newcomer runs it: a child process on an
// embedded PGlite, over real HTTP, with the shipped assistant. A restart is a new process on the
// same DATA_DIR: what it resumes, it read from the database.
const secret = 'dev-approvals-test-secret-of-32-bytes-or-more';
let model: ScriptedOpenAI;
let dataDir: string;
let server: DevProcess;
const env = () => ({ DATA_DIR: dataDir, JWT_SECRET: secret, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL });

beforeAll(async () => {
  model = await startScriptedOpenAI();
  dataDir = mkdtempSync(join(tmpdir(), 'chatkit-dev-approvals-'));
  server = await startDevProcess(env());
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await model?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function send(body: unknown, user: string, options: { stopWhen?: (events: ThreadStreamEvent[]) => boolean } = {}): Promise<Answer> {
  const token = jwt.sign({ sub: user }, secret, { algorithm: 'HS256', expiresIn: '1h' });
  const stop = new AbortController();
  const response = await fetch(`${server.url}/chatkit`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: stop.signal,
  });
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) return { status: response.status, events: [], json: await response.json() };
  const events: ThreadStreamEvent[] = [];
  try {
    for await (const event of readSse(response)) {
      events.push(event);
      if (options.stopWhen?.(events)) stop.abort();
    }
  } catch (error) {
    if (!stop.signal.aborted) throw error;
  }
  return { status: response.status, events, json: undefined };
}

const deployment: ApprovalDeployment = {
  get model() {
    return model;
  },
  send,
  restart: async (extra = {}) => {
    await server.stop();
    server = await startDevProcess({ ...env(), ...extra });
  },
  seesClientLeave: true,
};

describe('tools that ask first, through npm run dev', { timeout: 60_000 }, () => {
  approvalScenarios(() => deployment);
});
