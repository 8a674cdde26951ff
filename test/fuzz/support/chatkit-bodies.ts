import fc from 'fast-check';
import { anyJson, anyText, largeText } from './text.js';
import { attachmentRef, itemRef, ref, threadRef } from './refs.js';

type Json = Record<string, unknown>;

// Now and then a large text: near and past the message limit, or more words than a search vector holds.
const messageText = fc.oneof({ weight: 30, arbitrary: anyText(200) }, { weight: 1, arbitrary: largeText });
const inputText = fc.record({ type: fc.constant('input_text'), text: messageText });
const inputTag = fc.record(
  {
    type: fc.constant('input_tag'),
    id: anyText(20),
    text: anyText(20),
    data: fc.dictionary(anyText(10), anyJson, { maxKeys: 3 }),
    group: anyText(10),
    interactive: fc.boolean(),
  },
  { requiredKeys: ['type', 'id', 'text', 'data'] },
);
const userInput = fc.record(
  {
    content: fc.array(fc.oneof({ weight: 3, arbitrary: inputText }, { weight: 1, arbitrary: inputTag }), { minLength: 1, maxLength: 3 }),
    attachments: fc.array(attachmentRef, { maxLength: 2 }),
    quoted_text: anyText(40),
    inference_options: fc.record({ tool_choice: fc.record({ id: anyText(10) }), model: anyText(10) }, { requiredKeys: [] }),
  },
  { requiredKeys: ['content'] },
);
const listParams = { limit: fc.integer({ min: 1, max: 150 }), order: fc.constantFrom('asc', 'desc'), after: itemRef };
const action = fc.oneof(
  fc.record({ type: anyText(20).filter((s) => s.length > 0), payload: anyJson }, { requiredKeys: ['type'] }),
  // An approval's click: the ids of a pending call, or anything in their place.
  fc.record(
    { type: fc.constantFrom('approval.approve', 'approval.deny'), payload: fc.oneof(fc.record({ call_id: fc.oneof(fc.constant('call_1'), anyText(20)) }, { requiredKeys: [] }), anyJson) },
    { requiredKeys: ['type'] },
  ),
);
const customAction = fc.record(
  { thread_id: threadRef, item_id: fc.constantFrom(ref('widget_item'), ref('user_item'), ref('other_item'), ref('other_widget')), action },
  { requiredKeys: ['thread_id', 'action'] },
);
const answers = fc.dictionary(
  fc.oneof(fc.constantFrom('q1', 'q2'), anyText(8)),
  fc.record({ values: fc.array(anyText(20), { maxLength: 3 }), skipped: fc.boolean() }, { requiredKeys: [] }),
  { maxKeys: 3 },
);

/** A valid `params` for every ChatKit request type (shared/protocol/requests.ts). */
export const PARAMS: Record<string, fc.Arbitrary<Json>> = {
  'threads.create': fc.record({ input: userInput }),
  'threads.add_user_message': fc.record({ thread_id: threadRef, input: userInput }),
  'threads.add_client_tool_output': fc.record({ thread_id: threadRef, result: anyJson }),
  'threads.add_structured_input': fc.record({
    thread_id: threadRef,
    item_id: fc.constantFrom(ref('input_item'), ref('tool_item'), ref('other_item')),
    input: fc.record({ status: fc.constantFrom('answered', 'skipped'), answers }, { requiredKeys: [] }),
  }),
  'threads.retry_after_item': fc.record({ thread_id: threadRef, item_id: fc.constantFrom(ref('user_item'), ref('assistant_item'), ref('other_item')) }),
  'threads.custom_action': customAction,
  'threads.get_by_id': fc.record({ thread_id: threadRef }),
  'threads.list': fc.record({ ...listParams, after: threadRef }, { requiredKeys: [] }),
  'items.list': fc.record({ thread_id: threadRef, ...listParams }, { requiredKeys: ['thread_id'] }),
  'threads.update': fc.record({ thread_id: threadRef, title: anyText(120) }),
  'threads.delete': fc.record({ thread_id: threadRef }),
  'items.feedback': fc.record({ thread_id: threadRef, item_ids: fc.array(itemRef, { minLength: 1, maxLength: 4 }), kind: fc.constantFrom('positive', 'negative') }),
  'attachments.create': fc.record({ name: anyText(40).filter((s) => s.length > 0), size: fc.nat(), mime_type: fc.constantFrom('image/png', 'text/plain', 'application/pdf', '\u0000/\ud800') }),
  'attachments.delete': fc.record({ attachment_id: attachmentRef }),
  'input.transcribe': fc.record({ audio_base64: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')), mime_type: fc.constantFrom('audio/webm', 'audio/ogg') }),
  'threads.sync_custom_action': customAction,
};
export const REQUEST_TYPES = Object.keys(PARAMS);

/** A valid request of the given type (or of any type). */
export function validRequest(types = REQUEST_TYPES): fc.Arbitrary<Json> {
  return fc.oneof(
    ...types.map((type) =>
      fc.record({ type: fc.constant(type), params: PARAMS[type]!, metadata: fc.dictionary(anyText(8), anyJson, { maxKeys: 2 }) }, { requiredKeys: ['type', 'params'] }),
    ),
  );
}
