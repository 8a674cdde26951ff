import { randomUUID } from 'node:crypto';
import type { Attachment, ThreadItem, ThreadMetadata } from '../../shared/protocol/index.js';

export const uid = (prefix: string) => `${prefix}_${randomUUID().replaceAll('-', '')}`;

export function thread(overrides: Partial<ThreadMetadata> = {}): ThreadMetadata {
  return {
    id: uid('thr'),
    created_at: new Date().toISOString(),
    status: { type: 'active' },
    metadata: {},
    ...overrides,
  };
}

export function userMessage(threadId: string, text: string, createdAt = new Date().toISOString()): ThreadItem {
  return {
    id: uid('msg'),
    thread_id: threadId,
    created_at: createdAt,
    type: 'user_message',
    content: [{ type: 'input_text', text }],
    attachments: [],
    inference_options: {},
  };
}

export function fileAttachment(overrides: Partial<Attachment> = {}): Attachment {
  return { id: uid('atc'), type: 'file', name: 'notes.txt', mime_type: 'text/plain', ...overrides } as Attachment;
}

/** One item of every type the protocol knows, each with its optional fields filled in. */
export function itemOfEveryType(threadId: string): ThreadItem[] {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 2, 3, 4, s, 567)).toISOString();
  const base = (prefix: string, s: number) => ({ id: uid(prefix), thread_id: threadId, created_at: at(s) });
  return [
    {
      ...base('msg', 1),
      type: 'user_message',
      content: [
        { type: 'input_text', text: 'Ünïcödé ✓ — 日本語 — emoji 🧪🐘 — "quotes" \\ backslash \n newline' },
        { type: 'input_tag', id: 'tag_1', text: '@Ada', data: { nested: { list: [1, 2.5, null, true] } }, group: 'people', interactive: true },
      ],
      attachments: [
        { id: uid('atc'), type: 'file', name: 'a.pdf', mime_type: 'application/pdf', thread_id: threadId },
        {
          id: uid('atc'),
          type: 'image',
          name: 'cat.jpg',
          mime_type: 'image/jpeg',
          preview_url: 'https://example.com/cat.jpg',
          upload_descriptor: { url: 'https://uploads.example.com/x', method: 'PUT', headers: { 'x-a': 'b' } },
        },
      ],
      quoted_text: 'quoted',
      inference_options: { tool_choice: { id: 'search' }, model: 'gpt-4.1-mini' },
    },
    {
      ...base('msg', 2),
      type: 'assistant_message',
      content: [
        {
          type: 'output_text',
          text: 'See [1] and [2].',
          annotations: [
            { type: 'annotation', source: { type: 'url', title: 'Neon', url: 'https://neon.tech', attribution: 'neon' }, index: 4 },
            { type: 'annotation', source: { type: 'file', title: 'Spec', filename: 'spec.md', description: 'd' } },
            { type: 'annotation', source: { type: 'entity', title: 'Ada', id: 'ent_1', data: { k: 'v' }, interactive: true } },
          ],
        },
        { type: 'output_text', text: 'Second part', annotations: [] },
      ],
    },
    {
      ...base('tc', 3),
      type: 'client_tool_call',
      status: 'completed',
      call_id: 'call_1',
      name: 'get_location',
      arguments: { precise: true, fields: ['lat', 'lng'] },
      output: { lat: 51.5, lng: -0.12 },
    },
    {
      ...base('wd', 4),
      type: 'widget',
      widget: {
        type: 'Card',
        size: 'md',
        children: [{ type: 'Text', id: 'txt', value: 'Hello', streaming: false }, { type: 'Button', label: 'Go', onClickAction: { type: 'go', payload: { n: 1 } } }],
      },
      copy_text: 'Hello',
    },
    { ...base('img', 5), type: 'generated_image', image: { id: 'img_1', url: 'https://example.com/i.png' } },
    {
      ...base('si', 6),
      type: 'structured_input',
      status: 'answered',
      inputs: [
        { id: 'q1', type: 'multiple_choice', question: 'Pick', options: [{ value: 'a' }, { value: 'b' }], multiple: true, answer: { values: ['a'], skipped: false } },
        { id: 'q2', type: 'freeform', question: 'Why?', description: 'explain' },
      ],
    },
    {
      ...base('wf', 7),
      type: 'workflow',
      workflow: {
        type: 'reasoning',
        expanded: true,
        summary: { duration: 12 },
        tasks: [
          { type: 'thought', title: 'Thinking', content: 'hmm', status_indicator: 'complete' },
          { type: 'web_search', title_query: 'neon', queries: ['neon pooler'], sources: [{ type: 'url', title: 'Neon', url: 'https://neon.tech' }] },
          { type: 'custom', title: 'Custom', icon: 'sparkle', content: 'c' },
          { type: 'file', sources: [{ type: 'file', title: 'F', filename: 'f.txt' }] },
          { type: 'image', title: 'Img' },
        ],
      },
    },
    { ...base('tsk', 8), type: 'task', task: { type: 'custom', title: 'Done', status_indicator: 'none' } },
    { ...base('eot', 9), type: 'end_of_turn' },
    { ...base('hcx', 10), type: 'hidden_context_item', content: { account: 'pro', limits: [1, 2] } },
    { ...base('shcx', 11), type: 'sdk_hidden_context', content: 'The user cancelled the stream.' },
  ];
}

/** A presigned S3 GET as the stack signs them (temporary credentials): what must never reach a log whole. */
export const PRESIGNED_SIGNATURE = '9f2c4be1d0a7c3e5b6f8a9d0c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0';
export const PRESIGNED_SESSION_TOKEN = 'IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJHMEUCIQD';
export const PRESIGNED_URL =
  'https://chatkit-attachments.s3.eu-west-1.amazonaws.com/attached/user-1/atc_1?X-Amz-Algorithm=AWS4-HMAC-SHA256' +
  `&X-Amz-Credential=ASIAEXAMPLEKEY%2F20261126%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20261126T101010Z&X-Amz-Expires=3600` +
  `&X-Amz-Security-Token=${encodeURIComponent(PRESIGNED_SESSION_TOKEN)}&X-Amz-SignedHeaders=host&X-Amz-Signature=${PRESIGNED_SIGNATURE}`;
