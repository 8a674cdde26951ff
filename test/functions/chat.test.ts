import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../shared/db/connect.js';
import { PostgresStore } from '../../shared/store/postgres-store.js';
import { chatFunctionUnderShim } from '../support/chat-function.js';
import { emfLines } from '../support/emf.js';
import { uid } from '../support/fixtures.js';

// POST /chatkit through our `awslambda` shim, for what Lambda's own runtime client cannot show
// (test/functions/runtime-client.test.ts runs the built function under it): a response stream that
// breaks mid-answer, and what the turn's metrics then say. A client that goes away is not this:
// the runtime does not tell the function (aws/aws-lambda-nodejs-runtime-interface-client#145), and
// the turn runs on (runtime-client.test.ts shows it under the real runtime client).
const fn = chatFunctionUnderShim({ POWERTOOLS_SERVICE_NAME: 'chatkit-chat', POWERTOOLS_METRICS_DISABLED: 'false' });
let seedDb: Database;
let store: PostgresStore;
beforeAll(async () => {
  seedDb = await openDatabase({ url: fn.testDb.url });
  store = new PostgresStore(seedDb.db);
});
afterAll(() => seedDb?.close());

const input = (text: string) => ({ content: [{ type: 'input_text', text }], attachments: [], inference_options: {} });

describe('the chat function', () => {
  it('stops the turn and keeps what was said when the response stream breaks mid-answer (the runtime lost its connection), and counts it as TurnCancelled', async () => {
    const userId = uid('user');
    const written = emfLines();
    fn.model.enqueue({ text: ['Partial', ' answer', ' that', ' goes', ' on'], deltaDelayMs: 150 });
    const result = await fn.post(userId, { type: 'threads.create', params: { input: input('Go on') } }, {
      breakWhen: (body) => body.split('text_delta').length > 2, // after the second delta
    }).finally(() => written.restore());
    expect(result.broken).toBe(true);
    expect(written.metrics().find((m) => 'Turns' in m)).toMatchObject({ Turns: 1, TurnCancelled: 1, TurnTimedOut: 0 });
    const threads = await store.loadThreads({}, { userId });
    const items = (await store.loadThreadItems(threads.data[0]!.id, { order: 'asc', includeHidden: true }, { userId })).data;
    expect(items.map((i) => i.type)).toEqual(['user_message', 'assistant_message', 'sdk_hidden_context']);
    expect(items[1]).toMatchObject({ content: [{ text: 'Partial answer' }] });
    await new Promise((r) => setTimeout(r, 50));
    expect(fn.model.requests.filter((r) => r.body?.stream).at(-1)!.aborted).toBe(true);
  });
});
