import { Agent } from '@openai/agents-core';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AgentResponder, createAssistant, OfflineModelProvider, serverTool, type AgentContext } from '../../shared/agent/index.js';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { APPROVE_ACTION, DENY_ACTION, MAX_PENDING_CALLS } from '../../shared/responder/paused-turn.js';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { doneItems, input, itemsOf, modelRequests, newUser, startAgentHarness, stream, text, trace, updates, type AgentHarness } from './harness.js';
import { spinnersAfterReload, workflowsLeftOpen } from './http-harness.js';

// Tools that ask first: a call to a tool with needsApproval pauses the turn with a confirmation
// widget; the user's click (threads.custom_action) resumes the run from the state stored in
// PostgreSQL, on any server; a new message instead denies it; nothing runs unapproved.
let h: AgentHarness;
let server: ChatKitServer;
let agent: Agent<AgentContext>;
/** Every time a tool's execute ran, with what. */
const ran: Array<{ tool: string; args: Record<string, unknown>; userId: string }> = [];
const aborted: string[] = [];
let releaseSlow: (() => void) | null = null;

const transfer = serverTool({
  name: 'transfer_money',
  description: 'Sends money to someone',
  parameters: z.object({ to: z.string(), amount: z.number() }),
  needsApproval: true,
  approvalPrompt: ({ to, amount }) => ({ title: `Send ${amount} € to ${to}` }),
  execute: async (args, context) => {
    ran.push({ tool: 'transfer_money', args, userId: context.userId });
    return `Sent ${args.amount} € to ${args.to}.`;
  },
});

const archive = serverTool({
  name: 'archive_file',
  description: 'Archives a file',
  parameters: z.object({ path: z.string() }),
  // Only important files ask first.
  needsApproval: ({ path }) => path.startsWith('/important/'),
  execute: async (args, context) => {
    ran.push({ tool: 'archive_file', args, userId: context.userId });
    return `Archived ${args.path}.`;
  },
});

const slowJob = serverTool({
  name: 'slow_job',
  description: 'Takes a while',
  parameters: z.object({}),
  needsApproval: true,
  execute: (args, context) =>
    new Promise<string>((resolve) => {
      ran.push({ tool: 'slow_job', args, userId: context.userId });
      releaseSlow = () => resolve('done');
      context.signal.addEventListener('abort', () => {
        aborted.push('slow_job');
        resolve('stopped');
      });
    }),
});

beforeAll(async () => {
  h = await startAgentHarness();
  agent = new Agent<AgentContext>({ name: 'Banker', instructions: 'Use the tools.', tools: [transfer, archive, slowJob] });
  server = h.serverFor(agent);
});
afterAll(() => h?.close());

type User = { userId: string };
const say = (threadId: string, message: string, as: User, options: { signal?: AbortSignal; onEvent?: (e: ThreadStreamEvent) => void } = {}, on = server) =>
  stream(on, { type: 'threads.add_user_message', params: { thread_id: threadId, input: input(message) } }, { as, ...options });
const click = (threadId: string, itemId: string, type: string, as: User, payload: Record<string, unknown> = {}, on = server, signal?: AbortSignal) =>
  stream(on, { type: 'threads.custom_action', params: { thread_id: threadId, item_id: itemId, action: { type, payload } } }, { as, ...(signal ? { signal } : {}) });
const approve = (threadId: string, itemId: string, as: User, callId?: string, on = server) => click(threadId, itemId, APPROVE_ACTION, as, callId ? { call_id: callId } : {}, on);
const deny = (threadId: string, itemId: string, as: User, callId?: string, on = server) => click(threadId, itemId, DENY_ACTION, as, callId ? { call_id: callId } : {}, on);

async function newThread(as: User, on = server) {
  h.model.enqueue({ text: 'Hello.' });
  h.model.enqueueTitle('Money');
  const events = await stream(on, { type: 'threads.create', params: { input: input('Hi') } }, { as });
  return (events[0] as { thread: { id: string } }).thread.id;
}

/** A thread whose latest turn paused on these calls; returns its widget. */
async function paused(as: User, calls: Array<{ name: string; arguments: string; call_id: string }>, on = server) {
  const threadId = await newThread(as, on);
  h.model.enqueue({ functionCalls: calls });
  const events = await say(threadId, 'Please do it', as, {}, on);
  const widget = doneItems(events).find((item) => item.type === 'widget');
  if (!widget) throw new Error(`no widget: ${JSON.stringify(trace(events))}`);
  return { threadId, widget, events };
}
const toBob = { name: 'transfer_money', arguments: '{"to":"Bob","amount":5}', call_id: 'call_bob' };
const toCarol = { name: 'transfer_money', arguments: '{"to":"Carol","amount":7}', call_id: 'call_carol' };

const ranFor = (userId: string) => ran.filter((r) => r.userId === userId);
const functionOutputs = (body: any) => (body.input as Array<{ type?: string; call_id?: string; output?: unknown }>).filter((item) => item.type === 'function_call_output');
const replacedWidgets = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.replaced' && e.item.type === 'widget' ? [e.item] : []));
const pausedRows = async (threadId: string) => {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM chatkit_paused_turns WHERE thread_id = ${threadId}`.execute(h.database.db);
  return rows[0]!.n;
};
/** Every state a task of the workflow was shown in, in order. */
const taskStates = (events: ThreadStreamEvent[]) =>
  events.flatMap((e) => {
    if (e.type === 'thread.item.added' || e.type === 'thread.item.done' || e.type === 'thread.item.replaced') return e.item.type === 'workflow' ? e.item.workflow.tasks : [];
    return e.type === 'thread.item.updated' && (e.update.type === 'workflow.task.added' || e.update.type === 'workflow.task.updated') ? [e.update.task] : [];
  });
async function refusal(run: Promise<unknown>) {
  try {
    await run;
  } catch (error) {
    return error as { status: number; code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('a tool that needs approval', () => {
  it('pauses the turn with a confirmation widget; its task waits; nothing of the tool has run', async () => {
    const me = newUser();
    const { threadId, widget, events } = await paused(me, [toBob]);
    expect(trace(events)).toEqual([
      'thread.item.done:user_message',
      'stream_options',
      'thread.item.added:workflow',
      'updated:workflow.task.updated',
      'thread.item.done:workflow',
      'thread.item.done:widget',
    ]);
    // The task says it waits; it was never shown complete.
    expect(doneItems(events)[1]).toMatchObject({ type: 'workflow', workflow: { tasks: [{ title: 'Transfer money', status_indicator: 'none', content: 'Waiting for approval' }] } });
    expect(taskStates(events).some((task) => task.status_indicator === 'complete')).toBe(false);
    // The widget says what will be done; its buttons carry only ids.
    expect(widget).toMatchObject({
      type: 'widget',
      widget: {
        type: 'Card',
        confirm: { label: 'Approve', action: { type: APPROVE_ACTION, payload: {} } },
        cancel: { label: 'Deny', action: { type: DENY_ACTION, payload: {} } },
      },
    });
    // The prompt: the tool's own title, then each argument as plain text.
    expect((widget as unknown as { widget: { children: unknown[] } }).widget.children).toEqual([
      { type: 'Title', value: 'Send 5 € to Bob', size: 'sm' },
      { type: 'Text', value: 'To: Bob', size: 'sm' },
      { type: 'Text', value: 'Amount: 5', size: 'sm' },
    ]);
    expect(ranFor(me.userId)).toEqual([]);
    expect(await pausedRows(threadId)).toBe(1);
    expect((await itemsOf(h.store, threadId, me)).map((i) => i.type).slice(-3)).toEqual(['user_message', 'workflow', 'widget']);
    // The thread waits for the answer: a retry is refused with what it waits for.
    const userMessageId = doneItems(events)[0]!.id;
    const busy = await refusal(stream(server, { type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: userMessageId } }, { as: me }));
    expect(busy).toMatchObject({ status: 409, code: 'thread_busy', message: expect.stringMatching(/waiting for an answer/) });
  });

  it('approved: the stored call runs once, its task completes, the answer streams, the widget says who approved and when', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    const before = modelRequests(h.model).length;
    h.model.enqueue({ text: 'Done: 5 € went to Bob.' });
    const events = await approve(threadId, widget.id, me);
    expect(trace(events).slice(0, 5)).toEqual([
      'stream_options',
      'thread.item.replaced:widget',
      'updated:workflow.task.updated', // loading again: it runs
      'updated:workflow.task.updated', // complete
      'thread.item.replaced:workflow',
    ]);
    expect(text(events)).toBe('Done: 5 € went to Bob.');
    const [shown] = replacedWidgets(events);
    expect(shown!.id).toBe(widget.id);
    expect(JSON.stringify(shown!.widget)).toContain(`Approved by ${me.userId} at `);
    expect((shown!.widget as { confirm?: unknown }).confirm).toBeUndefined();
    expect(taskStates(events).map((task) => task.status_indicator)).toEqual(['loading', 'complete', 'complete']);
    // What ran is what the model asked for, stored with the pause: the click carried only ids.
    expect(ranFor(me.userId)).toEqual([{ tool: 'transfer_money', args: { to: 'Bob', amount: 5 }, userId: me.userId }]);
    const next = modelRequests(h.model).slice(before);
    expect(next).toHaveLength(1);
    expect(functionOutputs(next[0]!.body)).toEqual([expect.objectContaining({ call_id: 'call_bob', output: 'Sent 5 € to Bob.' })]);
    expect(await pausedRows(threadId)).toBe(0);
    // Stored as shown.
    const items = await itemsOf(h.store, threadId, me);
    expect(items.find((i) => i.id === widget.id)).toEqual(shown);
    expect(items.at(-1)).toMatchObject({ type: 'assistant_message' });
  });

  it('denied: the model receives the denial and answers; the tool never runs and its task never completes', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    h.model.enqueue({ text: 'Understood, nothing was sent.' });
    const events = await deny(threadId, widget.id, me);
    expect(text(events)).toBe('Understood, nothing was sent.');
    expect(JSON.stringify(replacedWidgets(events)[0]!.widget)).toContain(`Denied by ${me.userId} at `);
    expect(taskStates(events).some((task) => task.status_indicator === 'complete' || task.status_indicator === 'loading')).toBe(false);
    expect(taskStates(events).at(-1)).toMatchObject({ status_indicator: 'none', content: 'Denied' });
    const [output] = functionOutputs(modelRequests(h.model).at(-1)!.body);
    expect(output).toMatchObject({ call_id: 'call_bob', output: expect.stringContaining('The user denied this action') });
    expect(ranFor(me.userId)).toEqual([]);
  });

  it('a new message instead of a click denies the pending call, tells the model, and answers the message', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    h.model.enqueue({ text: 'Sure, no transfer. It is sunny.' });
    const events = await say(threadId, 'Forget it. How is the weather?', me);
    expect(trace(events).slice(0, 4)).toEqual(['thread.item.done:user_message', 'stream_options', 'thread.item.replaced:widget', 'thread.item.replaced:workflow']);
    expect(JSON.stringify(replacedWidgets(events)[0]!.widget)).toContain('a new message was sent instead');
    expect(text(events)).toBe('Sure, no transfer. It is sunny.');
    const sent = JSON.stringify(modelRequests(h.model).at(-1)!.body.input);
    expect(sent).toContain('transfer_money({\\"to\\":\\"Bob\\",\\"amount\\":5})');
    expect(sent).toContain('sent a new message instead: it was not run');
    expect(sent).toContain('Forget it. How is the weather?');
    expect(ranFor(me.userId)).toEqual([]);
    expect(await pausedRows(threadId)).toBe(0);
    // The click that comes too late changes nothing.
    expect(await refusal(approve(threadId, widget.id, me))).toMatchObject({ status: 409, code: 'not_pending' });
    expect(ranFor(me.userId)).toEqual([]);
  });

  it('a second click is a 409 that changes nothing', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    h.model.enqueue({ text: 'Sent.' });
    await approve(threadId, widget.id, me);
    const items = await itemsOf(h.store, threadId, me);
    const requests = modelRequests(h.model).length;
    for (const again of [() => approve(threadId, widget.id, me), () => deny(threadId, widget.id, me), () => approve(threadId, widget.id, me, 'call_bob')]) {
      expect(await refusal(again())).toMatchObject({ status: 409, code: 'not_pending', message: expect.stringMatching(/answered already/) });
    }
    expect(ranFor(me.userId)).toHaveLength(1);
    expect(await itemsOf(h.store, threadId, me)).toEqual(items);
    expect(modelRequests(h.model)).toHaveLength(requests);
  });

  it("another user's click is not found and changes nothing; a made-up call id is refused", async () => {
    const me = newUser();
    const intruder = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    expect(await refusal(approve(threadId, widget.id, intruder))).toMatchObject({ status: 404, code: 'not_found' });
    expect(await refusal(approve(threadId, widget.id, me, 'call_forged'))).toMatchObject({ status: 409, code: 'not_pending' });
    expect(await refusal(approve(threadId, 'wd_other', me))).toMatchObject({ status: 409, code: 'not_pending' });
    expect(await refusal(click(threadId, widget.id, APPROVE_ACTION, me, { call_id: 42 }))).toMatchObject({ status: 400, code: 'invalid_params' });
    expect(ran.filter((r) => r.userId === intruder.userId || r.userId === me.userId)).toEqual([]);
    expect(await pausedRows(threadId)).toBe(1);
    h.model.enqueue({ text: 'Sent.' });
    await approve(threadId, widget.id, me);
    expect(ranFor(me.userId)).toHaveLength(1);
  });

  it('expires after the configured time: a click is a 409 that changes nothing, and the next message tells the model', async () => {
    const quick = h.serverFor(agent, {}, { pauseSeconds: 1 });
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob], quick);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const expired = await refusal(approve(threadId, widget.id, me, undefined, quick));
    expect(expired).toMatchObject({ status: 409, code: 'expired', message: expect.stringMatching(/expired at .* and can no longer be answered/) });
    expect(ranFor(me.userId)).toEqual([]);
    expect(await pausedRows(threadId)).toBe(1);
    h.model.enqueue({ text: 'The transfer request lapsed.' });
    const events = await say(threadId, 'What happened?', me, {}, quick);
    expect(JSON.stringify(replacedWidgets(events)[0]!.widget)).toContain('expired');
    expect(JSON.stringify(modelRequests(h.model).at(-1)!.body.input)).toContain('The request for approval expired without an answer');
    expect(ranFor(me.userId)).toEqual([]);
  });

  it('resumes on another server over another connection: the state is only in the database', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob]);
    const database: Database = await openDatabase({ url: h.databaseUrl });
    try {
      const elsewhere = new ChatKitServer({ store: new PostgresStore(database.db), responder: new AgentResponder({ client: h.client, model: 'gpt-test', agent: new Agent<AgentContext>({ name: 'Banker', instructions: 'Use the tools.', tools: [transfer, archive, slowJob] }) }) });
      h.model.enqueue({ text: 'Sent from elsewhere.' });
      const events = await approve(threadId, widget.id, me, undefined, elsewhere);
      expect(text(events)).toBe('Sent from elsewhere.');
      expect(ranFor(me.userId)).toEqual([{ tool: 'transfer_money', args: { to: 'Bob', amount: 5 }, userId: me.userId }]);
    } finally {
      await database.close();
    }
  });

  it('never asks about a call whose arguments do not fit the tool: it is not run, the model is told why and answers, with no widget', async () => {
    const me = newUser();
    for (const [call, told] of [
      // needsApproval: true, amount missing
      [{ name: 'transfer_money', arguments: '{"to":"Bob"}', call_id: 'call_short' }, /not run.*do not fit the parameters of transfer_money/],
      // needsApproval: true, not JSON at all (the SDK asks about it without the policy; the pause refuses it)
      [{ name: 'transfer_money', arguments: '{"to":"Bob",', call_id: 'call_cut' }, /not approved/],
      // a needsApproval function is never handed a number for a string
      [{ name: 'archive_file', arguments: '{"path":7}', call_id: 'call_typed' }, /not run.*do not fit the parameters of archive_file/],
      [{ name: 'archive_file', arguments: '{"path":', call_id: 'call_cut_too' }, /not approved/],
    ] as const) {
      const threadId = await newThread(me);
      h.model.enqueue({ functionCalls: [call] });
      h.model.enqueue({ text: 'That call did not fit; tell me more.' });
      const events = await say(threadId, 'Do it', me);
      expect(doneItems(events).some((item) => item.type === 'widget'), call.call_id).toBe(false);
      expect(events.filter((e) => e.type === 'error')).toEqual([]);
      expect(text(events)).toBe('That call did not fit; tell me more.');
      const outputs = functionOutputs(modelRequests(h.model).at(-1)!.body);
      expect(outputs.map((o) => o.call_id)).toEqual([call.call_id]);
      expect(String(outputs[0]!.output)).toMatch(told);
      expect(await pausedRows(threadId)).toBe(0);
    }
    expect(ranFor(me.userId)).toEqual([]);
  });

  it('only asks when its needsApproval function says so', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    h.model.enqueue({ functionCall: { name: 'archive_file', arguments: '{"path":"/tmp/a"}', call_id: 'call_tmp' } }, { text: 'Archived.' });
    const direct = await say(threadId, 'Archive /tmp/a', me);
    expect(doneItems(direct).some((item) => item.type === 'widget')).toBe(false);
    expect(ranFor(me.userId)).toEqual([{ tool: 'archive_file', args: { path: '/tmp/a' }, userId: me.userId }]);
    h.model.enqueue({ functionCall: { name: 'archive_file', arguments: '{"path":"/important/b"}', call_id: 'call_important' } });
    const asked = await say(threadId, 'Archive /important/b', me);
    expect(doneItems(asked).at(-1)).toMatchObject({ type: 'widget' });
    expect(ranFor(me.userId)).toHaveLength(1);
  });
});

describe('on a reasoning model', () => {
  it('pauses in the reasoning workflow, leaves nothing spinning, and carries the reasoning with its encrypted content into the resumed run', async () => {
    const thinker = h.serverFor(new Agent<AgentContext>({ name: 'Banker', model: 'gpt-5-mini', instructions: 'Use the tools.', tools: [transfer] }));
    const me = newUser();
    const { threadId, widget, events } = await paused(me, [toBob], thinker);
    expect(workflowsLeftOpen(events)).toEqual([]);
    expect(spinnersAfterReload(await itemsOf(h.store, threadId, me))).toEqual([]);
    const pausedRequest = modelRequests(h.model).at(-1)!.body;
    expect(pausedRequest.include).toContain('reasoning.encrypted_content');
    h.model.enqueue({ text: 'Sent.' });
    const approved = await approve(threadId, widget.id, me, undefined, thinker);
    expect(text(approved)).toBe('Sent.');
    expect(workflowsLeftOpen(approved)).toEqual([]);
    expect(spinnersAfterReload(await itemsOf(h.store, threadId, me))).toEqual([]);
    const resumed = modelRequests(h.model).at(-1)!.body;
    expect(resumed.input).toContainEqual(expect.objectContaining({ type: 'reasoning', encrypted_content: expect.stringMatching(/^enc_/) }));
    expect(functionOutputs(resumed)).toEqual([expect.objectContaining({ call_id: 'call_bob', output: 'Sent 5 € to Bob.' })]);
  });
});

describe('the shipped assistant', () => {
  it('asks before rename_conversation renames another conversation, on the offline model too (npm run dev without a key)', async () => {
    const offline = new ChatKitServer({
      store: h.store,
      responder: new AgentResponder({ modelProvider: new OfflineModelProvider(), model: 'offline', ...createAssistant({ model: 'offline' }) }),
    });
    const me = newUser();
    const create = async (text: string) => (await stream(offline, { type: 'threads.create', params: { input: input(text) } }, { as: me }))[0] as { thread: { id: string } };
    const trip = (await create('Trip planning')).thread.id;
    const here = (await create('Tidy up')).thread.id;
    const asked = await say(here, `/rename_conversation ${JSON.stringify({ thread_id: trip, title: 'Lisbon trip' })}`, me, {}, offline);
    const widget = doneItems(asked).at(-1)!;
    expect(widget).toMatchObject({ type: 'widget', widget: { children: [{ type: 'Title', value: 'Rename a conversation' }, { type: 'Text', value: 'New title: Lisbon trip' }, { type: 'Caption' }] } });
    expect((await h.store.loadThread(trip, me)).title).not.toBe('Lisbon trip');
    const approved = await approve(here, widget.id, me, undefined, offline);
    expect(text(approved)).toContain('rename_conversation returned');
    expect((await h.store.loadThread(trip, me)).title).toBe('Lisbon trip');
    // Renaming this very conversation does not ask.
    const direct = await say(here, `/rename_conversation ${JSON.stringify({ thread_id: here, title: 'Housekeeping' })}`, me, {}, offline);
    expect(doneItems(direct).some((item) => item.type === 'widget')).toBe(false);
    expect(direct).toContainEqual(expect.objectContaining({ type: 'thread.updated', thread: expect.objectContaining({ title: 'Housekeeping' }) }));
  });
});

describe('several approvals in one turn (parallel tool calls)', () => {
  it('shows them in one widget; answered one by one, each approved call runs at once and the model answers after the last', async () => {
    const me = newUser();
    const { threadId, widget, events } = await paused(me, [toBob, toCarol]);
    const workflow = doneItems(events).find((item) => item.type === 'workflow') as Extract<ThreadItem, { type: 'workflow' }>;
    expect(workflow.workflow.tasks.map((task) => [task.status_indicator, (task as { content?: string }).content])).toEqual([
      ['none', 'Waiting for approval'],
      ['none', 'Waiting for approval'],
    ]);
    const card = JSON.stringify(widget.widget);
    expect(card).toContain('Approve all');
    expect(card).toContain('"payload":{"call_id":"call_bob"}');
    expect(card).toContain('"payload":{"call_id":"call_carol"}');

    const requests = modelRequests(h.model).length;
    const first = await approve(threadId, widget.id, me, 'call_bob');
    expect(ranFor(me.userId).map((r) => r.args.to)).toEqual(['Bob']);
    expect(modelRequests(h.model)).toHaveLength(requests); // the model waits for every answer
    expect(text(first)).toBe('');
    const shown = JSON.stringify(replacedWidgets(first)[0]!.widget);
    expect(shown).toContain(`Approved by ${me.userId}`);
    // Carol's call is all that waits: the card's own buttons answer it now.
    expect(shown).toContain('"confirm":{"label":"Approve","action":{"type":"approval.approve","payload":{}}}');
    expect(shown).not.toContain('"call_id"');
    expect(await pausedRows(threadId)).toBe(1);
    expect(await refusal(approve(threadId, widget.id, me, 'call_bob'))).toMatchObject({ status: 409, code: 'not_pending' });

    h.model.enqueue({ text: 'Bob got 5 €; Carol got nothing.' });
    const second = await deny(threadId, widget.id, me, 'call_carol');
    expect(text(second)).toBe('Bob got 5 €; Carol got nothing.');
    expect(ranFor(me.userId).map((r) => r.args.to)).toEqual(['Bob']);
    const outputs = functionOutputs(modelRequests(h.model).at(-1)!.body);
    expect(outputs).toEqual([
      expect.objectContaining({ call_id: 'call_bob', output: 'Sent 5 € to Bob.' }),
      expect.objectContaining({ call_id: 'call_carol', output: expect.stringContaining('denied') }),
    ]);
    const final = JSON.stringify(replacedWidgets(second)[0]!.widget);
    expect(final).toContain('Approved by');
    expect(final).toContain('Denied by');
    expect(await pausedRows(threadId)).toBe(0);
  });

  it('answered together: "Approve all" runs every pending call, then the model answers once', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [toBob, toCarol]);
    const requests = modelRequests(h.model).length;
    h.model.enqueue({ text: 'Both sent.' });
    const events = await approve(threadId, widget.id, me);
    expect(text(events)).toBe('Both sent.');
    expect(ranFor(me.userId).map((r) => r.args.to)).toEqual(['Bob', 'Carol']);
    expect(modelRequests(h.model)).toHaveLength(requests + 1);
  });

  it(`holds at most ${MAX_PENDING_CALLS}: the calls beyond are not run, the widget and the model say why`, async () => {
    const me = newUser();
    const calls = Array.from({ length: MAX_PENDING_CALLS + 2 }, (_, i) => ({ name: 'transfer_money', arguments: `{"to":"P${i}","amount":${i}}`, call_id: `call_${i}` }));
    const { threadId, widget } = await paused(me, calls);
    const card = JSON.stringify(widget.widget);
    expect(card.match(/"type":"approval.approve","payload":\{"call_id":"call_\d+"\}/g)).toHaveLength(MAX_PENDING_CALLS);
    expect(card).toContain(`Not run: at most ${MAX_PENDING_CALLS} actions can wait for approval at once`);
    h.model.enqueue({ text: 'Ten sent.' });
    await approve(threadId, widget.id, me);
    expect(ranFor(me.userId)).toHaveLength(MAX_PENDING_CALLS);
    const outputs = functionOutputs(modelRequests(h.model).at(-1)!.body);
    expect(outputs.filter((o) => String(o.output).includes('could not wait for it'))).toHaveLength(2);
  });
});

describe('bounds and cancellation', () => {
  it('a run whose state is too large to keep does not pause: the call is denied at once and the model says so', async () => {
    // The history the run carries is what makes its state large: here one long message (a
    // deployment that allows it; with the default 100,000 characters a message, it takes eleven).
    const roomy = h.serverFor(agent, {}, { messageMaxChars: 2_000_000 });
    const me = newUser();
    const threadId = await newThread(me, roomy);
    h.model.enqueue({ functionCall: toBob }, { text: 'I could not ask you to approve that here.' });
    const events = await say(threadId, `Please send it. ${'x'.repeat(1_200_000)}`, me, {}, roomy);
    expect(doneItems(events).some((item) => item.type === 'widget')).toBe(false);
    expect(text(events)).toBe('I could not ask you to approve that here.');
    expect(functionOutputs(modelRequests(h.model).at(-1)!.body)).toEqual([
      expect.objectContaining({ call_id: 'call_bob', output: expect.stringContaining('the conversation is too large to hold while waiting') }),
    ]);
    expect(ranFor(me.userId)).toEqual([]);
    expect(await pausedRows(threadId)).toBe(0);
  });

  it('a turn cancelled before it pauses leaves nothing waiting and runs nothing', async () => {
    const me = newUser();
    const threadId = await newThread(me);
    const stop = new AbortController();
    h.model.enqueue({ text: ['Let', ' me', ' send', ' that', ' now.'], deltaDelayMs: 100, functionCall: toBob });
    await say(threadId, 'Send it', me, {
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'thread.item.updated' && event.update.type === 'assistant_message.content_part.text_delta') stop.abort();
      },
    });
    expect(await pausedRows(threadId)).toBe(0);
    expect((await itemsOf(h.store, threadId, me)).some((item) => item.type === 'widget')).toBe(false);
    expect(ranFor(me.userId)).toEqual([]);
    // The thread is free, and nothing was denied on the user's behalf.
    h.model.enqueue({ text: 'Hello again.' });
    expect(text(await say(threadId, 'Hello?', me))).toBe('Hello again.');
  });

  it('cancelling the approved turn stops the running tool; the thread is free and the approval is spent', async () => {
    const me = newUser();
    const { threadId, widget } = await paused(me, [{ name: 'slow_job', arguments: '{}', call_id: 'call_slow' }]);
    const stop = new AbortController();
    const clicked = click(threadId, widget.id, APPROVE_ACTION, me, {}, server, stop.signal);
    await expect.poll(() => ranFor(me.userId).length).toBe(1);
    stop.abort();
    await clicked;
    expect(aborted).toContain('slow_job');
    expect(await pausedRows(threadId)).toBe(0);
    expect(await refusal(approve(threadId, widget.id, me))).toMatchObject({ status: 409, code: 'not_pending' });
    const stored = (await itemsOf(h.store, threadId, me)).find((item): item is Extract<ThreadItem, { type: 'widget' }> => item.id === widget.id);
    expect(JSON.stringify(stored!.widget)).toContain(`Approved by ${me.userId}`);
    h.model.enqueue({ text: 'Free again.' });
    expect(text(await say(threadId, 'Still there?', me))).toBe('Free again.');
    releaseSlow?.();
  });
});

void updates;
