import { describe, expect, it } from 'vitest';
import type { ResponseInputItem } from 'openai/resources/responses/responses';
import type { ThreadItem } from '../../shared/protocol/index.js';
import { FILE_CHARS, inputChars, toModelInput, type HistoryConverter } from '../../shared/responder/model-input.js';

// What chatkit-python's default ThreadItemConverter produces for each item type, written out by
// hand from chatkit/agents.py, next to what ours produces for the same item.

const base = (id: string) => ({ id, thread_id: 'thr_1', created_at: '2026-01-01T00:00:00.000Z' });
const userText = (text: string) => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
const user = (text: string, extra: Partial<Extract<ThreadItem, { type: 'user_message' }>> = {}): ThreadItem => ({
  ...base(`msg_${text}`),
  type: 'user_message',
  content: [{ type: 'input_text', text }],
  attachments: [],
  inference_options: {},
  ...extra,
});

describe('history conversion, item type by item type (as the reference converts them)', async () => {
  it('user message: text as typed, tags as @name with their data as context, quoted text only on the message answered', async () => {
    const tagged = user('x', {
      content: [
        { type: 'input_text', text: 'Ask ' },
        { type: 'input_tag', id: 'u1', text: 'Ada', data: { email: 'ada@example.com' } },
        { type: 'input_text', text: ' and ' },
        { type: 'input_tag', id: 'u1', text: 'Ada', data: { email: 'ada@example.com' } },
      ],
      quoted_text: 'the plan',
    });
    const input = await toModelInput([tagged]);
    expect(input[0]).toEqual(userText('Ask @Ada and @Ada'));
    expect(input[1]).toEqual(userText('The user is referring to this in particular: \nthe plan'));
    expect(input[2]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: expect.stringContaining('# User-provided context for @-mentions') }, { type: 'input_text', text: '<Tag name="Ada" id="u1">{"email":"ada@example.com"}</Tag>' }] });
    expect(input).toHaveLength(3); // one tag context for the repeated tag

    // An earlier message's quote was answered already: not repeated.
    expect((await toModelInput([tagged, user('next')])).filter((item) => JSON.stringify(item).includes('referring to'))).toEqual([]);
  });

  it('user message with attachments: each is named, not dropped', async () => {
    const withFiles = user('see', {
      attachments: [
        { id: 'atc_1', type: 'file', name: 'a.pdf', mime_type: 'application/pdf' },
        { id: 'atc_2', type: 'image', name: 'cat.png', mime_type: 'image/png', preview_url: 'https://example.com/cat.png' },
      ],
    });
    const [message] = await toModelInput([withFiles]) as Array<{ content: Array<{ text: string }> }>;
    expect(message!.content.map((part) => part.text)).toEqual([
      'see',
      expect.stringContaining('a file "a.pdf" (application/pdf)'),
      expect.stringContaining('an image "cat.png" (image/png)'),
    ]);
  });

  it('an attachment named by several messages (or twice in one) goes to the model once, with the newest', async () => {
    const file = { id: 'atc_1', type: 'file' as const, name: 'notes.txt', mime_type: 'text/plain' };
    const contents = new Map([['atc_1', { type: 'input_text' as const, text: '<File>the notes</File>' }]]);
    const input = (await toModelInput([user('first', { attachments: [file, file] }), user('again', { attachments: [file] })], contents)) as Array<{ content: Array<{ text: string }> }>;
    expect(input.map((message) => message.content.map((part) => part.text))).toEqual([
      ['first', '[The user attached the file "notes.txt" (text/plain), which is attached again later in this conversation.]'],
      ['again', '<File>the notes</File>'],
    ]);
  });

  it('assistant message: output text back as the assistant; an empty one is left out', async () => {
    const answer: ThreadItem = { ...base('msg_a'), type: 'assistant_message', content: [{ type: 'output_text', text: 'Hi', annotations: [{ type: 'annotation', source: { type: 'url', url: 'https://x', title: 'x' } }] }] };
    expect(await toModelInput([answer])).toEqual([{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Hi', annotations: [] }] }]);
    expect(await toModelInput([{ ...answer, content: [] }])).toEqual([]);
  });

  it('client tool call: a completed call with its output; a pending (dangling) one is left out', async () => {
    const call: ThreadItem = { ...base('tc_1'), type: 'client_tool_call', status: 'completed', call_id: 'call_1', name: 'where', arguments: { precise: true }, output: { city: 'Oslo' } };
    expect(await toModelInput([call])).toEqual([
      { type: 'function_call', call_id: 'call_1', name: 'where', arguments: '{"precise":true}' },
      { type: 'function_call_output', call_id: 'call_1', output: '{"city":"Oslo"}' },
    ]);
    expect(await toModelInput([{ ...call, status: 'pending', output: undefined }])).toEqual([]);
  });

  it('widget: described with its JSON', async () => {
    const widget: ThreadItem = { ...base('wd_1'), type: 'widget', widget: { type: 'Card', children: [{ type: 'Text', value: 'Hi' }] } };
    expect(await toModelInput([widget])).toEqual([userText('The following graphical UI widget (id: wd_1) was displayed to the user:{"type":"Card","children":[{"type":"Text","value":"Hi"}]}')]);
  });

  it('workflow and task: custom tasks with a title or content, as performed tasks; other tasks are left out', async () => {
    const workflow: ThreadItem = {
      ...base('wf_1'),
      type: 'workflow',
      workflow: { type: 'custom', tasks: [{ type: 'custom', title: 'Searched', content: 'three files' }, { type: 'thought', content: 'hmm' }, { type: 'custom', title: 'Done' }, { type: 'custom' }] },
    };
    const performed = (text: string) => userText(`A message was displayed to the user that the following task was performed:\n<Task>\n${text}\n</Task>`);
    expect(await toModelInput([workflow])).toEqual([performed('Searched: three files'), performed('Done')]);
    expect(await toModelInput([{ ...base('tsk_1'), type: 'task', task: { type: 'custom', content: 'Booked' } }])).toEqual([performed('Booked')]);
    expect(await toModelInput([{ ...base('tsk_2'), type: 'task', task: { type: 'web_search', title: 'x' } }])).toEqual([]);
  });

  it('structured input: every question with its answer, skipped or unanswered', async () => {
    const item: ThreadItem = {
      ...base('si_1'),
      type: 'structured_input',
      status: 'answered',
      inputs: [
        { id: 'q1', type: 'multiple_choice', question: 'Size?', options: [{ value: 'S' }, { value: 'L' }], answer: { values: ['L'] } },
        { id: 'q2', type: 'freeform', question: 'Notes?', answer: { values: [], skipped: true } },
        { id: 'q3', type: 'freeform', question: 'Colour?' },
      ],
    };
    expect(await toModelInput([item])).toEqual([
      userText('A structured input request was displayed to the user with the following status: answered\n<StructuredInput>\n- Size?: L\n- Notes?: skipped\n- Colour?: unanswered\n</StructuredInput>'),
    ]);
  });

  it('generated image: the image as input after a note', async () => {
    const image: ThreadItem = { ...base('img_1'), type: 'generated_image', image: { id: 'ig_1', url: 'https://example.com/i.png' } };
    expect(await toModelInput([image])).toEqual([
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'The following image was generated by the agent.' }, { type: 'input_image', detail: 'auto', image_url: 'https://example.com/i.png' }] },
    ]);
    expect(await toModelInput([{ ...base('img_2'), type: 'generated_image' }])).toEqual([]);
  });

  it('hidden and SDK-hidden context: wrapped as hidden context for the agent; end of turn: nothing', async () => {
    const hidden = (content: string) => userText(`Hidden context for the agent (not shown to the user):\n<HiddenContext>\n${content}\n</HiddenContext>`);
    expect(await toModelInput([{ ...base('hcx'), type: 'hidden_context_item', content: 'plan: pro' }])).toEqual([hidden('plan: pro')]);
    expect(await toModelInput([{ ...base('hcx2'), type: 'hidden_context_item', content: { plan: 'pro' } }])).toEqual([hidden('{"plan":"pro"}')]);
    expect(await toModelInput([{ ...base('shcx'), type: 'sdk_hidden_context', content: 'cancelled' }])).toEqual([hidden('cancelled')]);
    expect(await toModelInput([{ ...base('eot'), type: 'end_of_turn' }])).toEqual([]);
  });
});

describe('the history bounded by size (maxChars)', () => {
  const answer = (text: string): ThreadItem => ({ ...base(`msg_a_${text}`), type: 'assistant_message', content: [{ type: 'output_text', text, annotations: [] }] });
  const call = (id: string, args: string, output: string): ThreadItem => ({
    ...base(`tc_${id}`),
    type: 'client_tool_call',
    status: 'completed',
    call_id: id,
    name: 'fetch',
    arguments: { args },
    output: { output },
  });
  const texts = (input: unknown[]) =>
    (input as Array<{ type?: string; content?: Array<{ text?: string }>; call_id?: string }>).map((item) => (item.content ? item.content.map((part) => part.text).join('') : `${item.type}:${item.call_id}`));
  const x = (n: number) => 'x'.repeat(n);

  it('counts what the model reads: text, arguments and output; an image or file at a flat FILE_CHARS; not the item structure', () => {
    expect(inputChars(userText(x(10)))).toBe(10);
    expect(inputChars({ type: 'function_call', call_id: 'call_1', name: 'fetch', arguments: '{"a":1}' })).toBe('fetch'.length + 7);
    expect(inputChars({ type: 'message', role: 'user', content: [{ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${x(1_000_000)}` }] })).toBe(FILE_CHARS);
    expect(inputChars({ type: 'message', role: 'user', content: [{ type: 'input_file', filename: 'a.pdf', file_url: 'https://example.com/a.pdf' }] })).toBe(FILE_CHARS);
  });

  it('leaves out the oldest items first, until the rest fits; unbounded without maxChars', async () => {
    const history = [user(`1${x(99)}`), answer(`a${x(99)}`), user(`2${x(99)}`), answer(`b${x(99)}`), user(`3${x(99)}`)];
    expect(await toModelInput(history)).toHaveLength(5);
    expect(texts(await toModelInput(history, undefined, undefined, { maxChars: 500 }))).toHaveLength(5);
    expect(texts(await toModelInput(history, undefined, undefined, { maxChars: 499 }))).toEqual([`a${x(99)}`, `2${x(99)}`, `b${x(99)}`, `3${x(99)}`]);
    expect(texts(await toModelInput(history, undefined, undefined, { maxChars: 300 }))).toEqual([`2${x(99)}`, `b${x(99)}`, `3${x(99)}`]);
  });

  it('always sends the message being answered whole, with its notes, whatever its size', async () => {
    const tagged = user('big', {
      content: [{ type: 'input_text', text: x(1000) }, { type: 'input_tag', id: 't1', text: 'Ada', data: {} }],
      quoted_text: 'the plan',
    });
    const input = await toModelInput([user('old'), answer('ok'), tagged], undefined, undefined, { maxChars: 10 });
    expect(texts(input)).toEqual([`${x(1000)}@Ada`, expect.stringContaining('the plan'), expect.stringContaining('@-mentions')]);
  });

  it('after a tool output the turn carries on from, sends from the message answered on (the call and its output with it)', async () => {
    const input = await toModelInput([user(`old${x(500)}`), answer('ok'), user('where am I?'), call('call_1', x(300), x(300))], undefined, undefined, { maxChars: 100 });
    expect(texts(input)).toEqual(['where am I?', 'function_call:call_1', 'function_call_output:call_1']);
  });

  it('leaves out a tool call and its output together, never the call alone', async () => {
    // The call (its name and arguments, 416) and its output (413): the output with what follows
    // would fit in 700, but not with its call; in 1,100 both fit.
    const history = [user(x(100)), call('call_1', x(400), x(400)), answer('done'), user(x(200))];
    expect(texts(await toModelInput(history, undefined, undefined, { maxChars: 700 }))).toEqual(['done', x(200)]);
    expect(texts(await toModelInput(history, undefined, undefined, { maxChars: 1100 }))).toEqual(['function_call:call_1', 'function_call_output:call_1', 'done', x(200)]);
  });

  it("keeps together what a team's conversion splits over several items: a call and its output, a reasoning item and what it preceded", async () => {
    // A team's conversion that replays tool runs as the model made them: reasoning, then the call in one item, its output in the next.
    const reasoning = { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: x(50) } as unknown as ResponseInputItem;
    const converter: HistoryConverter = {
      hidden_context_item: (item) => {
        const [kind, id] = String(item.content).split(':') as [string, string];
        if (kind === 'reasoning') return [reasoning];
        if (kind === 'call') return [{ type: 'function_call', call_id: id, name: 'fetch', arguments: x(300) }];
        return [{ type: 'function_call_output', call_id: id, output: x(300) }];
      },
    };
    const hidden = (content: string): ThreadItem => ({ ...base(`hcx_${content}`), type: 'hidden_context_item', content });
    const history = [user(x(100)), hidden('reasoning:rs_1'), hidden('call:call_1'), answer(x(100)), hidden('output:call_1'), answer('done'), user('next')];
    // From the answer between the call and its output, the rest fits in 500; but not with the call, nor the call without its reasoning (763 in all).
    expect(texts(await toModelInput(history, undefined, converter, { maxChars: 500 }))).toEqual(['done', 'next']);
    expect(texts(await toModelInput(history, undefined, converter, { maxChars: 800 }))).toEqual(['reasoning:undefined', 'function_call:call_1', x(100), 'function_call_output:call_1', 'done', 'next']);
  });

  it("counts an attachment's text where it is inlined, with the newest message naming it", async () => {
    const file = { id: 'atc_1', type: 'file' as const, name: 'notes.txt', mime_type: 'text/plain' };
    const contents = new Map([['atc_1', { type: 'input_text' as const, text: `<File>${x(1000)}</File>` }]]);
    const history = [user('first', { attachments: [file] }), answer('read'), user('again', { attachments: [file] }), answer('again read'), user('and now?')];
    // The file goes with "again": leaving out "first" (which only names it) is not enough.
    expect(texts(await toModelInput(history, contents, undefined, { maxChars: 1000 }))).toEqual(['again read', 'and now?']);
    expect(texts(await toModelInput(history, contents, undefined, { maxChars: 1100 }))).toEqual(['read', `again<File>${x(1000)}</File>`, 'again read', 'and now?']);
  });
});
