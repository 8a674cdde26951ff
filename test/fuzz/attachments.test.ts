import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { EchoResponder } from '../../shared/responder/echo-responder.js';
import type { TurnInput } from '../../shared/responder/responder.js';
import { uid } from '../support/fixtures.js';
import { parseSse } from '../support/sse.js';
import { startFuzzApp, type FuzzApp } from './support/app.js';
import { fault, send, type Outcome } from './support/http.js';
import { validToken } from './support/tokens.js';

/**
 * Attachments under generated sequences of what a user (and another) can do with them: create,
 * upload (to size, past it, short), send in messages (ids repeated, another user's, unknown),
 * retry, delete the attachment, delete the thread, view, and another user naming them. After each
 * step every answer is a 2xx or a JSON 4xx and nothing is left behind: every attachment a message
 * names is a row bound to that message's thread with its file kept, no row is bound to a deleted
 * thread, every file on disk belongs to a row in the state its place says, no upload is left half
 * written, nothing was logged as an error. At the end, deleting the threads and the unsent
 * attachments leaves no row and no file. FUZZ_SEED replays a run, FUZZ_SCALE runs k times longer.
 */

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);

/** The echo responder, reading the turn's attachments as a model's turn does. */
class ReadingEcho extends EchoResponder {
  override async *respond(input: TurnInput, signal: AbortSignal) {
    await input.modelInput();
    yield* super.respond(input, signal);
  }
}

let app: FuzzApp;
beforeAll(async () => {
  app = await startFuzzApp({ responder: new ReadingEcho() });
});
afterAll(async () => {
  await app?.close();
});

type Ref = { /** the nth newest */ own: number } | { foreign: true } | { unknown: true };
type Step =
  | { op: 'create'; image: boolean; size: number; upload: 'exact' | 'long' | 'short' | 'none' }
  | { op: 'upload'; target: number; fit: 'exact' | 'long' | 'short' }
  | { op: 'send'; thread: number | null; refs: Ref[] }
  | { op: 'retry'; thread: number; message: number }
  | { op: 'delete attachment'; target: number }
  | { op: 'delete thread'; thread: number; rest: boolean }
  | { op: 'view'; target: number }
  | { op: 'intrude'; target: number; thread: number | null };

const ref: fc.Arbitrary<Ref> = fc.oneof(
  { weight: 12, arbitrary: fc.nat(3).map((own) => ({ own })) },
  { weight: 1, arbitrary: fc.constant({ foreign: true as const }) },
  { weight: 1, arbitrary: fc.constant({ unknown: true as const }) },
);
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('create' as const),
      image: fc.boolean(),
      size: fc.integer({ min: 0, max: 64 }),
      upload: fc.constantFrom('exact' as const, 'exact' as const, 'exact' as const, 'long' as const, 'short' as const, 'none' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('upload' as const), target: fc.nat(5), fit: fc.constantFrom('exact' as const, 'long' as const, 'short' as const) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('send' as const), thread: fc.option(fc.nat(3), { nil: null }), refs: fc.array(ref, { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('retry' as const), thread: fc.nat(3), message: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete attachment' as const), target: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete thread' as const), thread: fc.nat(3), rest: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('view' as const), target: fc.nat(5) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('intrude' as const), target: fc.nat(5), thread: fc.option(fc.nat(3), { nil: null }) }) },
);

interface Created {
  id: string;
  size: number;
  upload: string;
  preview: string | undefined;
}
interface Thread {
  id: string;
  /** The user messages, oldest first. */
  messages: string[];
}

/** What the runs reached: step and answer, counted (printed, so that a run that reaches little shows). */
const tally = new Map<string, number>();
const at = <T>(list: readonly T[], index: number): T | undefined => (list.length ? list[index % list.length] : undefined);
const pathOf = (url: string) => new URL(url).pathname;

/** One run: a fresh owner and another user, the steps, then everything deleted. */
async function run(steps: Step[]): Promise<void> {
  const owner = uid('owner');
  const other = uid('other');
  const token = { owner: `Bearer ${validToken(owner)}`, other: `Bearer ${validToken(other)}` };
  const attachments: Created[] = [];
  const threads: Thread[] = [];
  const log: string[] = [];

  const chatkit = (body: unknown, as: 'owner' | 'other' = 'owner') =>
    send(app.url, { method: 'POST', target: '/chatkit', headers: { authorization: token[as], 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const check = async (what: string, outcome: Outcome, problem = fault(outcome)) => {
    log.push(`${what} → ${outcome.status} ${outcome.body.slice(0, 160)}`);
    const kind = `${what.replace(/ (atc|thr|msg)_[\w-]+/g, '').replace(/"(atc|thr|msg)_[\w-]+"/g, 'id').replace(/\[.*\]/, (ids) => (ids === '[]' ? 'none' : 'some'))} ${outcome.status}${outcome.status >= 400 ? ` ${/"code":"([^"]+)"/.exec(outcome.body)?.[1] ?? ''}` : ''}`;
    tally.set(kind, (tally.get(kind) ?? 0) + 1);
    await app.settled();
    const problems = [problem, ...(await leftovers([owner, other])), ...app.takeErrors().map((error) => `logged: ${error}`)].filter((p) => p !== null);
    if (problems.length) throw new Error(`${problems.join('; ')}\n  steps:\n    ${log.join('\n    ')}`);
    return outcome;
  };
  const create = async (as: 'owner' | 'other', image: boolean, size: number) => {
    const outcome = await check(`create by ${as}`, await chatkit({ type: 'attachments.create', params: { name: image ? 'a.png' : 'a.txt', mime_type: image ? 'image/png' : 'text/plain', size } }, as));
    const body = JSON.parse(outcome.body);
    return { id: body.id, size, upload: pathOf(body.upload_descriptor.url), preview: body.preview_url && pathOf(body.preview_url) } as Created;
  };
  const upload = async (file: Created, fit: 'exact' | 'long' | 'short') => {
    const bytes = fit === 'exact' ? file.size : fit === 'long' ? file.size + 1 : Math.max(0, file.size - 1);
    const outcome = await send(app.url, { method: 'PUT', target: file.upload, headers: { 'content-type': file.preview ? 'image/png' : 'text/plain' }, body: Buffer.alloc(bytes, 0x61) });
    return check(`upload (${bytes === file.size ? 'exact' : fit})`, outcome);
  };

  const foreign = await create('other', false, 3);
  await upload(foreign, 'exact');
  // Own attachments counted from the newest, which are the likeliest not yet sent.
  const idOf = (r: Ref) => ('own' in r ? at(attachments, attachments.length - 1 - (r.own % Math.max(1, attachments.length)))?.id : 'foreign' in r ? foreign.id : 'atc_unknown');

  for (const s of steps) {
    switch (s.op) {
      case 'create': {
        const file = await create('owner', s.image, s.size);
        attachments.push(file);
        if (s.upload !== 'none') await upload(file, s.upload);
        break;
      }
      case 'upload': {
        const file = at(attachments, s.target);
        if (file) await upload(file, s.fit);
        break;
      }
      case 'send': {
        const thread = s.thread === null ? undefined : at(threads, s.thread);
        const input = { content: [{ type: 'input_text', text: 'see' }], attachments: s.refs.map(idOf).filter((id) => id !== undefined) };
        const body = thread ? { type: 'threads.add_user_message', params: { thread_id: thread.id, input } } : { type: 'threads.create', params: { input } };
        const named = input.attachments.length === new Set(input.attachments).size ? '' : ' (an id twice)';
        const outcome = await check(`send ${JSON.stringify(input.attachments)}${named} to ${thread ? 'a thread' : 'a new thread'}`, await chatkit(body));
        if (outcome.status !== 200) break;
        const events = parseSse(outcome.body);
        const created = events.find((e) => e.type === 'thread.created') as { thread: { id: string } } | undefined;
        const message = events.find((e) => e.type === 'thread.item.done' && e.item.type === 'user_message') as { item: { id: string } };
        if (created) threads.push({ id: created.thread.id, messages: [message.item.id] });
        else thread!.messages.push(message.item.id);
        break;
      }
      case 'retry': {
        const thread = at(threads, s.thread);
        const message = thread && at(thread.messages, s.message);
        if (!thread || !message) break;
        const outcome = await check(`retry`, await chatkit({ type: 'threads.retry_after_item', params: { thread_id: thread.id, item_id: message } }));
        if (outcome.status === 200) thread.messages.splice(thread.messages.indexOf(message) + 1);
        break;
      }
      case 'delete attachment': {
        const file = at(attachments, s.target);
        if (file) await check(`delete attachment ${file.id}`, await chatkit({ type: 'attachments.delete', params: { attachment_id: file.id } }));
        break;
      }
      case 'delete thread': {
        const thread = at(threads, s.thread);
        if (!thread) break;
        const outcome = s.rest
          ? await send(app.url, { method: 'DELETE', target: `/threads/${thread.id}`, headers: { authorization: token.owner } })
          : await chatkit({ type: 'threads.delete', params: { thread_id: thread.id } });
        await check(`delete thread`, outcome);
        if (outcome.status === 200) threads.splice(threads.indexOf(thread), 1);
        break;
      }
      case 'view': {
        const file = at(attachments, s.target);
        if (!file?.preview) break;
        const outcome = await send(app.url, { method: 'GET', target: file.preview, headers: {} });
        await check(`view`, outcome, outcome.status === 200 ? null : fault(outcome));
        break;
      }
      case 'intrude': {
        const file = at(attachments, s.target);
        if (!file) break;
        const thread = s.thread === null ? undefined : at(threads, s.thread);
        const input = { content: [{ type: 'input_text', text: 'mine now' }], attachments: [file.id] };
        const body = thread ? { type: 'threads.add_user_message', params: { thread_id: thread.id, input } } : { type: 'threads.create', params: { input } };
        const outcome = await chatkit(body, 'other');
        await check(`intrude`, outcome, outcome.status === 404 ? fault(outcome) : `another user's message naming it was answered ${outcome.status}`);
        break;
      }
    }
  }

  // Everything deleted: nothing may be left.
  for (const thread of threads) await check(`clean up thread`, await chatkit({ type: 'threads.delete', params: { thread_id: thread.id } }));
  for (const file of attachments) {
    const outcome = await chatkit({ type: 'attachments.delete', params: { attachment_id: file.id } });
    await check(`clean up attachment`, outcome, outcome.status === 200 || outcome.status === 404 ? fault(outcome) : `attachments.delete after its thread was deleted: ${outcome.status}`);
  }
  await check('clean up foreign', await chatkit({ type: 'attachments.delete', params: { attachment_id: foreign.id } }, 'other'));
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_attachments WHERE user_id = ANY(${[owner, other]})`.execute(app.database.db);
  const files = [owner, other].flatMap((user) => filesOf(user));
  if (rows[0]!.n || files.length) throw new Error(`left behind: ${rows[0]!.n} rows, files ${files.join(', ')}\n  steps:\n    ${log.join('\n    ')}`);
}

/** What is out of place for these users, in rows and on disk. */
async function leftovers(users: string[]): Promise<string[]> {
  const db = app.database.db;
  const { rows: attachments } = await sql<{ id: string; thread_id: string | null; thread_exists: boolean }>`
    SELECT a.id, a.data->>'thread_id' AS thread_id, EXISTS (SELECT 1 FROM chatkit_threads t WHERE t.id = a.data->>'thread_id') AS thread_exists
    FROM chatkit_attachments a WHERE a.user_id = ANY(${users})`.execute(db);
  const { rows: named } = await sql<{ thread_id: string; id: string }>`
    SELECT i.thread_id, x->>'id' AS id
    FROM chatkit_thread_items i JOIN chatkit_threads t ON t.id = i.thread_id, jsonb_array_elements(i.data->'attachments') x
    WHERE t.user_id = ANY(${users}) AND i.type = 'user_message'`.execute(db);
  const rows = new Map(attachments.map((a) => [a.id, a]));
  const problems: string[] = [];
  for (const a of attachments) if (a.thread_id !== null && !a.thread_exists) problems.push(`attachment ${a.id} is bound to deleted thread ${a.thread_id}`);
  for (const { thread_id, id } of named) {
    if (rows.get(id)?.thread_id !== thread_id) problems.push(`a message of ${thread_id} names attachment ${id}, whose row is ${rows.has(id) ? `bound to ${rows.get(id)!.thread_id}` : 'gone'}`);
  }
  const files = users.flatMap((user) => filesOf(user));
  for (const file of files) {
    const [place, , id] = file.split('/');
    const row = rows.get(id!);
    if (!row) problems.push(`file ${file} has no attachment`);
    else if ((place === 'attached') !== (row.thread_id !== null)) problems.push(`file ${file} of an attachment ${row.thread_id ? 'sent' : 'not sent'}`);
  }
  for (const a of attachments) {
    if (a.thread_id !== null && !files.some((file) => file.startsWith('attached/') && file.endsWith(`/${a.id}`))) problems.push(`attachment ${a.id} was sent but its file is not kept`);
  }
  const partial = join(app.filesDir, '.uploads');
  if (existsSync(partial) && readdirSync(partial).length) problems.push(`half-written uploads left: ${readdirSync(partial).join(', ')}`);
  return problems;
}

/** A user's files, as `pending|attached/<owner dir>/<id>`. */
function filesOf(user: string): string[] {
  const dir = createHash('sha256').update(user).digest('hex').slice(0, 32);
  return ['pending', 'attached'].flatMap((place) => {
    const path = join(app.filesDir, place, dir);
    return existsSync(path) ? readdirSync(path).map((id) => `${place}/${dir}/${id}`) : [];
  });
}

describe('attachments under generated sequences of uploads, messages, retries and deletes', () => {
  it('answer 2xx or a JSON 4xx and leave nothing behind', async () => {
    const started = performance.now();
    const deadline = started + 12_000 * SCALE;
    let runs = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
          if (performance.now() > deadline) return;
          runs++;
          await run(steps);
        }),
        { seed: SEED, numRuns: Math.round(150 * SCALE) },
      );
    } catch (error) {
      throw new Error(`attachments fuzz failed; replay with FUZZ_SEED=${SEED}\n${(error as Error).message}`, { cause: error });
    }
    const reached = [...tally].sort().map(([kind, n]) => `${kind}×${n}`).join(', ');
    console.log(`attachments: ${runs} sequences in ${Math.round(performance.now() - started)} ms (seed ${SEED}): ${reached}`);
  }, (12 * SCALE + 30) * 1000);
});
