import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDefaultModel } from '@openai/agents-core';
import { DEFAULT_ASSISTANT_INSTRUCTIONS, DEFAULT_MODEL } from '../../shared/agent/index.js';
import type { Database } from '../../shared/db/connect.js';
import { createChatKitServerFromEnv } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { createMigratedDatabase, type TestDatabase } from '../support/backends.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { input, modelRequests, newUser, stream, text } from './harness.js';

// The server as the Lambda and the dev server build it: the assistant agent when OPENAI_API_KEY is set.
let testDb: TestDatabase;
let database: Database;
let store: PostgresStore;
let model: ScriptedOpenAI;

beforeAll(async () => {
  ({ testDb, database } = await createMigratedDatabase());
  store = new PostgresStore(database.db);
  model = await startScriptedOpenAI();
});
afterAll(async () => {
  await model?.close();
  await database?.close();
  await testDb?.drop();
});

function logger() {
  const lines: Array<[string, string, unknown[]]> = [];
  const at = (level: string) => (message: string, ...extra: unknown[]) => void lines.push([level, message, extra]);
  return { log: { info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

describe('createChatKitServerFromEnv', () => {
  it('answers with the assistant agent: OPENAI_MODEL, ASSISTANT_INSTRUCTIONS, search_conversations, usage logged', async () => {
    const { log, lines } = logger();
    const env = { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL, OPENAI_MODEL: 'gpt-configured', ASSISTANT_INSTRUCTIONS: 'Answer like a pirate.' };
    const server = createChatKitServerFromEnv({ store, env, log });
    model.enqueue({ text: 'Arr.' });
    model.enqueueTitle('Pirates');
    await stream(server, { type: 'threads.create', params: { input: input('Hello') } }, { as: newUser() });
    const sent = modelRequests(model).at(-1)!.body;
    expect(sent).toMatchObject({ model: 'gpt-configured', instructions: 'Answer like a pirate.', tools: [{ name: 'search_conversations' }, { name: 'get_time' }, { name: 'rename_conversation' }] });
    expect(lines).toContainEqual(['info', 'turn usage', [{ inputTokens: 10, outputTokens: 5, requests: 1 }]]);
  });

  it('uses the default instructions when ASSISTANT_INSTRUCTIONS is unset', async () => {
    const { log } = logger();
    model.enqueue({ text: 'Hi.' });
    await stream(createChatKitServerFromEnv({ store, env: { OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: model.baseURL }, log }), { type: 'threads.create', params: { input: input('Hello') } }, { as: newUser() });
    expect(modelRequests(model).at(-1)!.body).toMatchObject({ model: DEFAULT_MODEL, instructions: DEFAULT_ASSISTANT_INSTRUCTIONS });
    // OPENAI_MODEL's default is the Agents SDK's own default model (kept as a constant: the SDK is not loaded at start).
    expect(DEFAULT_MODEL).toBe(getDefaultModel());
  });

  it('runs the assistant on the offline model without a key: echo, its own tools by /name or tool_choice, and says so', async () => {
    const { log, lines } = logger();
    const requestsBefore = model.requests.length;
    const offline = createChatKitServerFromEnv({ store, env: {}, log });
    expect(lines.some(([level, message]) => level === 'warn' && message.includes('offline model'))).toBe(true);
    expect(await offline.tools()).toEqual(['search_conversations', 'get_time', 'rename_conversation']);

    const echo = await stream(offline, { type: 'threads.create', params: { input: input('Echo me') } }, { as: newUser() });
    expect(text(echo)).toBe('(offline echo) Echo me');
    const timed = await stream(offline, { type: 'threads.create', params: { input: input('/get_time {}') } }, { as: newUser() });
    expect(text(timed)).toMatch(/^get_time returned \{"now":"\d{4}-/);
    const picked = await stream(offline, { type: 'threads.create', params: { input: { ...input('pizza'), inference_options: { tool_choice: { id: 'search_conversations' } } } } }, { as: newUser() });
    expect(text(picked)).toContain('search_conversations returned');
    const unknown = await offline.process(JSON.stringify({ type: 'threads.create', params: { input: { ...input('x'), inference_options: { tool_choice: { id: 'nope' } } } } }), newUser(), { signal: new AbortController().signal }).catch((e: Error) => e);
    expect(unknown).toMatchObject({ code: 'unknown_tool', message: 'inference_options.tool_choice.id: expected one of search_conversations, get_time, rename_conversation' });
    expect(model.requests.length).toBe(requestsBefore); // no request left the process

    expect(() => createChatKitServerFromEnv({ store, env: { NODE_ENV: 'production' }, log })).toThrow('OPENAI_API_KEY is required in production');
  });
});
