import { sql } from 'kysely';
import OpenAI from 'openai';
import { AgentResponder, createAssistant } from '../shared/agent/index.js';
import { openDatabase, type Database } from '../shared/db/connect.js';
import type { ThreadItem } from '../shared/protocol/index.js';
import { ChatKitServer } from '../shared/server/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { startPgBouncer } from '../test/support/pgbouncer.js';
import { startScriptedOpenAI, type ScriptedOpenAI } from '../test/support/scripted-openai.js';
import { startWsBridge } from '../test/support/ws-bridge.js';
import { BENCH_USER, DEEP_THREAD, threadsCursorAt, type DatasetSize } from './dataset.js';
import { startDelayProxy } from './delay-proxy.js';
import { ModelClock, QueryLog, timeTurn, type TurnSample } from './full-turn.js';
import type { Report } from './report.js';
import { SeedStyleStore } from './seed-store.js';
import { SeedTurnStore } from './seed-turn-store.js';
import { interleaved, median, ms, time } from './stats.js';

/** Simulated round-trip times between the function and the database, ms. */
export const RTTS = [0, 4, 20] as const;

export interface NetworkBenchOptions {
  /** The loaded bench database, directly on its server. */
  databaseUrl: string;
  size: DatasetSize;
  iterations: number;
  report: Report;
}

type Side = 'ours' | 'seed';
const SIDES: Side[] = ['ours', 'seed'];
const ctx = { userId: BENCH_USER };

/**
 * Every ChatKit operation, a full turn and a cold connection's first query as a Lambda reaches
 * Neon: the Neon serverless driver over WebSocket (the tests' in-process bridge), a proxy that
 * delays every chunk by half the simulated round-trip time each way, PgBouncer in transaction
 * mode (Neon's pooler), PostgreSQL. Ours against the seed-style baseline, interleaved.
 */
export async function benchNetwork({ databaseUrl, size, iterations, report }: NetworkBenchOptions) {
  const server = new URL(databaseUrl);
  const bouncer = await startPgBouncer({ host: server.hostname, port: Number(server.port || 5432) });
  const proxy = await startDelayProxy({ host: '127.0.0.1', port: bouncer.port });
  const bridge = await startWsBridge();
  const model = await startScriptedOpenAI();
  const url = Object.assign(new URL(databaseUrl), { host: `127.0.0.1:${proxy.port}` }).toString();
  const connect = (onQuery?: () => void) => openDatabase({ url, driver: 'neon', neonWsProxy: bridge.proxy, onQuery });
  const log = new QueryLog();
  const database = await connect(log.record);
  try {
    const operations = await operationsTable(database, size, iterations, log, proxy);
    const turns = await turnTable(database, iterations, log, proxy, model);
    const cold = await coldTable(database, iterations, proxy, connect);
    print(report, iterations, operations, turns, cold);
    return { path: 'neon driver (WebSocket) → delay proxy → PgBouncer (transaction) → PostgreSQL, loopback', iterations, operations, turns, cold };
  } finally {
    await database.close();
    await model.close();
    await bridge.stop();
    await proxy.close();
    await bouncer.stop();
  }
}

interface Contender {
  name: string;
  ours: () => Promise<unknown>;
  seed: () => Promise<unknown>;
}

type Medians = Record<Side, number>;

async function operationsTable(database: Database, size: DatasetSize, iterations: number, log: QueryLog, proxy: { rttMs: number }) {
  const ours = new PostgresStore(database.db);
  const seed = new SeedStyleStore(database.db);
  let next = 0;
  const message = (threadId: string): ThreadItem => ({
    id: `msg_net_${next++}`,
    thread_id: threadId,
    created_at: new Date().toISOString(),
    type: 'user_message',
    content: [{ type: 'input_text', text: 'hi' }],
    attachments: [],
    inference_options: {},
  });
  const newThread = (id: string) => ({ id, created_at: new Date().toISOString(), status: { type: 'active' as const }, metadata: {} });
  for (const side of SIDES) await ours.createThread(newThread(`thr_net_${side}`), null, ctx);
  // Each delete needs a thread of its own (with a few messages): one to count, then a warm-up and N per RTT.
  const deletable: Record<Side, string[]> = { ours: [], seed: [] };
  for (let i = 0; i < 1 + RTTS.length * (iterations + 1); i++) {
    for (const side of SIDES) {
      const id = `thr_net_del_${side}_${i}`;
      await ours.createThread(newThread(id), message(id), ctx);
      for (let k = 0; k < 2; k++) await ours.addThreadItem(id, message(id), ctx);
      deletable[side].push(id);
    }
  }
  const middle = `it_${Math.floor(size.deepItems / 2)}`;
  const deepPage = threadsCursorAt(size.userThreads - 20);
  const contenders: Contender[] = [
    {
      name: 'threads.get_by_id (thread + first page)',
      ours: () => ours.loadThreadWithItems(DEEP_THREAD, 20, ctx),
      seed: async () => {
        await seed.loadThread(DEEP_THREAD, BENCH_USER);
        await seed.loadItems(DEEP_THREAD, undefined, 20);
      },
    },
    {
      name: 'items.list (page after a cursor)',
      ours: () => ours.loadThreadItems(DEEP_THREAD, { after: middle, limit: 20, order: 'desc' }, ctx),
      seed: async () => {
        await seed.loadThread(DEEP_THREAD, BENCH_USER);
        await seed.loadItems(DEEP_THREAD, middle, 20);
      },
    },
    {
      name: 'threads.list (deep page)',
      ours: () => ours.loadThreads({ after: deepPage, limit: 20 }, ctx),
      seed: () => seed.listThreads(BENCH_USER, size.userThreads - 20, 20),
    },
    {
      name: 'threads.add_user_message (store work, excl. model)',
      ours: async () => {
        const lease = { id: `turn_net_${next++}`, seconds: 60 };
        await ours.beginTurn('thr_net_ours', { lease, historyLimit: 40, append: message('thr_net_ours') }, ctx);
        await ours.endTurn('thr_net_ours', lease.id, ctx, { lastItem: message('thr_net_ours') });
      },
      seed: async () => {
        const at = () => new Date().toISOString();
        await seed.loadThread('thr_net_seed', BENCH_USER);
        await seed.addItem('thr_net_seed', { id: `msg_net_${next++}`, type: 'user_message', text: 'hi', created_at: at() });
        await seed.loadItems('thr_net_seed', undefined, 40);
        await seed.addItem('thr_net_seed', { id: `msg_net_${next++}`, type: 'assistant_message', text: 'hello', created_at: at() });
      },
    },
    {
      name: 'threads.delete',
      ours: () => ours.deleteThread(deletable.ours.pop()!, ctx),
      seed: () => seed.deleteThread(deletable.seed.pop()!, BENCH_USER),
    },
  ];

  const rows = [];
  proxy.rttMs = 0;
  for (const contender of contenders) {
    const roundTrips = {} as Medians;
    for (const side of SIDES) {
      log.reset();
      await contender[side]();
      roundTrips[side] = log.count;
    }
    rows.push({ name: contender.name, roundTrips, ms: {} as Record<number, Medians> });
  }
  for (const rtt of RTTS) {
    proxy.rttMs = rtt;
    for (const [i, contender] of contenders.entries()) {
      const samples = await interleaved(iterations, { ours: contender.ours, seed: contender.seed });
      rows[i]!.ms[rtt] = { ours: median(samples.ours!), seed: median(samples.seed!) };
    }
  }
  proxy.rttMs = 0;
  return rows;
}

async function turnTable(database: Database, iterations: number, log: QueryLog, proxy: { rttMs: number }, model: ScriptedOpenAI) {
  const clock = new ModelClock();
  const client = new OpenAI({ apiKey: 'sk-bench', baseURL: model.baseURL, maxRetries: 0, fetch: clock.fetch });
  // The production responder: the assistant agent, here answered by the scripted model.
  const responder = new AgentResponder({ ...createAssistant({ model: 'bench' }), client, model: 'bench' });
  const ours = new PostgresStore(database.db);
  const servers: Record<Side, ChatKitServer> = {
    ours: new ChatKitServer({ store: ours, responder }),
    seed: new ChatKitServer({ store: new SeedTurnStore(database.db), responder }),
  };
  // Titled threads: no title request runs beside the answer.
  const bodies = {} as Record<Side, string>;
  for (const side of SIDES) {
    const id = `thr_net_turn_${side}`;
    await ours.createThread({ id, title: 'Network', created_at: new Date().toISOString(), status: { type: 'active' }, metadata: {} }, null, ctx);
    bodies[side] = JSON.stringify({
      type: 'threads.add_user_message',
      params: { thread_id: id, input: { content: [{ type: 'input_text', text: 'hello' }], attachments: [], inference_options: {} } },
    });
  }
  const answer = Array.from({ length: 20 }, (_, i) => `word${i} `);
  const turn = (side: Side) => {
    model.enqueue({ text: answer });
    return timeTurn(servers[side], bodies[side], ctx, log, clock);
  };

  const byRtt: Record<number, Record<Side, TurnSample[]>> = {};
  for (const rtt of RTTS) {
    proxy.rttMs = rtt;
    const samples: Record<Side, TurnSample[]> = { ours: [], seed: [] };
    for (const side of SIDES) await turn(side); // warm
    for (let i = 0; i < iterations; i++) for (const side of SIDES) samples[side].push(await turn(side));
    byRtt[rtt] = samples;
  }
  proxy.rttMs = 0;
  const all = (side: Side) => Object.values(byRtt).flatMap((samples) => samples[side]);
  // The most statements any sample sent: a count that varied would show here, not be averaged away.
  const statements = Object.fromEntries(
    SIDES.map((side) => [side, Object.fromEntries((['beforeFirstByte', 'beforeModelRequest', 'afterFirstToken', 'total'] as const).map((k) => [k, Math.max(...all(side).map((s) => s.statements[k]))]))]),
  ) as Record<Side, TurnSample['statements']>;
  const timings = Object.fromEntries(
    RTTS.map((rtt) => [
      rtt,
      Object.fromEntries(
        SIDES.map((side) => {
          const of = (k: 'firstByteMs' | 'modelRequestMs' | 'firstTokenMs' | 'totalMs') => median(byRtt[rtt]![side].map((s) => s[k]));
          return [side, { firstByteMs: of('firstByteMs'), modelRequestMs: of('modelRequestMs'), firstTokenMs: of('firstTokenMs'), totalMs: of('totalMs') }];
        }),
      ),
    ]),
  ) as Record<number, Record<Side, Omit<TurnSample, 'statements'>>>;
  return { statements, timings };
}

async function coldTable(database: Database, iterations: number, proxy: { rttMs: number }, connect: () => Promise<Database>) {
  const select = (db: Database) => sql`SELECT 1`.execute(db.db);
  const rows: Record<number, { warm: number; cold: number }> = {};
  for (const rtt of RTTS) {
    proxy.rttMs = rtt;
    const warm: number[] = [];
    const cold: number[] = [];
    for (let i = 0; i < iterations; i++) {
      warm.push(await time(() => select(database)));
      let fresh: Database | undefined;
      cold.push(
        await time(async () => {
          fresh = await connect();
          await select(fresh);
        }),
      );
      await fresh?.close();
    }
    rows[rtt] = { warm: median(warm), cold: median(cold) };
  }
  proxy.rttMs = 0;
  return rows;
}

function print(
  report: Report,
  iterations: number,
  operations: Awaited<ReturnType<typeof operationsTable>>,
  turns: Awaited<ReturnType<typeof turnTable>>,
  cold: Awaited<ReturnType<typeof coldTable>>,
) {
  const pair = (m: Medians) => `${ms(m.ours)} / ${ms(m.seed)} (${(m.seed / m.ours).toFixed(1)}×)`;
  const rttHeads = RTTS.map((rtt) => `RTT ${rtt} ms: ours / seed`);
  report.say(`## Over a simulated network: Neon driver (WebSocket) → delay proxy → PgBouncer (transaction mode) → PostgreSQL, ms median of ${iterations}`);
  report.table(
    ['operation', 'round trips ours / seed', ...rttHeads],
    operations.map((row) => [row.name, `${row.roundTrips.ours} / ${row.roundTrips.seed}`, ...RTTS.map((rtt) => pair(row.ms[rtt]!))]),
  );

  const { timings, statements } = turns;
  const measure = (label: string, key: keyof (typeof timings)[number]['ours']) => [label, ...RTTS.map((rtt) => pair({ ours: timings[rtt]!.ours[key], seed: timings[rtt]!.seed[key] }))];
  report.say(`## A full turn (threads.add_user_message) through ChatKitServer and the assistant agent, scripted model, same path, ms median of ${iterations}`);
  report.table(
    ['measure', ...rttHeads],
    [
      measure('first SSE byte', 'firstByteMs'),
      measure('model request sent', 'modelRequestMs'),
      measure('first token out', 'firstTokenMs'),
      measure('turn done', 'totalMs'),
    ],
  );
  report.table(
    ['statements in a full turn (most in any sample)', 'ours', 'seed-style'],
    [
      ['before the first SSE byte', statements.ours.beforeFirstByte, statements.seed.beforeFirstByte],
      ['before the model request', statements.ours.beforeModelRequest, statements.seed.beforeModelRequest],
      ['after the first token', statements.ours.afterFirstToken, statements.seed.afterFirstToken],
      ['in all', statements.ours.total, statements.seed.total],
    ],
  );

  const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  const slow = RTTS.at(-1)!;
  report.say('## Goals (issue "Cold start and round trips")');
  report.table(
    ['goal', 'figure', 'result'],
    [
      ['first SSE byte after 1 database round trip', `${statements.ours.beforeFirstByte} statement(s) before it; ${ms(timings[slow]!.ours.firstByteMs)} ms at RTT ${slow}`, verdict(statements.ours.beforeFirstByte <= 1)],
      ['≤ 2 statements before the model’s first token', `${statements.ours.beforeModelRequest} before the model request; sent at ${ms(timings[slow]!.ours.modelRequestMs)} ms at RTT ${slow}`, verdict(statements.ours.beforeModelRequest <= 2)],
      ['≤ 2 statements after the first token', `${statements.ours.afterFirstToken}`, verdict(statements.ours.afterFirstToken <= 2)],
      [
        `turn done ≤ 3 RTT (${3 * slow} ms) at RTT ${slow}, 2 statements in all`,
        // What the statements alone cost on this path (a warm SELECT 1 each), and what is left: the agent's run and the model's HTTP, on this machine.
        `${ms(timings[slow]!.ours.totalMs)} ms (${(timings[slow]!.ours.totalMs / slow).toFixed(1)} RTT), ${statements.ours.total} statements: ` +
          `${ms(statements.ours.total * cold[slow]!.warm)} ms of them at a warm SELECT 1's ${ms(cold[slow]!.warm)} ms each on this path (RTT + the bridge and PgBouncer), ` +
          `${ms(timings[slow]!.ours.totalMs - statements.ours.total * cold[slow]!.warm)} ms the agent's run and the model's HTTP (${ms(timings[0]!.ours.totalMs)} ms for the whole turn at RTT 0)`,
        verdict(timings[slow]!.ours.totalMs <= 3 * slow && statements.ours.total <= 2),
      ],
    ],
  );

  report.say(`## A cold connection (new pool, first query) on the same path, ms median of ${iterations}`);
  report.table(
    ['RTT', 'warm: SELECT 1 on a pooled connection', 'cold: new pool + first SELECT 1', 'cold − warm, in RTTs'],
    RTTS.map((rtt) => [`${rtt} ms`, ms(cold[rtt]!.warm), ms(cold[rtt]!.cold), rtt ? ((cold[rtt]!.cold - cold[rtt]!.warm) / rtt).toFixed(1) : '–']),
  );
}
