import type * as S3 from '@aws-sdk/client-s3';
import type { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BadRequestError } from '../../shared/errors.js';
import type { Attachment } from '../../shared/protocol/index.js';
import { isImageType, mediaType, type AttachmentStore, type ModelSource, type UploadRequest } from '../../shared/server/attachment-store.js';
import type { RequestContext } from '../../shared/store/store.js';

/** How long the browser has to upload, and how long a preview or the model's link lasts. */
const UPLOAD_SECONDS = 15 * 60;
const VIEW_SECONDS = 60 * 60;

interface S3Metadata {
  key: string;
  size: number;
}

/**
 * Attachments in S3, uploaded straight from the browser with a presigned PUT whose signature
 * covers the declared type and size (S3 refuses anything else). Uploads land under `pending/`,
 * which a lifecycle rule empties after a day; once the message that carries one is stored it is
 * copied under `attached/` and its `pending/` twin removed. Keys sit under the user's id.
 */
export class S3AttachmentStore implements AttachmentStore {
  constructor(
    private readonly sdk: S3Sdk,
    private readonly s3: S3.S3Client,
    private readonly bucket: string,
  ) {}

  async createAttachment(params: UploadRequest, id: string, ctx: RequestContext): Promise<Attachment> {
    const key = `pending/${encodeURIComponent(ctx.userId)}/${id}`;
    const type = mediaType(params.mime_type);
    const put = new this.sdk.s3.PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: type, ContentLength: params.size });
    const url = await this.sdk.getSignedUrl(this.s3, put, { expiresIn: UPLOAD_SECONDS, signableHeaders: new Set(['content-type', 'content-length']) });
    const metadata: S3Metadata = { key, size: params.size };
    const base = { id, name: params.name, mime_type: params.mime_type, upload_descriptor: { url, method: 'PUT' as const, headers: { 'content-type': type } }, metadata: { ...metadata } };
    return isImageType(type) ? { ...base, type: 'image', preview_url: await this.signedGet(key) } : { ...base, type: 'file' };
  }

  async verifyUpload(attachment: Attachment): Promise<Attachment> {
    const { key, size } = s3Metadata(attachment);
    const head = await this.s3.send(new this.sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: key })).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
    if (!head) throw new BadRequestError(`attachment ${attachment.id} was never uploaded`, 'attachment_not_uploaded');
    if (head.ContentLength !== size || mediaType(head.ContentType ?? '') !== mediaType(attachment.mime_type)) {
      throw new BadRequestError(`attachment ${attachment.id} is not what was declared (${size} bytes of ${attachment.mime_type})`, 'attachment_mismatch');
    }
    const attachedKey = key.replace(/^pending\//, 'attached/');
    const { upload_descriptor: _uploaded, ...rest } = attachment;
    const kept = { ...rest, metadata: { ...attachment.metadata, key: attachedKey } } as Attachment;
    return kept.type === 'image' ? { ...kept, preview_url: await this.signedGet(attachedKey) } : kept;
  }

  async attach(attachment: Attachment): Promise<void> {
    const { key } = s3Metadata(attachment);
    const pending = key.replace(/^attached\//, 'pending/');
    if (pending === key) return;
    try {
      await this.s3.send(new this.sdk.s3.CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: `${this.bucket}/${encodeKey(pending)}` }));
    } catch (error) {
      // Kept already (a copy whose answer was lost, a retried request): nothing left to do.
      if (!isMissing(error) || !(await this.exists(key))) throw error;
      return;
    }
    await this.s3.send(new this.sdk.s3.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: pending }], Quiet: true } }));
  }

  previewUrl(attachment: Attachment): Promise<string> {
    return this.signedGet(s3Metadata(attachment).key);
  }

  /** A presigned GET, once a HEAD has found the object (one request): a URL the model cannot download fails its whole request. */
  async modelSource(attachment: Attachment): Promise<ModelSource> {
    const { key } = s3Metadata(attachment);
    return (await this.exists(key)) ? { url: await this.signedGet(key) } : 'gone';
  }

  async size(attachment: Attachment): Promise<number | null> {
    const metadata = attachment.metadata as Partial<S3Metadata> | undefined;
    return typeof metadata?.size === 'number' && metadata.key ? metadata.size : null;
  }

  async read(attachment: Attachment, maxBytes: number): Promise<Buffer | null> {
    const range = `bytes=0-${Math.max(0, maxBytes - 1)}`;
    try {
      const object = await this.s3.send(new this.sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: s3Metadata(attachment).key, Range: range }));
      return Buffer.from(await object.Body!.transformToByteArray());
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async deleteAttachment(attachment: Attachment): Promise<void> {
    const { key } = s3Metadata(attachment);
    const keys = [key.replace(/^attached\//, 'pending/'), key.replace(/^pending\//, 'attached/')];
    await this.s3.send(new this.sdk.s3.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
  }

  private async exists(key: string): Promise<boolean> {
    return this.s3.send(new this.sdk.s3.HeadObjectCommand({ Bucket: this.bucket, Key: key })).then(
      () => true,
      (error: unknown) => {
        if (isMissing(error)) return false;
        throw error;
      },
    );
  }

  private signedGet(key: string): Promise<string> {
    return this.sdk.getSignedUrl(this.s3, new this.sdk.s3.GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: VIEW_SECONDS });
  }
}

/** The AWS SDK parts the store uses (the Lambda runtime provides them). */
export interface S3Sdk {
  s3: typeof S3;
  getSignedUrl: typeof getSignedUrl;
}

/**
 * Loaded on first use, not at cold start: esbuild hoists a bundled module's static imports of
 * external packages to the top of the bundle, so only a dynamic import keeps the SDK off init.
 */
export async function loadS3Sdk(): Promise<S3Sdk> {
  const [s3, presigner] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/s3-request-presigner')]);
  return { s3, getSignedUrl: presigner.getSignedUrl };
}

/**
 * The client a presigner can use: the SDK's default flexible checksums would sign a checksum of
 * the empty body into a presigned PUT, which no real upload matches.
 */
/** How long one S3 request may wait to connect, then for its answer: a turn's reads never hang it. */
export const S3_CONNECT_TIMEOUT_MS = 2_000;
export const S3_REQUEST_TIMEOUT_MS = 5_000;

export function attachmentsS3Client(sdk: S3Sdk, options: S3.S3ClientConfig = {}): S3.S3Client {
  return new sdk.s3.S3Client({
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: S3_CONNECT_TIMEOUT_MS, requestTimeout: S3_REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...options,
  });
}

function s3Metadata(attachment: Attachment): S3Metadata {
  const metadata = attachment.metadata as Partial<S3Metadata> | undefined;
  if (!metadata?.key || typeof metadata.size !== 'number') throw new BadRequestError(`attachment ${attachment.id} has no stored upload`, 'attachment_not_uploaded');
  return metadata as S3Metadata;
}

const encodeKey = (key: string) => key.split('/').map(encodeURIComponent).join('/');

/**
 * Whether S3 says there is no such object: a 404, which S3 answers only to a role that may list
 * the bucket (the stack grants it, infra/attachments-bucket.ts). A 403 is never "not there": an
 * expired credential, a skewed clock or a missing grant must fail loudly, not tell the user their
 * file was never uploaded or tell the model it was removed.
 */
function isMissing(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const name = (error as { name?: string })?.name;
  return status === 404 || name === 'NotFound' || name === 'NoSuchKey';
}
