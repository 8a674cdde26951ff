import type { ResponseInputContent, ResponseInputItem } from 'openai/resources/responses/responses';
import type { Annotation, Attachment, ItemOfType, Task, ThreadItem } from '../protocol/index.js';

// The one conversion of a thread's history into model input, shared by every responder (the
// Agents SDK takes the same items). It follows the reference's default conversion
// (chatkit-python's ThreadItemConverter) item type by item type; where the reference leaves the
// integrator to decide (tags, attachments, non-text hidden context) it says what there is in words.
// A team changes any of it through a HistoryConverter (the assistant's `history` option).

type Converted = ResponseInputItem[];
type Maybe<T> = T | Promise<T>;
type TagContent = Extract<ItemOfType<'user_message'>['content'][number], { type: 'input_tag' }>;

/** What the model gets for each attachment, by id; one not listed is described. */
export type AttachmentContents = ReadonlyMap<string, ResponseInputContent>;

/** One item type's conversion: what the model reads for the item. `standard()` is the default conversion, to wrap or fall back to. */
export type ItemConversion<T extends ThreadItem['type']> = (item: ItemOfType<T>, standard: () => Promise<Converted>) => Maybe<Converted>;

/**
 * The history conversion's seam (the reference's ThreadItemConverter overrides): any item type's
 * conversion, and the two parts of a user message that depend on the integration. What is not
 * given converts as the reference does.
 */
export type HistoryConverter = { [T in ThreadItem['type']]?: ItemConversion<T> } & {
  /** An attachment, as a content part of its message; `standard` is its content from the attachment store, or a note naming it. */
  attachment?: (attachment: Attachment, standard: ResponseInputContent) => Maybe<ResponseInputContent>;
  /** What an @-mention stands for, as a part of the context message that follows the user's; `standard` is its data as JSON in a `<Tag>`. */
  tag?: (tag: TagContent, standard: ResponseInputContent) => Maybe<ResponseInputContent>;
};

export interface ModelInputOptions {
  /** The most characters of history the input may carry (see `fitHistory`); default: no bound. */
  maxChars?: number | undefined;
}

/**
 * The thread as the model reads it. `history` ends with the message being answered. An attachment
 * named by several messages goes to the model once, with the newest of them; the others point to
 * it, so that what a turn sends does not grow with the number of times a file is named. With
 * `maxChars`, the oldest items are left out until the rest fits (`fitHistory`).
 */
export async function toModelInput(
  history: readonly ThreadItem[],
  attachments: AttachmentContents = new Map(),
  converter: HistoryConverter = {},
  options: ModelInputOptions = {},
): Promise<ResponseInputItem[]> {
  const last = history.at(-1);
  const newest = new Map<string, ThreadItem>();
  for (const item of history) if (item.type === 'user_message') for (const attachment of item.attachments) newest.set(attachment.id, item);
  const converted = await Promise.all(
    history.map((item) => {
      const standard = () => convert(item, item === last, { attachments, newest }, converter);
      const custom = converter[item.type] as ItemConversion<typeof item.type> | undefined;
      return custom ? custom(item as never, standard) : standard();
    }),
  );
  // What is always sent: the message being answered and what follows it (a tool's output the turn carries on from).
  const answered = history.findLastIndex((item) => item.type === 'user_message');
  return fitHistory(converted, answered >= 0 ? answered : history.length - 1, options.maxChars ?? Infinity);
}

/** What an image or a file costs, in characters (about 2,000 tokens): see `inputChars`. */
export const FILE_CHARS = 8_000;

/**
 * The model input of a history bounded by size: `units` are the history's items as converted
 * (one thread item's input items each, never split), oldest first. The oldest units are left
 * out until the rest is at most `maxChars` (`inputChars`); from `keptFrom` on, every unit is
 * sent whatever its size (the message being answered is bounded by MESSAGE_MAX_CHARS, its
 * attachments by their own limits). The input never begins where it would split what must go
 * together: a tool call from its output (a `function_call_output` without its call is refused
 * by the API, and so is a call without its output), a reasoning item from the item it preceded.
 */
export function fitHistory(units: readonly ResponseInputItem[][], keptFrom: number, maxChars: number): ResponseInputItem[] {
  if (maxChars === Infinity) return units.flat();
  const starts = possibleStarts(units);
  let rest = units.reduce((sum, unit) => sum + unit.reduce((n, item) => n + inputChars(item), 0), 0);
  // The first start whose rest fits; when none does, the last one before what is always sent.
  let from = 0;
  for (let i = 0; i <= Math.min(keptFrom, units.length - 1); i++) {
    if (starts[i]) {
      from = i;
      if (rest <= maxChars) break;
    }
    rest -= units[i]!.reduce((n, item) => n + inputChars(item), 0);
  }
  return units.slice(from).flat();
}

/** Whether the input may begin with each unit: not between a call and its output, nor right after a reasoning item. */
function possibleStarts(units: readonly ResponseInputItem[][]): boolean[] {
  const starts = units.map(() => true);
  const calls = new Map<string, number>();
  let previous: ResponseInputItem | undefined;
  units.forEach((unit, i) => {
    if (previous?.type === 'reasoning') starts[i] = false;
    for (const item of unit) {
      // Every kind of call (function, custom tool, computer, shell…) and its output share a call_id.
      const callId = (item as { call_id?: unknown }).call_id;
      if (typeof callId !== 'string' || !item.type) continue;
      if (!item.type.endsWith('_output')) calls.set(callId, i);
      else for (let j = (calls.get(callId) ?? i) + 1; j <= i; j++) starts[j] = false;
    }
    previous = unit.at(-1) ?? previous;
  });
  starts[0] = true;
  return starts;
}

// Strings that say what an item is rather than what it says.
const STRUCTURE = new Set(['type', 'role', 'status', 'id', 'call_id', 'detail', 'filename']);
// Strings that carry an image or a file, whose cost to the model is not their length.
const FILES = new Set(['image_url', 'file_data', 'file_url', 'file_id']);

/**
 * What an input item costs, in characters: every string it says (messages' text, attachments'
 * text, a call's name, arguments and output, notes), and FILE_CHARS for each image or file,
 * inline or by URL (an image costs the model from a few hundred to a few thousand tokens whatever
 * its encoding; a PDF, its text and an image of each page). About 4 characters make a token in
 * English prose, fewer in other scripts and in code.
 */
export function inputChars(value: unknown, key?: string): number {
  if (typeof value === 'string') return key !== undefined && FILES.has(key) ? FILE_CHARS : key !== undefined && STRUCTURE.has(key) ? 0 : value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + inputChars(item), 0);
  if (value && typeof value === 'object') return Object.entries(value).reduce((sum, [k, v]) => sum + inputChars(v, k), 0);
  return 0;
}

/** The attachments' contents, and the newest message naming each (the one that carries it). */
interface Files {
  attachments: AttachmentContents;
  newest: ReadonlyMap<string, ThreadItem>;
}

async function convert(item: ThreadItem, isLast: boolean, files: Files, converter: HistoryConverter): Promise<Converted> {
  switch (item.type) {
    case 'user_message':
      return userMessage(item, isLast, files, converter);
    case 'assistant_message':
      return assistantMessage(item);
    case 'client_tool_call':
      return clientToolCall(item);
    case 'widget':
      return [userNote(`The following graphical UI widget (id: ${item.id}) was displayed to the user:${JSON.stringify(item.widget)}`)];
    case 'workflow':
      return item.workflow.tasks.flatMap(taskNote);
    case 'task':
      return taskNote(item.task);
    case 'structured_input':
      return [structuredInput(item)];
    case 'generated_image':
      return item.image
        ? [
            {
              type: 'message',
              role: 'user',
              content: [
                { type: 'input_text', text: 'The following image was generated by the agent.' },
                { type: 'input_image', detail: 'auto', image_url: item.image.url },
              ],
            },
          ]
        : [];
    case 'hidden_context_item':
    case 'sdk_hidden_context':
      return [hiddenContext(typeof item.content === 'string' ? item.content : JSON.stringify(item.content))];
    case 'end_of_turn':
      return [];
  }
}

// The notes that follow the message they belong to (its quoted text, its tags).
const QUOTED_TEXT_NOTE = 'The user is referring to this in particular: \n';
const TAGS_NOTE =
  "# User-provided context for @-mentions\n- When referencing resolved entities, use their canonical names **without** '@'.\n- The '@' form appears only in user text and should not be echoed.";

/** Whether a user message's first text is a note this conversion put after a message (not what the user typed). */
export function isNoteAfterMessage(text: string): boolean {
  return text.startsWith(QUOTED_TEXT_NOTE) || text === TAGS_NOTE;
}

async function userMessage(item: ItemOfType<'user_message'>, isLast: boolean, { attachments, newest }: Files, converter: HistoryConverter): Promise<Converted> {
  // The text as typed, tags as @name; what the tags stand for follows as context.
  const text = item.content.map((part) => (part.type === 'input_tag' ? `@${part.text}` : part.text)).join('');
  const parts = await Promise.all(
    uniqueBy(item.attachments, (a) => a.id).map((a) => {
      const standard = newest.get(a.id) !== item ? namedAgainLater(a) : (attachments.get(a.id) ?? describedAttachment(a));
      return converter.attachment ? converter.attachment(a, standard) : standard;
    }),
  );
  const message: ResponseInputItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text }, ...parts] };
  const context: Converted = [];
  // Quoted text belongs to the message being answered; earlier quotes have been answered already.
  if (item.quoted_text && isLast) context.push(userNote(`${QUOTED_TEXT_NOTE}${item.quoted_text}`));
  const tags = uniqueBy(item.content.flatMap((part) => (part.type === 'input_tag' ? [part] : [])), (tag) => tag.text);
  if (tags.length) {
    const described = await Promise.all(
      tags.map((tag) => {
        const standard: ResponseInputContent = { type: 'input_text', text: `<Tag name="${tag.text}" id="${tag.id}">${JSON.stringify(tag.data)}</Tag>` };
        return converter.tag ? converter.tag(tag, standard) : standard;
      }),
    );
    context.push({
      type: 'message',
      role: 'user',
      content: [
        {
          type: 'input_text',
          text: TAGS_NOTE,
        },
        ...described,
      ],
    });
  }
  return [message, ...context];
}

/** An attachment the model cannot open (no store can give its content, or of a type it cannot take), named so that it is not silently dropped. */
export function describedAttachment(attachment: Attachment): ResponseInputContent {
  return { type: 'input_text', text: `[The user attached ${attachment.type === 'image' ? 'an image' : 'a file'} "${attachment.name}" (${attachment.mime_type}) that the assistant cannot open.]` };
}

function namedAgainLater(attachment: Attachment): ResponseInputContent {
  return { type: 'input_text', text: `[The user attached the file "${attachment.name}" (${attachment.mime_type}), which is attached again later in this conversation.]` };
}

function assistantMessage(item: ItemOfType<'assistant_message'>): Converted {
  if (!item.content.some((part) => part.text)) return [];
  // Earlier answers go back as the model's own output text (annotations are not sent back).
  return [
    {
      type: 'message',
      role: 'assistant',
      content: item.content.map((part) => ({ type: 'output_text', text: part.text, annotations: [] })),
    } as unknown as ResponseInputItem,
  ];
}

function clientToolCall(item: ItemOfType<'client_tool_call'>): Converted {
  // A call the client never answered cannot go to the model without its output: it is left out.
  if (item.status === 'pending') return [];
  return [
    { type: 'function_call', call_id: item.call_id, name: item.name, arguments: JSON.stringify(item.arguments) },
    { type: 'function_call_output', call_id: item.call_id, output: JSON.stringify(item.output ?? null) },
  ];
}

function taskNote(task: Task): Converted {
  if (task.type !== 'custom' || (!task.title && !task.content)) return [];
  const text = task.title && task.content ? `${task.title}: ${task.content}` : task.title || task.content;
  return [userNote(`A message was displayed to the user that the following task was performed:\n<Task>\n${text}\n</Task>`)];
}

function structuredInput(item: ItemOfType<'structured_input'>): ResponseInputItem {
  const lines = item.inputs.map(({ question, answer }) => {
    if (!answer) return `- ${question}: unanswered`;
    return answer.skipped ? `- ${question}: skipped` : `- ${question}: ${answer.values.join(', ')}`;
  });
  return userNote(`A structured input request was displayed to the user with the following status: ${item.status}\n<StructuredInput>\n${lines.join('\n')}\n</StructuredInput>`);
}

function hiddenContext(content: string): ResponseInputItem {
  return userNote(`Hidden context for the agent (not shown to the user):\n<HiddenContext>\n${content}\n</HiddenContext>`);
}

function userNote(text: string): ResponseInputItem {
  return { type: 'message', role: 'user', content: [{ type: 'input_text', text }] };
}

function uniqueBy<T>(values: T[], key: (value: T) => string): T[] {
  const seen = new Set<string>();
  return values.filter((value) => !seen.has(key(value)) && seen.add(key(value)));
}

/** A model annotation as ChatKit shows it; null for kinds ChatKit has no source for. */
export function toAnnotation(annotation: unknown): Annotation | null {
  const a = annotation as { type?: string; url?: string; title?: string; filename?: string; file_id?: string; index?: number; end_index?: number };
  if (a?.type === 'url_citation' && a.url) {
    return { type: 'annotation', source: { type: 'url', url: a.url, title: a.title ?? a.url }, ...(a.end_index !== undefined ? { index: a.end_index } : {}) };
  }
  if ((a?.type === 'file_citation' || a?.type === 'container_file_citation') && (a.filename || a.file_id)) {
    const filename = a.filename ?? a.file_id!;
    const index = a.type === 'file_citation' ? a.index : a.end_index;
    return { type: 'annotation', source: { type: 'file', filename, title: filename }, ...(index !== undefined ? { index } : {}) };
  }
  return null;
}
