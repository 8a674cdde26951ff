import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ThreadStreamEvent } from '../../shared/protocol/index.js';
import { CONTEXT_TOO_LONG_MESSAGE } from '../../shared/server/index.js';
import { doneItems, input, startChatKit, threadIdOf, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';
import { estimateInputTokens } from '../support/scripted-openai.js';

// The history bound (historyMaxChars) where the plain responder (OpenAIResponder) answers: the
// same conversion as the agent's, so the same bound; the scripted model refuses an input over its
// (test-sized) context window as OpenAI does.

let h: ChatKitHarness;
let user: User;
beforeAll(async () => {
  h = await startChatKit({ historyMaxChars: 2000 });
});
afterAll(() => h?.close());
beforeEach(() => {
  h.model.reset();
  user = { userId: uid('user') };
});

const errors = (events: ThreadStreamEvent[]) => events.filter((e) => e.type === 'error');
const lastRequest = () => h.model.requests.filter((r) => r.path === '/v1/responses' && r.body?.stream).at(-1)!.body;
const userTexts = (body: any): string[] => (body.input as any[]).filter((item) => item.role === 'user').map((item) => item.content.map((part: any) => part.text).join(''));
const say = async (threadId: string | null, text: string) =>
  h.stream(threadId ? { type: 'threads.add_user_message', params: { thread_id: threadId, input: input(text) } } : { type: 'threads.create', params: { input: input(text) } }, user);

describe('the plain responder, on a history longer than the context window', () => {
  it('answers: the oldest messages are left out, the latest goes whole', async () => {
    h.model.enqueue({ text: 'One.' });
    const threadId = threadIdOf(await say(null, `1${'a'.repeat(1499)}`));
    h.model.limitInput(estimateInputTokens({ ...lastRequest(), input: [] }) + 2_600 / 4);
    for (const n of [2, 3]) {
      h.model.enqueue({ text: `Answer ${n}.` });
      const events = await say(threadId, `${n}${'b'.repeat(1499)}`);
      expect(errors(events)).toEqual([]);
      expect(doneItems(events).at(-1)).toMatchObject({ type: 'assistant_message', content: [{ text: `Answer ${n}.` }] });
    }
    expect(userTexts(lastRequest())).toEqual([`3${'b'.repeat(1499)}`]);
  });

  it('a message too long by itself: refused with its history, then alone, and an error that says so, with no retry', async () => {
    h.model.enqueue({ text: 'Hi.' });
    const threadId = threadIdOf(await say(null, 'Hi'));
    h.model.limitInput(estimateInputTokens({ ...lastRequest(), input: [] }) + 1_000 / 4, { as: 'event' });
    const before = h.model.requests.length;
    const events = await say(threadId, 'c'.repeat(1500));
    expect(h.model.requests.length - before).toBe(2);
    expect(userTexts(lastRequest())).toEqual(['c'.repeat(1500)]);
    expect(errors(events)).toEqual([{ type: 'error', code: 'custom', message: CONTEXT_TOO_LONG_MESSAGE, allow_retry: false }]);
  });
});
