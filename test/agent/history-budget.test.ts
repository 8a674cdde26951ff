import { Agent } from '@openai/agents-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { clientTool, stopAtClientToolCall, type AgentContext } from '../../shared/agent/index.js';
import { CONTEXT_TOO_LONG_MESSAGE } from '../../shared/server/index.js';
import { estimateInputTokens } from '../support/scripted-openai.js';
import { modelRequests } from './harness.js';
import { errors, input, lastDone, startAgentHttpHarness, threadIdOf, type AgentHttpHarness, type HttpUser, type Served } from './http-harness.js';

// A thread longer than the model's context window, over HTTP: the scripted model refuses an input
// over its (test-sized) window with the real 400 context_length_exceeded, as OpenAI does. The
// history is bounded by CHATKIT_HISTORY_MAX_CHARS: the oldest items go first, the message being
// answered is sent whole, and a tool call never goes without its output.
let h: AgentHttpHarness;
beforeAll(async () => {
  h = await startAgentHttpHarness();
});
afterEach(() => h.model.reset());
afterAll(() => h?.close());

/** A message of `chars` characters that says which it is. */
const long = (n: number, chars: number) => `[message ${n}] `.padEnd(chars, String.fromCharCode(97 + (n % 26)));
/** The texts of the user messages a model request carried, in order. */
const userTexts = (body: any): string[] =>
  (body.input as any[]).filter((item) => item.role === 'user').map((item) => (typeof item.content === 'string' ? item.content : item.content.map((part: any) => part.text ?? '').join('')));
/** The characters of text a model request's input carried. */
const textChars = (body: any): number =>
  (body.input as any[]).reduce((sum, item) => {
    if (item.type === 'function_call') return sum + item.arguments.length;
    if (item.type === 'function_call_output' || item.type === 'function_call_result') return sum + JSON.stringify(item.output).length;
    const content = typeof item.content === 'string' ? [{ text: item.content }] : (item.content ?? []);
    return sum + content.reduce((n: number, part: any) => n + (part.text?.length ?? 0), 0);
  }, 0);
/** What a request costs besides its input (instructions, tools), in the scripted model's estimate. */
const overhead = (body: any) => estimateInputTokens({ ...body, input: [] });
const lastRequest = () => modelRequests(h.model).at(-1)!.body;

async function say(served: Served, threadId: string | null, text: string, me: HttpUser) {
  const params = { input: input(text) };
  return threadId ? served.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, ...params } }, me) : served.stream({ type: 'threads.create', params }, me);
}

describe('a history longer than the context window', () => {
  it('still answers, turn after turn: the oldest messages are left out of the model input, the latest is sent whole', async () => {
    const served = await h.fromEnv({ CHATKIT_HISTORY_MAX_CHARS: '10000' });
    const me = await h.user();
    h.model.enqueue({ text: 'Answer 1.' });
    const first = await say(served, null, long(1, 3000), me);
    expect(errors(first)).toEqual([]);
    const threadId = threadIdOf(first);
    // Room for the instructions and tools, and 12,000 characters of input: less than six messages of 3,000.
    h.model.limitInput(overhead(lastRequest()) + 12_000 / 4);
    for (let n = 2; n <= 6; n++) {
      h.model.enqueue({ text: `Answer ${n}.` });
      const events = await say(served, threadId, long(n, 3000), me);
      expect(errors(events)).toEqual([]);
      expect(lastDone(events)).toMatchObject({ type: 'assistant_message', content: [{ text: `Answer ${n}.` }] });
    }
    const body = lastRequest();
    // Three messages of 3,000 and the answers between them fit in 10,000 characters; a fourth does not.
    expect(userTexts(body)).toEqual([long(4, 3000), long(5, 3000), long(6, 3000)]);
    expect(textChars(body)).toBeLessThanOrEqual(10_000);
    expect(body.input[0]).toMatchObject({ role: 'assistant' }); // "Answer 3." still fits
    // Nothing was lost: the thread keeps every message; only the model input is bounded.
    expect((await h.items(threadId, me)).filter((item) => item.type === 'user_message')).toHaveLength(6);
  });

  it('never sends a tool call without its output: the pair is left out together', async () => {
    const getPage = clientTool({ name: 'get_page', description: 'The page the user is on', parameters: z.object({ url: z.string() }) });
    const agent = new Agent<AgentContext>({ name: 'Reader', model: 'gpt-4.1-mini', instructions: 'Read.', tools: [getPage], toolUseBehavior: stopAtClientToolCall });
    const served = await h.withAgent({ agent }, { historyMaxChars: 5000 });
    const me = await h.user();
    const url = `https://example.com/${'u'.repeat(3000)}`;
    h.model.enqueue({ functionCall: { name: 'get_page', arguments: JSON.stringify({ url }), call_id: 'call_page' } });
    const first = await say(served, null, 'Read the page', me);
    const threadId = threadIdOf(first);
    expect(lastDone(first)).toMatchObject({ type: 'client_tool_call', status: 'pending', call_id: 'call_page' });
    h.model.enqueue({ text: 'Read it.' });
    const second = await served.stream({ type: 'threads.add_client_tool_output', params: { thread_id: threadId, result: { text: 'p'.repeat(3000) } } }, me);
    expect(errors(second)).toEqual([]);
    // The call (3,000 characters) and its output (3,000) together: over the budget with the next
    // message; the output alone with it would fit, but it never goes without its call.
    h.model.limitInput(overhead(lastRequest()) + 6_500 / 4);
    h.model.enqueue({ text: 'Answered.' });
    const third = await say(served, threadId, long(3, 1000), me);
    expect(errors(third)).toEqual([]);
    expect(lastDone(third)).toMatchObject({ type: 'assistant_message', content: [{ text: 'Answered.' }] });
    const body = lastRequest();
    expect(body.input.filter((item: any) => item.type === 'function_call' || item.type === 'function_call_output')).toEqual([]);
    expect(userTexts(body)).toEqual([long(3, 1000)]);
    expect(body.input[0]).toMatchObject({ role: 'assistant', content: [{ text: 'Read it.' }] });
  });

  describe.each(['http', 'event'] as const)('a history the estimate let through but the model refuses (as %s)', (as) => {
    it('is asked once more with the message answered alone, and answers', async () => {
      const served = await h.fromEnv({}); // the default bound: 400,000 characters, far more than this window
      const me = await h.user();
      h.model.enqueue({ text: 'Noted.' });
      const threadId = threadIdOf(await say(served, null, long(1, 3000), me));
      h.model.limitInput(overhead(lastRequest()) + 4_000 / 4, { as });
      h.model.enqueue({ text: 'Answered alone.' });
      const events = await say(served, threadId, long(2, 3000), me);
      expect(errors(events)).toEqual([]);
      expect(lastDone(events)).toMatchObject({ type: 'assistant_message', content: [{ text: 'Answered alone.' }] });
      expect(userTexts(lastRequest())).toEqual([long(2, 3000)]);
    });
  });

  describe.each(['http', 'event'] as const)('a latest message too long for the window by itself (refused as %s)', (as) => {
    it('ends the turn with one error that says so, with no retry; a shorter message then gets its answer', async () => {
      const served = await h.fromEnv({ CHATKIT_HISTORY_MAX_CHARS: '2000' });
      const me = await h.user();
      h.model.enqueue({ text: 'Hello.' });
      const threadId = threadIdOf(await say(served, null, 'Hi', me));
      h.model.limitInput(overhead(lastRequest()) + 3_000 / 4, { as });
      const before = modelRequests(h.model).length;
      const events = await say(served, threadId, long(2, 4000), me);
      // Refused, then refused again with the message alone: the user is told why, with no retry button.
      expect(modelRequests(h.model).length - before).toBe(2);
      expect(userTexts(lastRequest())).toEqual([long(2, 4000)]);
      expect(errors(events)).toEqual([{ type: 'error', code: 'custom', message: CONTEXT_TOO_LONG_MESSAGE, allow_retry: false }]);
      expect(h.logs.join('\n')).toContain('context_length_exceeded');
      // The thread is not dead: the next, shorter message is answered, the long one left out.
      h.model.enqueue({ text: 'Shorter is better.' });
      const next = await say(served, threadId, 'Sorry, in short: hello?', me);
      expect(errors(next)).toEqual([]);
      expect(lastDone(next)).toMatchObject({ type: 'assistant_message', content: [{ text: 'Shorter is better.' }] });
      expect(userTexts(lastRequest()).at(-1)).toBe('Sorry, in short: hello?');
      expect(userTexts(lastRequest())).not.toContain(long(2, 4000));
    });
  });
});
