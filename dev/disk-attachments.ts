import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { BadRequestError } from '../shared/errors.js';
import type { Attachment } from '../shared/protocol/index.js';
import { isImageType, mediaType, type AttachmentStore, type UploadRequest } from '../shared/server/attachment-store.js';
import type { RequestContext } from '../shared/store/store.js';

// The dev server's attachment store: the same two-phase flow as S3, with the bytes on disk under
// DATA_DIR and the dev server itself taking uploads and serving previews at signed local URLs.

const UPLOAD_SECONDS = 15 * 60;
const VIEW_SECONDS = 60 * 60;

interface Grant {
  /** Where the bytes go (upload) or are (view), relative to the root. */
  path: string;
  op: 'upload' | 'view';
  expires: number;
  size?: number;
  type?: string;
}

interface DiskMetadata {
  path: string;
  size: number;
  attached: boolean;
}

export class DiskAttachmentStore implements AttachmentStore {
  constructor(
    private readonly root: string,
    private readonly secret: string,
    /** Where the dev server listens (known once it does). */
    private readonly baseUrl: () => string,
  ) {}

  async createAttachment(params: UploadRequest, id: string, ctx: RequestContext): Promise<Attachment> {
    const path = join('pending', ownerDir(ctx), id);
    const type = mediaType(params.mime_type);
    const metadata: DiskMetadata = { path, size: params.size, attached: false };
    const upload = this.url({ path, op: 'upload', expires: now() + UPLOAD_SECONDS, size: params.size, type });
    const base = { id, name: params.name, mime_type: params.mime_type, upload_descriptor: { url: upload, method: 'PUT' as const, headers: { 'content-type': type } }, metadata: { ...metadata } };
    return isImageType(type) ? { ...base, type: 'image', preview_url: this.url({ path, op: 'view', expires: now() + VIEW_SECONDS, type }) } : { ...base, type: 'file' };
  }

  async confirmUpload(attachment: Attachment): Promise<Attachment> {
    const metadata = diskMetadata(attachment);
    const attachedPath = metadata.path.replace(/^pending\//, 'attached/');
    if (!metadata.attached) {
      const size = await stat(join(this.root, metadata.path)).then((s) => s.size, () => null);
      if (size === null) throw new BadRequestError(`attachment ${attachment.id} was never uploaded`, 'attachment_not_uploaded');
      if (size !== metadata.size) throw new BadRequestError(`attachment ${attachment.id} has ${size} bytes, not the ${metadata.size} declared`, 'attachment_mismatch');
      await mkdir(dirname(join(this.root, attachedPath)), { recursive: true });
      await rename(join(this.root, metadata.path), join(this.root, attachedPath));
    }
    const { upload_descriptor: _uploaded, ...rest } = attachment;
    const confirmed = { ...rest, metadata: { ...attachment.metadata, path: attachedPath, attached: true } } as Attachment;
    return confirmed.type === 'image' ? { ...confirmed, preview_url: await this.previewUrl(confirmed) } : confirmed;
  }

  async previewUrl(attachment: Attachment): Promise<string> {
    return this.url({ path: diskMetadata(attachment).path, op: 'view', expires: now() + VIEW_SECONDS, type: mediaType(attachment.mime_type) });
  }

  async modelUrl(): Promise<string | null> {
    return null; // the model cannot reach a laptop: the bytes go inline
  }

  read(attachment: Attachment): Promise<Buffer> {
    return readFile(join(this.root, diskMetadata(attachment).path));
  }

  async deleteAttachment(attachment: Attachment): Promise<void> {
    const { path } = diskMetadata(attachment);
    await rm(join(this.root, path), { force: true });
    await rm(join(this.root, path.replace(/^pending\//, 'attached/')), { force: true });
  }

  /** The routes the signed URLs point at: PUT to upload, GET to view. */
  routes() {
    return new Hono()
      .put('/attachments/:token', async (c) => {
        const grant = this.verify(c.req.param('token'), 'upload');
        if (!grant) return c.json({ error: { code: 'forbidden', message: 'The upload URL is invalid or expired' } }, 403);
        if (mediaType(c.req.header('content-type') ?? '') !== grant.type) {
          return c.json({ error: { code: 'bad_request', message: `content-type must be ${grant.type}` } }, 400);
        }
        const bytes = Buffer.from(await c.req.arrayBuffer());
        if (bytes.length !== grant.size) return c.json({ error: { code: 'bad_request', message: `expected ${grant.size} bytes` } }, 400);
        const file = join(this.root, grant.path);
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, bytes);
        return c.body(null, 200);
      })
      .get('/attachments/:token', async (c) => {
        const grant = this.verify(c.req.param('token'), 'view');
        if (!grant) return c.json({ error: { code: 'forbidden', message: 'The URL is invalid or expired' } }, 403);
        // A preview made before the message was sent still points at the upload's first place.
        const read = (path: string) => readFile(join(this.root, path)).catch(() => null);
        const found = (await read(grant.path)) ?? (await read(grant.path.replace(/^pending\//, 'attached/')));
        if (!found) return c.json({ error: { code: 'not_found', message: 'No such file' } }, 404);
        return c.body(new Uint8Array(found), 200, { 'content-type': grant.type!, 'cache-control': 'private, max-age=300' });
      });
  }

  private url(grant: Grant): string {
    const payload = Buffer.from(JSON.stringify(grant)).toString('base64url');
    return `${this.baseUrl()}/attachments/${payload}.${this.sign(payload)}`;
  }

  private verify(token: string, op: Grant['op']): Grant | null {
    const [payload = '', signature = ''] = token.split('.');
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    const grant = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Grant;
    return grant.op === op && grant.expires >= now() ? grant : null;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

function diskMetadata(attachment: Attachment): DiskMetadata {
  const metadata = attachment.metadata as Partial<DiskMetadata> | undefined;
  if (!metadata?.path || typeof metadata.size !== 'number') throw new BadRequestError(`attachment ${attachment.id} has no stored upload`, 'attachment_not_uploaded');
  return metadata as DiskMetadata;
}

/** A user id as a directory name: any id, never a path. */
function ownerDir(ctx: RequestContext): string {
  return createHash('sha256').update(ctx.userId).digest('hex').slice(0, 32);
}

const now = () => Math.floor(Date.now() / 1000);
