import type { ResponseInputContent } from 'openai/resources/responses/responses';
import type { Attachment, ThreadItem } from '../protocol/index.js';
import { describedAttachment, type AttachmentContents } from '../responder/model-input.js';
import { isImageType, mediaType, type AttachmentStore } from './attachment-store.js';

/** The model reads at most this much of a text file. */
export const MAX_TEXT_CHARS = 100_000;
/** The bytes read for it: one UTF-16 code unit is at most 3 bytes of UTF-8. */
export const MAX_TEXT_BYTES = MAX_TEXT_CHARS * 3;

/** What one attachment costs a turn, decided before anything is read. */
type Plan =
  | { kind: 'url'; content: ResponseInputContent }
  | { kind: 'text' | 'inline'; bytes: number; size: number }
  | { kind: 'named'; content: ResponseInputContent };

/**
 * What the model gets for the attachments of a turn's history, by id: each distinct attachment
 * once, whatever the number of references, in one bounded read at most. Reads are charged to a
 * budget of `maxTurnBytes`, newest message first, so the message being answered is served first;
 * an attachment past the budget is named instead. Images and PDFs go by URL where the model can
 * reach the store (found there first, nothing read here), else inline; text is read up to
 * MAX_TEXT_BYTES; a file whose bytes are gone is named as removed, so that the thread keeps working.
 */
export async function attachmentsForModel(history: readonly ThreadItem[], store: AttachmentStore, maxTurnBytes: number): Promise<AttachmentContents> {
  const newestFirst = new Map<string, Attachment>();
  for (let i = history.length - 1; i >= 0; i--) {
    const item = history[i]!;
    if (item.type === 'user_message') for (const attachment of item.attachments) if (!newestFirst.has(attachment.id)) newestFirst.set(attachment.id, attachment);
  }
  const attachments = [...newestFirst.values()];
  const plans = await Promise.all(attachments.map((attachment) => plan(attachment, store)));
  let left = maxTurnBytes;
  const charged = plans.map((planned, i): Plan => {
    if (planned.kind !== 'text' && planned.kind !== 'inline') return planned;
    if (planned.bytes > left) return { kind: 'named', content: leftOut(attachments[i]!, maxTurnBytes) };
    left -= planned.bytes;
    return planned;
  });
  const contents = await Promise.all(charged.map((planned, i) => content(attachments[i]!, planned, store)));
  return new Map(attachments.map((attachment, i) => [attachment.id, contents[i]!]));
}

async function plan(attachment: Attachment, store: AttachmentStore): Promise<Plan> {
  const type = mediaType(attachment.mime_type);
  const isText = type.startsWith('text/') || type === 'application/json';
  if (!isText && !isImageType(type) && type !== 'application/pdf') return { kind: 'named', content: describedAttachment(attachment) };
  if (!isText) {
    const source = await store.modelSource(attachment);
    if (source === 'gone') return { kind: 'named', content: removed(attachment) };
    if (source !== 'inline') {
      const url = source.url;
      return { kind: 'url', content: isImageType(type) ? { type: 'input_image', detail: 'auto', image_url: url } : { type: 'input_file', filename: attachment.name, file_url: url } };
    }
  }
  const size = await store.size(attachment);
  if (size === null) return { kind: 'named', content: describedAttachment(attachment) };
  return isText ? { kind: 'text', bytes: Math.min(size, MAX_TEXT_BYTES), size } : { kind: 'inline', bytes: size, size };
}

async function content(attachment: Attachment, planned: Plan, store: AttachmentStore): Promise<ResponseInputContent> {
  if (planned.kind === 'url' || planned.kind === 'named') return planned.content;
  const bytes = planned.bytes === 0 ? Buffer.alloc(0) : await store.read(attachment, planned.bytes);
  if (!bytes) return removed(attachment);
  const type = mediaType(attachment.mime_type);
  if (planned.kind === 'text') return textContent(attachment, type, bytes, planned.size);
  const data = `data:${type};base64,${bytes.toString('base64')}`;
  return isImageType(type) ? { type: 'input_image', detail: 'auto', image_url: data } : { type: 'input_file', filename: attachment.name, file_data: data };
}

function textContent(attachment: Attachment, type: string, bytes: Buffer, size: number): ResponseInputContent {
  // A range can end inside a character: `stream` holds an incomplete last one back.
  let text = new TextDecoder().decode(bytes, { stream: bytes.length < size });
  if (text.length > MAX_TEXT_CHARS) text = text.slice(0, /[\ud800-\udbff]/.test(text[MAX_TEXT_CHARS - 1]!) ? MAX_TEXT_CHARS - 1 : MAX_TEXT_CHARS);
  const rest = size - Buffer.byteLength(text);
  const shown = rest > 0 ? `${text}\n[… the rest of the file (${rest} more bytes) was left out]` : text;
  return { type: 'input_text', text: `<File name="${attachment.name}" type="${type}">\n${shown}\n</File>` };
}

function removed(attachment: Attachment): ResponseInputContent {
  return { type: 'input_text', text: `[The file "${attachment.name}" (${attachment.mime_type}) was removed; its content is no longer available.]` };
}

function leftOut(attachment: Attachment, maxTurnBytes: number): ResponseInputContent {
  return { type: 'input_text', text: `[The file "${attachment.name}" (${attachment.mime_type}) was left out: this turn's attachments may take at most ${maxTurnBytes} bytes.]` };
}
