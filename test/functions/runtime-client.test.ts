import jwt from 'jsonwebtoken';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { chunksOf } from '../../infra/chunks.js';
import { buildFunction, type BuiltFunction } from '../../infra/function-build.js';
import type { FunctionName } from '../../infra/functions.js';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { migrateToLatest } from '../../shared/db/migrate.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { restEvent, type RestEventOptions } from '../support/apigw.js';
import { createTestDatabase, type TestDatabase } from '../support/backends.js';
import { thread, uid, userMessage } from '../support/fixtures.js';
import { startLambdaProcess, type LambdaProcess } from '../support/lambda-process.js';
import type { InvocationOutcome, InvokeOptions } from '../support/runtime-api.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../support/scripted-openai.js';
import { secretAnswer, startSecretsExtension, type SecretsExtensionStandIn } from '../support/secrets-extension.js';
import { startS3 } from '../support/s3.js';
import { parseSse } from '../support/sse.js';

// Each function as the stack deploys it (the same build, infra/function-build.ts), run by Lambda's
// own Node.js runtime client (aws-lambda-ric) in a process of its own, against a Runtime API served
// here: its secrets read at init from the Parameters and Secrets extension (a stand-in), the database
// reached over the Neon driver (WebSocket bridge, PgBouncer in transaction mode), the model scripted.

const ARN = {
  database: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf',
  openai: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/openai-AbCdEf',
  jwt: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/jwt-AbCdEf',
};
const JWT_SECRET = 'runtime-client-test-secret-of-32-bytes!';

const buildDir = mkdtempSync(join(tmpdir(), 'runtime-client-'));
const built: Partial<Record<FunctionName, BuiltFunction>> = {};
const running: LambdaProcess[] = [];
let testDb: TestDatabase;
let seedDb: Database;
let store: PostgresStore;
let model: ScriptedOpenAI;
let extension: SecretsExtensionStandIn;

beforeAll(async () => {
  for (const name of ['chat', 'threadsList', 'authorizer'] as const) built[name] = await buildFunction(name, join(buildDir, name));
  testDb = await createTestDatabase();
  seedDb = await openDatabase({ url: testDb.url });
  await migrateToLatest(seedDb.db);
  store = new PostgresStore(seedDb.db);
  model = await startScriptedOpenAI();
  extension = await startSecretsExtension();
  extension.serve({
    // Neon's pooled endpoint is PgBouncer in transaction mode; without PgBouncer, the server itself.
    [ARN.database]: { DATABASE_URL: testDb.pgbouncerUrl ?? testDb.url },
    [ARN.openai]: { OPENAI_API_KEY: 'sk-runtime-client-test' },
    [ARN.jwt]: { JWT_SECRET },
  });
});
afterAll(async () => {
  await Promise.all(running.map((fn) => fn.stop()));
  await extension?.close();
  await model?.close();
  await seedDb?.close();
  await testDb?.drop();
  rmSync(buildDir, { recursive: true, force: true });
});

/** The function's configuration as the stack sets it (infra/lambda-functions.ts), secrets by ARN. */
function deployedEnv(name: FunctionName, secrets: Array<keyof typeof ARN>, extra: Record<string, string> = {}): Record<string, string> {
  const variables = { database: 'DATABASE_SECRET_ARN', openai: 'OPENAI_SECRET_ARN', jwt: 'JWT_SECRET_ARN' } as const;
  return {
    NODE_ENV: 'production',
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: `chatkit-${name}`,
    POWERTOOLS_LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_NAMESPACE: 'ChatKit/test',
    PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(extension.port),
    AWS_SESSION_TOKEN: extension.sessionToken,
    // Test knobs of the Neon driver: the local WebSocket bridge in place of Neon's proxy.
    DATABASE_DRIVER: 'neon',
    NEON_WS_PROXY: inject('neonWsProxy'),
    ...Object.fromEntries(secrets.map((secret) => [variables[secret], ARN[secret]])),
    ...extra,
  };
}

async function start(name: FunctionName, env: Record<string, string>, options: { observe?: boolean } = {}): Promise<LambdaProcess> {
  const fn = await startLambdaProcess(built[name]!.dir, env, { functionName: `chatkit-${name}`, ...options });
  running.push(fn);
  return fn;
}

const traceId = () => `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${uid('t').replace(/[^0-9a-f]/g, '').padEnd(24, '0').slice(0, 24)};Parent=53995c3f42cd8ad8;Sampled=1`;
/** Invokes and waits for the handler to be done (its work may outlast the answer's body). */
async function invoke(fn: LambdaProcess, event: unknown, options: InvokeOptions = {}): Promise<InvocationOutcome> {
  const outcome = await fn.api.invoke(event, { traceId: traceId(), ...options }).outcome;
  await fn.api.idle();
  return outcome;
}
const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const chatEvent = (userId: string, body: unknown) =>
  restEvent({ method: 'POST', resource: '/chatkit', userId, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });

function streamed(outcome: InvocationOutcome, fn: LambdaProcess) {
  if (outcome.kind !== 'stream') throw new Error(`expected a streamed answer, got ${JSON.stringify(outcome)}\n${fn.output()}`);
  return outcome;
}

describe('the chat function under the runtime client', () => {
  let chat: LambdaProcess;
  beforeAll(async () => {
    chat = await start('chat', deployedEnv('chat', ['database', 'openai'], { OPENAI_BASE_URL: model.baseURL, CORS_ORIGINS: '*' }), { observe: true });
  });

  it('streams a turn: the HTTP prelude, then the SSE events as they come; the agent loads after the first bytes have gone', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Streamed', ' by', ' the', ' runtime', ' client.'] });
    model.enqueueTitle('Runtime client');
    const outcome = streamed(await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: input('Stream this') } })), chat);

    expect(outcome.contentType).toBe('application/vnd.awslambda.http-integration-response');
    expect(outcome.prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': expect.stringMatching(/^text\/event-stream/) } });
    expect(outcome.error).toBeUndefined();
    expect(outcome.chunks.length).toBeGreaterThan(3); // written as the events come, not buffered
    const events = parseSse(outcome.body);
    expect(events.slice(0, 3).map((e) => e.type)).toEqual(['thread.created', 'thread.item.done', 'stream_options']);
    // No stop button: the function would never learn that the client stopped.
    expect(events[2]).toEqual({ type: 'stream_options', stream_options: { allow_cancel: false } });
    const answer = events.find((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message');
    expect(answer).toMatchObject({ item: { content: [{ text: 'Streamed by the runtime client.' }] } });
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    const items = await store.loadThreadItems(threadId, { order: 'asc' }, { userId });
    expect(items.data.map((i) => i.type)).toEqual(['user_message', 'assistant_message']);

    // What loaded when: nothing of the agent, the openai SDK or the tracer at init; the agent after
    // the turn's first bytes were written.
    const observed = chat.observed();
    const chunks = chunksOf(built.chat!.metafile);
    const holding = (source: string) => chunks.filter((c) => c.contents.some(([s]) => s === source)).map((c) => c.file);
    const firstWrite = observed.findIndex((line) => line.startsWith('first response write'));
    const loadedAt = (file: string) => observed.findIndex((line) => line.startsWith('load ') && line.endsWith(`/${file}`));
    expect(firstWrite).toBeGreaterThan(0);
    for (const file of holding('@openai/agents-core')) {
      const at = loadedAt(file);
      if (at >= 0) expect(at, `${file} loaded before the first bytes were written`).toBeGreaterThan(firstWrite);
    }
    expect(holding('@openai/agents-core').some((file) => loadedAt(file) > firstWrite)).toBe(true);
    for (const file of chunks.filter((c) => c.atInit).map((c) => c.file)) expect(loadedAt(file), file).toBeGreaterThanOrEqual(0);
    // The secrets were read at init with X-Ray on (AWS_XRAY_CONTEXT_MISSING=LOG_ERROR) and no trace yet: no false error.
    expect(chat.output()).not.toMatch(/Missing AWS Lambda trace data|context missing/i);
  });

  it('is not told when the client goes away, as on Lambda: the turn runs to its end, stored whole, and the next invocation is served', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['An', ' answer', ' nobody', ' waits', ' for.'], deltaDelayMs: 50 });
    const outcome = streamed(
      await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: input('Go on') } }), {
        clientGoesAwayWhen: (body) => body.split('text_delta').length > 2, // after the second delta
      }),
      chat,
    );
    expect(outcome.clientReceived).toContain('text_delta');
    expect(outcome.clientReceived!.length).toBeLessThan(outcome.body.length);
    expect(outcome.error).toBeUndefined();
    const [saved] = (await store.loadThreads({}, { userId })).data;
    const items = (await store.loadThreadItems(saved!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message']);
    expect(items[1]).toMatchObject({ content: [{ text: 'An answer nobody waits for.' }] });
    expect(model.requests.filter((r) => r.body?.stream).at(-1)!.aborted).toBe(false);

    model.enqueue({ text: 'Still here.' });
    const next = streamed(await invoke(chat, chatEvent(userId, { type: 'threads.add_user_message', params: { thread_id: saved!.id, input: input('Are you?') } })), chat);
    expect(parseSse(next.body).at(-1)).toMatchObject({ type: 'thread.item.done', item: { type: 'assistant_message', content: [{ text: 'Still here.' }] } });
    expect(chat.api.violations).toEqual([]);
  });

  it('stores a title that arrives after the stream has ended, before its invocation ends', async () => {
    const userId = uid('user');
    model.enqueue({ text: 'Quick answer.' });
    model.enqueueTitle('A slow title', { delayMs: 400 });
    const outcome = streamed(await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: input('Title me') } })), chat);
    expect(parseSse(outcome.body).some((e) => e.type === 'thread.updated')).toBe(false); // not ready while streaming
    const [saved] = (await store.loadThreads({}, { userId })).data;
    expect((await store.loadThread(saved!.id, { userId })).title).toBe('A slow title');
  });

  it('ends a turn whose model fails mid-answer with an error event, the invocation itself a success', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Half', ' an', ' answer'], failMidStream: { afterDeltas: 2, message: 'the model broke down' } });
    const outcome = streamed(await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: input('Break') } })), chat);
    expect(outcome.error).toBeUndefined(); // no error trailers: the stream ended as the protocol says
    const types = parseSse(outcome.body).map((e) => e.type);
    expect(types.filter((t) => t === 'error')).toHaveLength(1);
    expect(types.lastIndexOf('thread.item.updated')).toBeLessThan(types.indexOf('error')); // after what was said
    expect(parseSse(outcome.body).find((e) => e.type === 'error')).toMatchObject({ allow_retry: true });
  });

  it('answers a non-streaming request with JSON after the prelude, and a refusal with its 4xx JSON, never a stream', async () => {
    const list = streamed(await invoke(chat, chatEvent(uid('user'), { type: 'threads.list', params: {} })), chat);
    expect(list.prelude).toMatchObject({ statusCode: 200, headers: { 'content-type': expect.stringMatching(/^application\/json/) } });
    expect(JSON.parse(list.body)).toEqual({ data: [], has_more: false });
    const answer = async (userId: string | undefined, body: unknown) => {
      const outcome = streamed(await invoke(chat, userId ? chatEvent(userId, body) : restEvent({ method: 'POST', resource: '/chatkit', body: JSON.stringify(body) })), chat);
      expect(outcome.prelude?.headers?.['content-type']).toMatch(/^application\/json/);
      return [outcome.prelude?.statusCode, JSON.parse(outcome.body).error.code];
    };
    expect(await answer(uid('user'), '{nope')).toEqual([400, 'invalid_json']);
    expect(await answer(uid('user'), JSON.stringify({ type: 'threads.list', params: {}, metadata: { pad: 'x'.repeat(1_100_000) } }))).toEqual([413, 'payload_too_large']);
    expect(await answer(undefined, { type: 'threads.list', params: {} })).toEqual([401, 'unauthorized']);
    const owner = uid('user');
    model.enqueue({ text: 'mine' });
    const created = parseSse(streamed(await invoke(chat, chatEvent(owner, { type: 'threads.create', params: { input: input('mine') } })), chat).body);
    const threadId = (created[0] as { thread: { id: string } }).thread.id;
    expect(await answer(uid('user'), { type: 'threads.add_user_message', params: { thread_id: threadId, input: input('theirs') } })).toEqual([404, 'not_found']);
  });

  it('stops the model before the function times out, keeps what was said and tells the client', async () => {
    const userId = uid('user');
    model.enqueue({ text: ['Slow', ' answer', ' keeps', ' going', ' and', ' going'], deltaDelayMs: 250 });
    // The invocation's deadline (the Runtime API's) is 5.6 s away and the margin is 5 s: the answer is cut after about 600 ms.
    const outcome = streamed(await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: input('Take your time') } }), { timeoutMs: 5_600 }), chat);
    const [saved] = (await store.loadThreads({}, { userId })).data;
    const items = (await store.loadThreadItems(saved!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    const text = (items[1] as { content: Array<{ text: string }> }).content[0]!.text;
    expect(text.startsWith('Slow')).toBe(true);
    expect(text).not.toContain('going and going');
    // The client is still there: it is shown the partial answer as done, then told it was cut off.
    expect(parseSse(outcome.body).slice(-2)).toEqual([
      { type: 'thread.item.done', item: items[1] },
      { type: 'error', code: 'custom', message: 'The response was interrupted before it finished.', allow_retry: true },
    ]);
  });
});

describe("the chat function with attachments in S3, signing with its role's temporary credentials", () => {
  // Lambda gives a function its role's credentials as AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
  // AWS_SESSION_TOKEN; S3 refuses a request or a presigned URL of such a key without its token.
  // The stand-in takes only these credentials, in the function's region.
  const role = { accessKeyId: 'ASIAROLETEMPORARY001', secretAccessKey: 'role-temporary-secret' };
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a3d4e0c70000000049454e44ae426082', 'hex');
  let s3: Awaited<ReturnType<typeof startS3>>;
  let chat: LambdaProcess;
  beforeAll(async () => {
    s3 = await startS3({ region: 'eu-west-1', credentials: { ...role, sessionToken: extension.sessionToken } });
    chat = await start(
      'chat',
      deployedEnv('chat', ['database', 'openai'], {
        OPENAI_BASE_URL: model.baseURL,
        CORS_ORIGINS: '*',
        ATTACHMENTS_BUCKET: s3.bucket,
        AWS_ACCESS_KEY_ID: role.accessKeyId,
        AWS_SECRET_ACCESS_KEY: role.secretAccessKey,
        // The SDK's own setting for another endpoint (service-specific endpoints); never set on AWS.
        AWS_ENDPOINT_URL_S3: s3.endpoint,
      }),
    );
  });
  afterAll(() => s3?.close());
  const json = async (userId: string, body: unknown) => JSON.parse(streamed(await invoke(chat, chatEvent(userId, body)), chat).body);

  it('a browser uploads to the presigned URL, the model downloads the image, deleting the thread removes it: every request one S3 takes', async () => {
    const userId = uid('user');
    const image = await json(userId, { type: 'attachments.create', params: { name: 'cat.png', mime_type: 'image/png', size: PNG.length } });
    const { url, method, headers } = image.upload_descriptor;
    expect(new URL(url).searchParams.get('X-Amz-Security-Token')).toBe(extension.sessionToken);
    const uploaded = await fetch(url, { method, headers, body: new Uint8Array(PNG) });
    expect(uploaded.status, await uploaded.text()).toBe(200);

    model.enqueue({ text: 'A very small cat.' });
    const events = parseSse(streamed(await invoke(chat, chatEvent(userId, { type: 'threads.create', params: { input: { ...input('What is this?'), attachments: [image.id] } } })), chat).body);
    expect(events.find((e) => e.type === 'thread.item.done' && e.item.type === 'assistant_message')).toMatchObject({ item: { content: [{ text: 'A very small cat.' }] } });
    const request = model.requests.filter((r) => r.body?.stream).at(-1)!;
    const sent = request.body.input[0].content[1];
    expect(sent).toMatchObject({ type: 'input_image', image_url: expect.stringContaining('/attached/') });
    expect(request.downloads).toEqual([{ url: sent.image_url, status: 200 }]);

    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    await json(userId, { type: 'threads.delete', params: { thread_id: threadId } });
    expect((await fetch(sent.image_url)).status).toBe(404); // gone
    expect(s3.unauthenticated).toEqual([]);
    // Upload; check and move on send (a copy, then a batch delete); a HEAD before the model gets the
    // URL, the model's download; the batch delete of the thread's objects; the link after it.
    expect(s3.requests.map((r) => `${r.method} ${r.key.split('/')[0]} ${r.status}`)).toEqual([
      'PUT pending 200',
      'HEAD pending 200',
      'PUT attached 200',
      'POST  200',
      'HEAD attached 200',
      'GET attached 200',
      'POST  200',
      'GET attached 404',
    ]);
  });
});

describe('the chat function behind a route with a short integration timeout', () => {
  it("stops before the route's timeout, counting the time API Gateway held the request before the handler ran", async () => {
    const chat = await start('chat', deployedEnv('chat', ['database', 'openai'], { OPENAI_BASE_URL: model.baseURL, INTEGRATION_TIMEOUT_MS: '7500' }));
    const userId = uid('user');
    model.enqueue({ text: 'Warm.' }); // the agent loaded, as in any turn after an instance's first
    streamed(await invoke(chat, chatEvent(uid('user'), { type: 'threads.create', params: { input: input('Warm up') } })), chat);
    model.enqueue({ text: ['Slow', ' answer', ' keeps', ' going', ' and', ' going', ' on', ' and', ' on'], deltaDelayMs: 400 });
    // The function has a minute, but API Gateway received the request 1.4 s ago (a cold start)
    // and gives up 7.5 s after that: with the 5 s margin the answer is cut after about 1.1 s.
    const event = chatEvent(userId, { type: 'threads.create', params: { input: input('Take your time') } });
    event.requestContext.requestTimeEpoch = Date.now() - 1_400;
    const outcome = streamed(await invoke(chat, event, { timeoutMs: 60_000 }), chat);
    expect(parseSse(outcome.body).find((e) => e.type === 'error')).toMatchObject({ allow_retry: true });
    const [saved] = (await store.loadThreads({}, { userId })).data;
    const items = (await store.loadThreadItems(saved!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    expect((items[1] as { content: Array<{ text: string }> }).content[0]!.text).not.toContain('on and on');
  });
});

describe('a REST function under the runtime client', () => {
  let list: LambdaProcess;
  beforeAll(async () => {
    list = await start('threadsList', deployedEnv('threadsList', ['database'], { CORS_ORIGINS: '*' }));
  });
  const get = (options: Omit<RestEventOptions, 'method' | 'resource'>) => invoke(list, restEvent({ method: 'GET', resource: '/threads', ...options }));

  it("answers GET /threads with the caller's threads, as a buffered proxy response", async () => {
    const userId = uid('user');
    const t = thread();
    await store.createThread(t, userMessage(t.id, 'hello'), { userId });
    const outcome = await get({ userId, query: { limit: '10' } });
    expect(outcome.kind).toBe('response');
    const response = JSON.parse((outcome as { body: string }).body) as { statusCode: number; multiValueHeaders: Record<string, string[]>; body: string };
    expect(response.statusCode).toBe(200);
    expect(response.multiValueHeaders['content-type']).toEqual([expect.stringMatching(/^application\/json/)]);
    expect(JSON.parse(response.body)).toMatchObject({ threads: [{ id: t.id }], has_more: false });
  });

  it('answers a request without the authorizer context with a 401, not an invocation error', async () => {
    const outcome = await get({});
    expect(outcome.kind).toBe('response');
    expect(JSON.parse((outcome as { body: string }).body)).toMatchObject({ statusCode: 401 });
    expect(list.api.violations).toEqual([]);
  });
});

describe('the authorizer under the runtime client', () => {
  let authorizer: LambdaProcess;
  beforeAll(async () => {
    authorizer = await start('authorizer', deployedEnv('authorizer', ['jwt']));
  });
  const tokenEvent = (token: string) => ({ type: 'TOKEN', authorizationToken: `Bearer ${token}`, methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/threads' });

  it('allows a valid token on every route of the stage, with the user id in the context', async () => {
    const outcome = await invoke(authorizer, tokenEvent(jwt.sign({ sub: 'user-7' }, JWT_SECRET, { algorithm: 'HS256', expiresIn: '5m' })));
    expect(outcome).toMatchObject({ kind: 'response' });
    expect(JSON.parse((outcome as { body: string }).body)).toEqual({
      principalId: 'user-7',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*' }] },
      context: { userId: 'user-7' },
    });
  });

  it('refuses a forged token with the error API Gateway turns into a 401', async () => {
    const outcome = await invoke(authorizer, tokenEvent(jwt.sign({ sub: 'user-7' }, 'not-the-secret', { algorithm: 'HS256', expiresIn: '5m' })));
    expect(outcome).toMatchObject({ kind: 'error', error: { errorType: 'Error', errorMessage: 'Unauthorized' } });
    expect(authorizer.api.violations).toEqual([]);
  });
});

describe('an init failure under the runtime client', () => {
  it('reports a missing setting as the init error, naming it, and takes no invocation', async () => {
    extension.script(secretAnswer({ NOT_THE_URL: 'x' }, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:empty-AbCdEf'));
    const fn = await start('threadsList', deployedEnv('threadsList', [], { DATABASE_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:empty-AbCdEf' }));
    const error = await fn.api.initError;
    expect(error.errorType).toBe('Error');
    expect(error.errorMessage).toMatch(/^DATABASE_URL is not set: the secret arn:aws:secretsmanager:.*:secret:empty-AbCdEf must hold it/);
    expect(await fn.exited).not.toBe(0);
    expect(fn.api.nextCalls).toBe(0);
  });
});
