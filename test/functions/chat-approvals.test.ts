import { afterAll, beforeAll, describe, vi } from 'vitest';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { restEvent } from '../support/apigw.js';
import { approvalScenarios, type Answer, type ApprovalDeployment } from '../support/approval-scenarios.js';
import { installAwslambdaShim, invokeStreaming } from '../support/awslambda.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { openDatabase } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { parseSse } from '../support/sse.js';

// Tools that ask first, through POST /chatkit as Lambda response streaming runs it, with the
// shipped assistant on real PostgreSQL. A restart is a new instance: the module loaded afresh
// (a cold start, its own connections), knowing only what the database holds.
let testDb: TestDatabase;
let model: ScriptedOpenAI;
let handler: unknown;

async function coldStart(extra: Record<string, string> = {}) {
  Object.assign(process.env, { DATABASE_URL: testDb.url, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL, NODE_ENV: 'production', ...extra });
  vi.resetModules();
  handler = (await import('../../functions/chat.js')).handler;
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  const database = await openDatabase({ url: testDb.url });
  await migrateToLatest(database.db);
  await database.close();
  model = await startScriptedOpenAI();
  installAwslambdaShim();
  await coldStart();
});
afterAll(async () => {
  delete process.env.APPROVAL_EXPIRY_SECONDS;
  await model?.close();
  await testDb?.drop();
});

async function send(body: unknown, user: string, options: { stopWhen?: (events: ThreadStreamEvent[]) => boolean } = {}): Promise<Answer> {
  const event = restEvent({ method: 'POST', resource: '/chatkit', userId: user, body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  const stopWhen = options.stopWhen;
  const result = await invokeStreaming(handler, event, stopWhen ? { disconnectWhen: (body) => stopWhen(parseSse(completeEvents(body))) } : {});
  if (!result.headers['content-type']?.startsWith('text/event-stream')) return { status: result.statusCode, events: [], json: JSON.parse(result.body) };
  return { status: result.statusCode, events: parseSse(completeEvents(result.body)), json: undefined };
}

/** The events received whole (a chunk may end mid-event). */
function completeEvents(body: string): string {
  return body.slice(0, body.lastIndexOf('\n\n') + 2);
}

const deployment: ApprovalDeployment = {
  get model() {
    return model;
  },
  send,
  restart: (extra = {}) => coldStart(extra),
};

describe('tools that ask first, through the chat function', { timeout: 60_000 }, () => {
  approvalScenarios(() => deployment);
});
