import { describe, expect, it } from 'vitest';
import type { ThreadItem } from '../../shared/protocol/index.js';
import { toModelInput } from '../../shared/responder/model-input.js';

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
