/**
 * `npm run bench`: measures the store (locally and over a simulated network), the functions'
 * bundles, streaming, the local server and dev on PGlite, each next to its baseline in the same
 * run. Prints markdown tables and writes bench/results/latest.json. BENCH_SCALE=quick (default)
 * or full; DATABASE_URL (default: the local server) — a database `chatkit_bench` is created on it
 * and dropped at the end.
 */
import { serve } from '@hono/node-server';
import jwt from 'jsonwebtoken';
import { sql } from 'kysely';
import OpenAI from 'openai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevApp } from '../dev/app.js';
import { DiskAttachmentStore } from '../dev/disk-attachments.js';
import { authConfigFromEnv, createTokenVerifier } from '../shared/auth/index.js';
import { openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { createLogger } from '../shared/log.js';
import { OpenAIResponder } from '../shared/responder/openai-responder.js';
import { ChatKitServer, encodeSse } from '../shared/server/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { devTransport } from '../dev/transport.js';
import { PGBOUNCER_BINARY, pgBouncerInstalled } from '../test/support/pgbouncer.js';
import { startScriptedOpenAI } from '../test/support/scripted-openai.js';
import { benchColdStart } from './cold-start.js';
import { BENCH_USER, DEEP_THREAD, loadDataset, threadsCursorAt, type DatasetSize } from './dataset.js';
import { benchAttachmentMemory } from './attachment-memory.js';
import { benchBoundedSearch } from './bounded-search.js';
import { benchNetwork } from './network.js';
import { benchSearchIsolation } from './search-isolation.js';
import { benchPgliteMemory } from './pglite-memory.js';
import { createReport } from './report.js';
import { createSeedIndexes, SeedStyleStore } from './seed-store.js';
import { median, ms, percentile, interleaved, time } from './stats.js';
import { scratchDatabase } from './scratch-database.js';

const scale = process.env.BENCH_SCALE === 'full' ? 'full' : 'quick';
const size: DatasetSize =
  scale === 'full'
    ? { items: 1_000_000, deepItems: 100_000, threads: 1_000_000, userThreads: 10_000 }
    : { items: 100_000, deepItems: 10_000, threads: 100_000, userThreads: 1_000 };
const iterations = Number(process.env.BENCH_ITERATIONS ?? (scale === 'full' ? 200 : 50));
const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? (scale === 'full' ? 21 : 5));
const loadSeconds = scale === 'full' ? 8 : 3;
const networkIterations = scale === 'full' ? 30 : 10;

const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const report = createReport();
const { lines, say, table } = report;
const results: Record<string, unknown> = { date: new Date().toISOString(), scale, size };

const scratch = await scratchDatabase(server, 'chatkit_bench');
const benchUrl = scratch.url;
let roundTrips: string[] = [];
const database = await openDatabase({ url: benchUrl, maxConnections: 8, onQuery: (q) => void roundTrips.push(q) });
try {
  const { db } = database;
  await migrateToLatest(db);
  const pgVersion = (await sql<{ v: string }>`SELECT current_setting('server_version') AS v`.execute(db)).rows[0]!.v;
  const cpu = cpus();
  say(`# Benchmarks — ${results.date}`);
  say();
  say(`Machine: ${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB; Node ${process.version}; PostgreSQL ${pgVersion} on 127.0.0.1 (no network latency: round trips cost more on Neon). Scale: ${scale}.`);
  say();
  results.machine = { cpu: cpu[0]?.model, cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: pgVersion };

  const loadMs = await time(async () => {
    await loadDataset(db, size);
    await createSeedIndexes(db);
    await sql`ANALYZE`.execute(db);
  });
  say(`Dataset: ${size.items.toLocaleString()} items (one thread of ${size.deepItems.toLocaleString()}), ${size.threads.toLocaleString()} threads (one user with ${size.userThreads.toLocaleString()}); loaded in ${(loadMs / 1000).toFixed(1)} s.`);
  say();

  const ours = new PostgresStore(db);
  const seed = new SeedStyleStore(db);
  const ctx = { userId: BENCH_USER };

  // ---- 1. round trips per ChatKit operation ----
  const count = async (run: () => Promise<unknown>) => {
    roundTrips = [];
    await run();
    return roundTrips.length;
  };
  const opsThread = { id: 'thr_ops', created_at: new Date().toISOString(), status: { type: 'active' as const }, metadata: {} };
  await ours.createThread(opsThread, null, ctx);
  const message = (id: string) => ({ id, thread_id: opsThread.id, created_at: new Date().toISOString(), type: 'user_message' as const, content: [{ type: 'input_text' as const, text: 'hi' }], attachments: [], inference_options: {} });
  for (let i = 0; i < 3; i++) await ours.addThreadItem(opsThread.id, message(`msg_seed_${i}`), ctx);
  const rt: Array<[string, number, number]> = [
    ['threads.get_by_id (thread + first page)', await count(() => ours.loadThreadWithItems(opsThread.id, 20, ctx)), await count(async () => { await seed.loadThread(opsThread.id, BENCH_USER); await seed.loadItems(opsThread.id, undefined, 20); })],
    ['items.list (page after a cursor)', await count(() => ours.loadThreadItems(opsThread.id, { after: 'msg_seed_2', limit: 20 }, ctx)), await count(async () => { await seed.loadThread(opsThread.id, BENCH_USER); await seed.loadItems(opsThread.id, 'msg_seed_2', 20); })],
    ['threads.list (deep page)', await count(() => ours.loadThreads({ after: threadsCursorAt(size.userThreads - 20), limit: 20 }, ctx)), await count(() => seed.listThreads(BENCH_USER, size.userThreads - 20, 20))],
    [
      'threads.add_user_message (store work, excl. model)',
      await count(async () => {
        const lease = { id: 'turn_bench', seconds: 60 };
        await ours.beginTurn(opsThread.id, { lease, historyLimit: 40, append: message('msg_ours_u') }, ctx);
        await ours.endTurn(opsThread.id, lease.id, ctx, { lastItem: message('msg_ours_a') });
      }),
      await count(async () => {
        await seed.loadThread(opsThread.id, BENCH_USER);
        await seed.addItem(opsThread.id, { id: 'msg_seed_u', type: 'user_message', text: 'hi', created_at: new Date().toISOString() });
        await seed.loadItems(opsThread.id, undefined, 40);
        await seed.addItem(opsThread.id, { id: 'msg_seed_a', type: 'assistant_message', text: 'hello', created_at: new Date().toISOString() });
      }),
    ],
    ['threads.delete', await count(() => ours.deleteThread(opsThread.id, ctx)), await count(() => seed.deleteThread(`thr_${size.userThreads}`, BENCH_USER))],
  ];
  say('## Database round trips per operation');
  table(['operation', 'ours', 'seed-style baseline'], rt.map(([op, a, b]) => [op, a, b]));
  results.roundTrips = Object.fromEntries(rt.map(([op, a, b]) => [op, { ours: a, baseline: b }]));

  // ---- 2. items.list at depth ----
  const D = size.deepItems;
  const positions: Array<[string, string | undefined, number]> = [
    ['first page', undefined, 0],
    ['middle page', `it_${Math.floor(D / 2)}`, D - Math.floor(D / 2)],
    ['last page', 'it_21', D - 21],
  ];
  const itemRows: Array<Array<string>> = [];
  results.itemsList = {};
  for (const [label, after, offset] of positions) {
    const samples = await interleaved(iterations, {
      ours: () => ours.loadThreadItems(DEEP_THREAD, { limit: 20, order: 'desc', after }, ctx),
      seedCursor: () => seed.loadItems(DEEP_THREAD, after, 20),
      offset: () => seed.loadItemsByOffset(DEEP_THREAD, offset, 20),
    });
    const row = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { p50: median(v), p99: percentile(v, 99) }]));
    (results.itemsList as Record<string, unknown>)[label] = row;
    itemRows.push([label, ...['ours', 'seedCursor', 'offset'].map((k) => `${ms(row[k]!.p50)} / ${ms(row[k]!.p99)}`)]);
  }
  say(`## items.list in a ${D.toLocaleString()}-item thread (${size.items.toLocaleString()} items in the table), ms p50 / p99`);
  table(['page', 'ours (keyset on seq, 1 query)', 'seed (BEGIN, cursor lookup, created_at page, COMMIT)', 'OFFSET'], itemRows);

  // ---- 3. threads list ----
  const threadRows: Array<Array<string>> = [];
  results.threadsList = {};
  for (const [label, after, offset] of [
    ['first page', undefined, 0],
    ['deep page', threadsCursorAt(size.userThreads - 20), size.userThreads - 20],
  ] as Array<[string, string | undefined, number]>) {
    const samples = await interleaved(iterations, {
      ours: () => ours.loadThreads({ limit: 20, after }, ctx),
      seed: () => seed.listThreads(BENCH_USER, offset, 20),
    });
    const row = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, { p50: median(v), p99: percentile(v, 99) }]));
    (results.threadsList as Record<string, unknown>)[label] = row;
    threadRows.push([label, `${ms(row.ours!.p50)} / ${ms(row.ours!.p99)}`, `${ms(row.seed!.p50)} / ${ms(row.seed!.p99)}`]);
  }
  say(`## threads list: a user with ${size.userThreads.toLocaleString()} threads among ${size.threads.toLocaleString()}, ms p50 / p99`);
  table(['page', 'ours (keyset on updated_at, id)', 'seed (BEGIN, OFFSET, COMMIT)'], threadRows);

  // ---- 4. over a simulated network, as a Lambda reaches Neon ----
  if (pgBouncerInstalled()) results.network = await benchNetwork({ databaseUrl: benchUrl, size, iterations: networkIterations, report });
  else say(`## Over a simulated network: skipped (no PgBouncer at ${PGBOUNCER_BINARY})\n`);

  // ---- 5. Lambda cold starts and bundles ----
  results.coldStart = await benchColdStart({ databaseUrl: benchUrl, runs: coldRuns, report });

  // ---- 6. streaming ----
  const model = await startScriptedOpenAI();
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: model.baseURL, maxRetries: 0 });
  const chatkit = new ChatKitServer({ store: ours, responder: new OpenAIResponder({ client, model: 'bench', instructions: '' }) });
  const deltas = Array.from({ length: 500 }, (_, i) => `w${i} `);
  const streamThread = { id: 'thr_stream', created_at: new Date().toISOString(), status: { type: 'active' as const }, metadata: {}, title: 'Streaming' };
  await ours.createThread(streamThread, null, ctx);
  const turnBody = JSON.stringify({ type: 'threads.add_user_message', params: { thread_id: streamThread.id, input: { content: [{ type: 'input_text', text: 'go' }], attachments: [], inference_options: {} } } });
  let writes = 0;
  let trips = 0;
  const streamRuns = scale === 'full' ? 20 : 8;
  const samples = await interleaved(streamRuns, {
    rawSdk: async () => {
      model.enqueue({ text: deltas });
      const stream = await client.responses.create({ model: 'bench', input: 'go', stream: true });
      for await (const event of stream) JSON.stringify(event);
    },
    server: async () => {
      model.enqueue({ text: deltas });
      roundTrips = [];
      const result = await chatkit.process(turnBody, ctx, { signal: new AbortController().signal });
      if (result.kind === 'stream') for await (const event of result.events) encodeSse(event);
      trips = roundTrips.length;
      writes = roundTrips.filter((q) => !/^\s*select/i.test(q)).length;
    },
  });
  const perDeltaUs = ((median(samples.server!) - median(samples.rawSdk!)) / 500) * 1000;
  results.streaming = { rawSdkMs: median(samples.rawSdk!), serverMs: median(samples.server!), perDeltaUs, writes, roundTrips: trips };
  say('## Streaming a 500-delta answer from the scripted model');
  table(
    ['measure', 'value'],
    [
      ['the openai SDK alone reading the stream (baseline), median ms', ms(median(samples.rawSdk!))],
      ['a full turn through the server (validate, store, stream, persist, SSE-encode), median ms', ms(median(samples.server!))],
      ['server time added per text delta', `${perDeltaUs.toFixed(1)} µs`],
      ['database writes per streamed answer (all round trips)', `${writes} (${trips})`],
    ],
  );

  // ---- 7. local server throughput ----
  process.env.JWT_SECRET = 'bench-secret-of-at-least-32-bytes-long';
  const logger = createLogger('bench');
  logger.setLogLevel('ERROR');
  const { transport } = devTransport(createTokenVerifier(authConfigFromEnv({ JWT_SECRET: 'bench-secret-of-at-least-32-bytes-long' })));
  const filesDir = mkdtempSync(join(tmpdir(), 'bench-files-'));
  const files = new DiskAttachmentStore(filesDir, 'bench-secret-of-at-least-32-bytes-long', () => 'http://127.0.0.1', ours);
  const app = createDevApp({ api: { transport, logger, corsOrigins: ['*'] }, store: ours, chatkit, files });
  const listener = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const port = (listener.address() as { port: number }).port;
  const token = jwt.sign({ sub: BENCH_USER }, 'bench-secret-of-at-least-32-bytes-long', { algorithm: 'HS256', expiresIn: '1h' });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const load = async (request: (worker: number) => Promise<Response>, concurrency: number) => {
    const latencies: number[] = [];
    const deadline = performance.now() + loadSeconds * 1000;
    let failures = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, worker) => {
        while (performance.now() < deadline) {
          const started = performance.now();
          const response = await request(worker);
          await response.arrayBuffer();
          if (!response.ok) failures++;
          latencies.push(performance.now() - started);
        }
      }),
    );
    return { rps: latencies.length / loadSeconds, p50: median(latencies), p99: percentile(latencies, 99), failures };
  };
  const base = `http://127.0.0.1:${port}`;
  const health = await load(() => fetch(`${base}/health`), 16);
  const itemsList = await load(() => fetch(`${base}/threads/${DEEP_THREAD}/messages?limit=20`, { headers }), 16);
  // A thread per worker: a thread takes one turn at a time (a second is 409 thread_busy).
  const turnWorkers = 8;
  const turnBodies: string[] = [];
  for (let worker = 0; worker < turnWorkers; worker++) {
    const thread = { ...streamThread, id: `thr_load_${worker}` };
    await ours.createThread(thread, null, ctx);
    turnBodies.push(turnBody.replace(streamThread.id, thread.id));
  }
  const chatTurn = await load((worker) => {
    model.enqueue({ text: ['A', ' short', ' answer.'] });
    return fetch(`${base}/chatkit`, { method: 'POST', headers, body: turnBodies[worker] });
  }, turnWorkers);
  listener.close();
  await model.close();
  rmSync(filesDir, { recursive: true, force: true });
  results.throughput = { health, itemsList, chatTurn };
  say(`## Local server on ${cpu.length} cores (load generator in the same process), ${loadSeconds} s each`);
  table(
    ['request', 'requests/s', 'p50 ms', 'p99 ms', 'failures'],
    [
      ['GET /health (framework floor, baseline)', health.rps.toFixed(0), ms(health.p50), ms(health.p99), health.failures],
      ['GET /threads/{id}/messages (JWT, 1 query)', itemsList.rps.toFixed(0), ms(itemsList.p50), ms(itemsList.p99), itemsList.failures],
      ['POST /chatkit full turn (scripted model)', chatTurn.rps.toFixed(0), ms(chatTurn.p50), ms(chatTurn.p99), chatTurn.failures],
    ],
  );
} finally {
  await database.close();
  await scratch.drop();
}

// ---- 8. dev on PGlite: memory ----
results.pgliteMemory = await benchPgliteMemory({
  serverUrl: server,
  runs: scale === 'full' ? 3 : 1,
  sharedBuffers: scale === 'full' ? ['32MB', '16MB', '8MB'] : ['16MB'],
  report,
});

// ---- 9. bounded search (issue 20): before and after, on databases of its own ----
results.boundedSearch = await benchBoundedSearch({ serverUrl: server, scale, report });

// ---- 10. a user's search against everyone's items: before and after, on a database of its own ----
results.searchIsolation = await benchSearchIsolation({ serverUrl: server, scale, report });

// ---- 11. attachments: memory per turn and per upload ----
results.attachmentMemory = await benchAttachmentMemory({ serverUrl: server, runs: scale === 'full' ? 5 : 3, report });

mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
writeFileSync('bench/results/latest.md', `${lines.join('\n')}\n`);
console.log('wrote bench/results/latest.json');
process.exit(0);
