import { BadRequestError } from '../errors.js';
import type { Attachment } from '../protocol/index.js';
import type { RequestContext, Store } from '../store/store.js';

/**
 * Where attachment bytes live, for ChatKit's two-phase upload: `attachments.create` returns an
 * upload descriptor the browser sends the bytes to; the message that carries the attachment
 * confirms the upload — checked before the message is stored, kept for good only once it is
 * (`verifyUpload`, then `attach`). The S3 store (functions/) and the dev disk store (dev/)
 * implement it.
 */
export interface AttachmentStore {
  /** A new attachment with its upload descriptor (and, for an image, a preview URL). */
  createAttachment(params: UploadRequest, id: string, ctx: RequestContext): Promise<Attachment>;
  /**
   * Checks that the bytes arrived and match what was declared (a missing or different upload is
   * a 400) and returns the attachment as it is once `attach` has kept them. Changes nothing.
   */
  verifyUpload(attachment: Attachment, ctx: RequestContext): Promise<Attachment>;
  /**
   * Keeps the bytes of a verified attachment (as `verifyUpload` returned it) for good: until the
   * attachment or its thread is deleted. Idempotent. Called once the message carrying it is stored.
   */
  attach(attachment: Attachment, ctx: RequestContext): Promise<void>;
  /** A URL the client can show the caller's image from, made fresh each time items are served. */
  previewUrl(attachment: Attachment, ctx: RequestContext): Promise<string>;
  /**
   * Where the model gets the bytes: a URL it can fetch them from (checked to be there: the API
   * refuses a whole request over one URL it cannot download), `gone` when they are no longer
   * there, or `inline` when the model cannot reach this store (they are read and sent).
   */
  modelSource(attachment: Attachment): Promise<ModelSource>;
  /** The size of the stored bytes, or null when the attachment has none (never uploaded). */
  size(attachment: Attachment): Promise<number | null>;
  /** The first `maxBytes` bytes (at most), read with a bounded request; null when they are gone. */
  read(attachment: Attachment, maxBytes: number): Promise<Buffer | null>;
  /** Removes the bytes wherever they are (uploaded or kept). */
  deleteAttachment(attachment: Attachment, ctx: RequestContext): Promise<void>;
}

export type ModelSource = { url: string } | 'gone' | 'inline';

export interface UploadRequest {
  name: string;
  size: number;
  mime_type: string;
}

/** What may be uploaded: MIME types (`image/*` style wildcards allowed) and a size limit; and what a turn may read. */
export interface AttachmentPolicy {
  types: readonly string[];
  maxBytes: number;
  /**
   * The most attachment bytes one turn reads into memory for the model (text, and files sent
   * inline when the model cannot reach the store), newest message first; past it a file is
   * named, not read. Default 32 MiB.
   */
  maxTurnBytes?: number | undefined;
}

/** Images the model can look at, PDFs it can read, and plain text. */
export const DEFAULT_ATTACHMENT_POLICY = {
  types: ['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf', 'text/plain', 'text/markdown', 'text/csv', 'application/json'],
  maxBytes: 20 * 1024 * 1024,
  maxTurnBytes: 32 * 1024 * 1024,
} as const satisfies Required<AttachmentPolicy>;

export function attachmentPolicyFromEnv(env: NodeJS.ProcessEnv): Required<AttachmentPolicy> {
  const types = (env.ATTACHMENT_TYPES ?? '').split(',').map((type) => type.trim().toLowerCase()).filter(Boolean);
  return {
    types: types.length ? types : DEFAULT_ATTACHMENT_POLICY.types,
    maxBytes: bytesSetting(env, 'ATTACHMENT_MAX_BYTES', DEFAULT_ATTACHMENT_POLICY.maxBytes),
    maxTurnBytes: bytesSetting(env, 'ATTACHMENT_TURN_MAX_BYTES', DEFAULT_ATTACHMENT_POLICY.maxTurnBytes),
  };
}

function bytesSetting(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = env[name];
  if (!value) return fallback;
  const bytes = Number(value);
  if (!Number.isInteger(bytes) || bytes < 1) throw new Error(`${name} must be a positive whole number, not "${value}"`);
  return bytes;
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
  await deleteFiles(files, attachments, ctx, onError);
}

/** Removes the bytes of attachments whose rows are gone; a file that cannot be removed is reported. */
export async function deleteFiles(
  files: AttachmentStore,
  attachments: readonly Attachment[],
  ctx: RequestContext,
  onError?: (message: string, error: unknown) => void,
): Promise<void> {
  const results = await Promise.allSettled(attachments.map((attachment) => files.deleteAttachment(attachment, ctx)));
  for (const result of results) if (result.status === 'rejected') onError?.("could not delete an attachment's bytes", result.reason);
}
