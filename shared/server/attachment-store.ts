import type { ResponseInputContent } from 'openai/resources/responses/responses';
import { BadRequestError } from '../errors.js';
import type { Attachment } from '../protocol/index.js';
import { describedAttachment } from '../responder/model-input.js';
import type { RequestContext, Store } from '../store/store.js';

/**
 * Where attachment bytes live, for ChatKit's two-phase upload: `attachments.create` returns an
 * upload descriptor the browser sends the bytes to; the message that carries the attachment
 * confirms the upload. The S3 store (functions/) and the dev disk store (dev/) implement it.
 */
export interface AttachmentStore {
  /** A new attachment with its upload descriptor (and, for an image, a preview URL). */
  createAttachment(params: UploadRequest, id: string, ctx: RequestContext): Promise<Attachment>;
  /**
   * Checks that the bytes arrived and match what was declared, and keeps them for good (until
   * the attachment or its thread is deleted). Idempotent. A missing or different upload is a 400.
   */
  confirmUpload(attachment: Attachment, ctx: RequestContext): Promise<Attachment>;
  /** A URL the client can show an image from, made fresh each time items are served. */
  previewUrl(attachment: Attachment): Promise<string>;
  /** A URL the model can fetch the bytes from, or null when it cannot reach this store (they go inline). */
  modelUrl(attachment: Attachment): Promise<string | null>;
  read(attachment: Attachment): Promise<Buffer>;
  deleteAttachment(attachment: Attachment, ctx: RequestContext): Promise<void>;
}

export interface UploadRequest {
  name: string;
  size: number;
  mime_type: string;
}

/** What may be uploaded: MIME types (`image/*` style wildcards allowed) and a size limit. */
export interface AttachmentPolicy {
  types: readonly string[];
  maxBytes: number;
}

/** Images the model can look at, PDFs it can read, and plain text. */
export const DEFAULT_ATTACHMENT_POLICY: AttachmentPolicy = {
  types: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'text/markdown', 'text/csv', 'application/json'],
  maxBytes: 20 * 1024 * 1024,
};

export function attachmentPolicyFromEnv(env: NodeJS.ProcessEnv): AttachmentPolicy {
  const types = (env.ATTACHMENT_TYPES ?? '').split(',').map((type) => type.trim().toLowerCase()).filter(Boolean);
  const maxBytes = env.ATTACHMENT_MAX_BYTES ? Number(env.ATTACHMENT_MAX_BYTES) : DEFAULT_ATTACHMENT_POLICY.maxBytes;
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new Error(`ATTACHMENT_MAX_BYTES must be a positive whole number, not "${env.ATTACHMENT_MAX_BYTES}"`);
  return { types: types.length ? types : DEFAULT_ATTACHMENT_POLICY.types, maxBytes };
}

/** Refuses an upload the policy does not allow, before anything is signed or stored. */
export function checkUpload(params: UploadRequest, policy: AttachmentPolicy): void {
  const type = mediaType(params.mime_type);
  if (!policy.types.some((allowed) => allowed === type || (allowed.endsWith('/*') && type.startsWith(allowed.slice(0, -1))))) {
    throw new BadRequestError(`mime_type: expected one of ${policy.types.join(', ')}`, 'attachment_type_not_allowed');
  }
  if (params.size > policy.maxBytes) {
    throw new BadRequestError(`size: at most ${policy.maxBytes} bytes`, 'attachment_too_large');
  }
  if (/[\u0000-\u001f/\\]/.test(params.name)) throw new BadRequestError('name: a file name without slashes or control characters', 'invalid_params');
}

/** `image/png; charset=…` → `image/png` */
export function mediaType(mimeType: string): string {
  return mimeType.split(';', 1)[0]!.trim().toLowerCase();
}

export function isImageType(mimeType: string): boolean {
  return ['image/png', 'image/jpeg', 'image/gif', 'image/webp'].includes(mediaType(mimeType));
}

/** The model reads at most this much of a text file. */
const MAX_TEXT_CHARS = 100_000;

/**
 * What the model gets for an attachment: an image as image input, a PDF as file input (by URL
 * where the model can reach the store, else inline), text inline; any other type is described.
 */
export async function attachmentContent(attachment: Attachment, store: AttachmentStore): Promise<ResponseInputContent> {
  const type = mediaType(attachment.mime_type);
  if (isImageType(type)) {
    const url = (await store.modelUrl(attachment)) ?? dataUrl(type, await store.read(attachment));
    return { type: 'input_image', detail: 'auto', image_url: url };
  }
  if (type === 'application/pdf') {
    const url = await store.modelUrl(attachment);
    return url ? { type: 'input_file', filename: attachment.name, file_url: url } : { type: 'input_file', filename: attachment.name, file_data: dataUrl(type, await store.read(attachment)) };
  }
  if (type.startsWith('text/') || type === 'application/json') {
    const text = (await store.read(attachment)).toString('utf8');
    const shown = text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}\n[… the rest of the file (${text.length - MAX_TEXT_CHARS} more characters) was left out]` : text;
    return { type: 'input_text', text: `<File name="${attachment.name}" type="${type}">\n${shown}\n</File>` };
  }
  return describedAttachment(attachment);
}

function dataUrl(type: string, bytes: Buffer): string {
  return `data:${type};base64,${bytes.toString('base64')}`;
}

/**
 * Deletes a thread, then the bytes of the attachments its messages carried. The rows go in the
 * delete's one statement; a file that cannot be removed is reported, never undeletes the thread.
 */
export async function deleteThreadAndFiles(
  store: Store,
  files: AttachmentStore | undefined,
  threadId: string,
  ctx: RequestContext,
  onError?: (message: string, error: unknown) => void,
): Promise<void> {
  const attachments = await store.deleteThread(threadId, ctx);
  if (!files) return;
  const results = await Promise.allSettled(attachments.map((attachment) => files.deleteAttachment(attachment, ctx)));
  for (const result of results) if (result.status === 'rejected') onError?.("could not delete an attachment's bytes", result.reason);
}
