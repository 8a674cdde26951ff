import { expect, it } from 'vitest';
import type { ThreadItem, ThreadStreamEvent } from '../../shared/protocol/index.js';
import type { ScriptedOpenAI } from './scripted-openai.js';

// The approval flows as a ChatKit client lives them, against a whole deployment (the dev server,
// the chat function): the shipped assistant, whose rename_conversation asks before it renames
// another conversation. Each transport runs the same scenarios.

export interface Answer {
  status: number;
  /** A stream's events, as the client parsed them (empty for a JSON answer). */
  events: ThreadStreamEvent[];
  /** A JSON answer's body (undefined for a stream). */
  json: any;
}

export interface ApprovalDeployment {
  model: ScriptedOpenAI;
  /** Sends a ChatKit request as this user; `stopWhen` makes the client go away once the events so far satisfy it. */
  send(body: unknown, user: string, options?: { stopWhen?: (events: ThreadStreamEvent[]) => boolean }): Promise<Answer>;
  /** Starts a new instance over the same database (the old one gone), with these settings on top. */
  restart(env?: Record<string, string>): Promise<void>;
  /** Whether the server is told that a client left (the dev server is; a Lambda function is not). */
  seesClientLeave: boolean;
}

const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });
const doneItems = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.done' ? [e.item] : []));
const replacedWidget = (events: ThreadStreamEvent[]) => events.flatMap((e) => (e.type === 'thread.item.replaced' && e.item.type === 'widget' ? [e.item] : []))[0];
const answerText = (events: ThreadStreamEvent[]) =>
  events.flatMap((e) => (e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta' ? [e.update.delta] : [])).join('');

export function approvalScenarios(deployment: () => ApprovalDeployment) {
  let counter = 0;
  const newUser = () => `approver_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const streamed = (d: ApprovalDeployment) => d.model.requests.filter((r) => r.path === '/v1/responses' && r.body?.stream);
  const lastModelInput = (d: ApprovalDeployment) => JSON.stringify(streamed(d).at(-1)!.body.input);

  async function conversation(user: string, title: string): Promise<string> {
    const d = deployment();
    d.model.enqueue({ text: 'Noted.' });
    d.model.enqueueTitle(title);
    const { status, events } = await d.send({ type: 'threads.create', params: { input: input(`About ${title}`) } }, user);
    expect(status).toBe(200);
    const threadId = (events[0] as { thread: { id: string } }).thread.id;
    await expect.poll(() => titleOf(threadId, user)).toBe(title);
    return threadId;
  }

  async function titleOf(threadId: string, user: string): Promise<string | undefined> {
    const { status, json } = await deployment().send({ type: 'threads.get_by_id', params: { thread_id: threadId } }, user);
    expect(status).toBe(200);
    return json.title;
  }

  async function itemsOf(threadId: string, user: string): Promise<ThreadItem[]> {
    const { json } = await deployment().send({ type: 'items.list', params: { thread_id: threadId, order: 'asc', limit: 100 } }, user);
    return json.data;
  }

  /** A conversation in which the assistant asked to rename other conversations, waiting for the user. */
  async function askedToRename(user: string, renames: Array<{ threadId: string; title: string; callId: string }>) {
    const d = deployment();
    const here = await conversation(user, 'Tidying up');
    d.model.enqueue({ functionCalls: renames.map(({ threadId, title, callId }) => ({ name: 'rename_conversation', arguments: JSON.stringify({ thread_id: threadId, title }), call_id: callId })) });
    const { status, events } = await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('Rename my trip conversation') } }, user);
    expect(status).toBe(200);
    const widget = doneItems(events).at(-1)!;
    expect(widget.type).toBe('widget');
    return { here, widget, events };
  }

  const click = (threadId: string, itemId: string, type: 'approval.approve' | 'approval.deny', user: string, callId?: string, options?: { stopWhen?: (events: ThreadStreamEvent[]) => boolean }) =>
    deployment().send({ type: 'threads.custom_action', params: { thread_id: threadId, item_id: itemId, action: { type, payload: callId ? { call_id: callId } : {} } } }, user, options);

  it('asks first: the turn ends with the confirmation widget, its task waiting, and nothing renamed', async () => {
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { widget, events } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    const workflow = doneItems(events).find((item) => item.type === 'workflow');
    expect(workflow).toMatchObject({ workflow: { tasks: [{ status_indicator: 'none', content: 'Waiting for approval' }] } });
    expect(JSON.stringify(widget)).toContain('New title: Lisbon trip');
    expect(widget).toMatchObject({ widget: { confirm: { label: 'Approve', action: { type: 'approval.approve', payload: {} } }, cancel: { label: 'Deny' } } });
    expect(await titleOf(trip, user)).toBe('Trip planning');
  });

  it('approved: the conversation is renamed, the answer streams, and the widget says who approved it and when', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    d.model.enqueue({ text: 'Renamed it to Lisbon trip.' });
    const { status, events } = await click(here, widget.id, 'approval.approve', user);
    expect(status).toBe(200);
    expect(answerText(events)).toBe('Renamed it to Lisbon trip.');
    expect(JSON.stringify(replacedWidget(events)!.widget)).toContain(`Approved by ${user} at `);
    expect(await titleOf(trip, user)).toBe('Lisbon trip');
    expect(lastModelInput(d)).toContain(`The conversation ${trip} is now titled`);
    const stored = (await itemsOf(here, user)).find((item) => item.id === widget.id);
    expect(stored).toEqual(replacedWidget(events));
  });

  it('denied: nothing is renamed; the model receives the denial and answers', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    d.model.enqueue({ text: 'I left it as it was.' });
    const { status, events } = await click(here, widget.id, 'approval.deny', user);
    expect(status).toBe(200);
    expect(answerText(events)).toBe('I left it as it was.');
    expect(JSON.stringify(replacedWidget(events)!.widget)).toContain(`Denied by ${user} at `);
    expect(lastModelInput(d)).toContain('The user denied this action');
    expect(await titleOf(trip, user)).toBe('Trip planning');
  });

  it('a new message instead of a click: nothing is renamed, the model is told, and the message is answered', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    d.model.enqueue({ text: 'Fine, I will not rename it.' });
    const { status, events } = await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('No, leave it') } }, user);
    expect(status).toBe(200);
    expect(answerText(events)).toBe('Fine, I will not rename it.');
    expect(JSON.stringify(replacedWidget(events)!.widget)).toContain('a new message was sent instead');
    expect(lastModelInput(d)).toContain('sent a new message instead: it was not run');
    expect(await titleOf(trip, user)).toBe('Trip planning');
    const late = await click(here, widget.id, 'approval.approve', user);
    expect([late.status, late.json?.error?.code]).toEqual([409, 'not_pending']);
    expect(await titleOf(trip, user)).toBe('Trip planning');
  });

  it('a second click is a 409 that changes nothing', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    d.model.enqueue({ text: 'Renamed.' });
    expect((await click(here, widget.id, 'approval.approve', user)).status).toBe(200);
    const items = await itemsOf(here, user);
    const requests = streamed(d).length;
    for (const type of ['approval.approve', 'approval.deny'] as const) {
      const again = await click(here, widget.id, type, user);
      expect([again.status, again.json?.error?.code]).toEqual([409, 'not_pending']);
      expect(again.events).toEqual([]);
    }
    expect(await itemsOf(here, user)).toEqual(items);
    expect(streamed(d)).toHaveLength(requests);
  });

  it("another user's click is a 404 that changes nothing", async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    const intruder = await click(here, widget.id, 'approval.approve', newUser());
    expect([intruder.status, intruder.json?.error?.code]).toEqual([404, 'not_found']);
    expect(await titleOf(trip, user)).toBe('Trip planning');
    d.model.enqueue({ text: 'Renamed.' });
    expect((await click(here, widget.id, 'approval.approve', user)).status).toBe(200);
    expect(await titleOf(trip, user)).toBe('Lisbon trip');
  });

  it('two approvals in one turn, answered one by one: the approved one runs at once, the model answers after the last', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const recipes = await conversation(user, 'Recipes');
    const { here, widget } = await askedToRename(user, [
      { threadId: trip, title: 'Lisbon trip', callId: 'call_trip' },
      { threadId: recipes, title: 'Soups', callId: 'call_recipes' },
    ]);
    const requests = streamed(d).length;
    const first = await click(here, widget.id, 'approval.approve', user, 'call_trip');
    expect(first.status).toBe(200);
    expect(await titleOf(trip, user)).toBe('Lisbon trip');
    expect(await titleOf(recipes, user)).toBe('Recipes');
    expect(streamed(d)).toHaveLength(requests);
    d.model.enqueue({ text: 'Renamed the trip, kept the recipes.' });
    const second = await click(here, widget.id, 'approval.deny', user, 'call_recipes');
    expect(answerText(second.events)).toBe('Renamed the trip, kept the recipes.');
    expect(await titleOf(recipes, user)).toBe('Recipes');
    const shown = JSON.stringify(replacedWidget(second.events)!.widget);
    expect(shown).toContain('Approved by');
    expect(shown).toContain('Denied by');
  });

  const rename = { text: ['Let', ' me', ' rename', ' that', ' for', ' you.'], deltaDelayMs: 150 };
  const leavesAtFirstWords = (events: ThreadStreamEvent[]) => events.some((e) => e.type === 'thread.item.updated' && e.update.type === 'assistant_message.content_part.text_delta');

  it('the client leaves before the turn pauses: where the server sees it, nothing waits and nothing is renamed; where it does not, the card waits for the next visit', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const here = await conversation(user, 'Tidying up');
    d.model.enqueue({ ...rename, functionCall: { name: 'rename_conversation', arguments: JSON.stringify({ thread_id: trip, title: 'Lisbon trip' }), call_id: 'call_trip' } });
    await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('Rename it') } }, user, { stopWhen: leavesAtFirstWords });
    if (d.seesClientLeave) {
      d.model.enqueue({ text: 'Still here.' });
      await expect.poll(async () => (await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('Hello?') } }, user)).status).toBe(200);
      expect((await itemsOf(here, user)).some((item) => item.type === 'widget')).toBe(false);
      expect(await titleOf(trip, user)).toBe('Trip planning');
    } else {
      // On Lambda the turn ran to its end (its invocation with it): the reloaded thread shows the card, which still answers.
      const widget = (await itemsOf(here, user)).find((item) => item.type === 'widget');
      expect(widget).toBeDefined();
      expect(await titleOf(trip, user)).toBe('Trip planning');
      d.model.enqueue({ text: 'Renamed it.' });
      expect((await click(here, widget!.id, 'approval.approve', user)).status).toBe(200);
      expect(await titleOf(trip, user)).toBe('Lisbon trip');
    }
  });

  it('the client leaves while the approved turn answers: the rename stands, the thread is free, the approval spent', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    d.model.enqueue({ text: ['I', ' renamed', ' it', ' and', ' now', ' I', ' explain', ' at', ' length.'], deltaDelayMs: 150 });
    await click(here, widget.id, 'approval.approve', user, undefined, { stopWhen: leavesAtFirstWords });
    expect(await titleOf(trip, user)).toBe('Lisbon trip');
    d.model.enqueue({ text: 'Free.' });
    await expect.poll(async () => (await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('Done?') } }, user)).status).toBe(200);
    const again = await click(here, widget.id, 'approval.approve', user);
    expect([again.status, again.json?.error?.code]).toEqual([409, 'not_pending']);
    // Where the server is not told, the answer nobody waited for was written to its end.
    const answers = (await itemsOf(here, user)).filter((item) => item.type === 'assistant_message').map((item) => JSON.stringify(item));
    expect(answers.some((item) => item.includes('I renamed it and now I explain at length.'))).toBe(!d.seesClientLeave);
  });

  it('a pause outlives its instance: a freshly started one resumes it from the database alone', async () => {
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    await d.restart();
    const fresh = deployment();
    fresh.model.enqueue({ text: 'Renamed after the restart.' });
    const { status, events } = await click(here, widget.id, 'approval.approve', user);
    expect(status).toBe(200);
    expect(answerText(events)).toBe('Renamed after the restart.');
    expect(await titleOf(trip, user)).toBe('Lisbon trip');
  });

  it('expires after APPROVAL_EXPIRY_SECONDS: a click is a 409 that changes nothing; the next message tells the model', async () => {
    await deployment().restart({ APPROVAL_EXPIRY_SECONDS: '1' });
    const d = deployment();
    const user = newUser();
    const trip = await conversation(user, 'Trip planning');
    const { here, widget } = await askedToRename(user, [{ threadId: trip, title: 'Lisbon trip', callId: 'call_trip' }]);
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    const late = await click(here, widget.id, 'approval.approve', user);
    expect([late.status, late.json?.error?.code]).toEqual([409, 'expired']);
    expect(late.json.error.message).toMatch(/expired at .* and can no longer be answered/);
    expect(await titleOf(trip, user)).toBe('Trip planning');
    d.model.enqueue({ text: 'That request lapsed; ask me again.' });
    const { events } = await d.send({ type: 'threads.add_user_message', params: { thread_id: here, input: input('Did it happen?') } }, user);
    expect(JSON.stringify(replacedWidget(events)!.widget)).toContain('expired');
    expect(lastModelInput(d)).toContain('The request for approval expired without an answer');
    expect(await titleOf(trip, user)).toBe('Trip planning');
  });
}
