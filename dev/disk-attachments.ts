import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { link, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { BadRequestError, NotFoundError } from '../shared/errors.js';
import type { Attachment } from '../shared/protocol/index.js';
import { isImageType, mediaType, type AttachmentStore, type ModelSource, type UploadRequest } from '../shared/server/attachment-store.js';
import type { RequestContext, Store } from '../shared/store/store.js';

// The dev server's attachment store: the same two-phase flow as S3, with the bytes on disk under
// DATA_DIR and the dev server itself taking uploads and serving previews at signed local URLs.
// Unlike a presigned S3 URL, a grant is checked against the attachment's row on every use: an
// upload URL takes one upload, and only while the attachment exists unsent; a preview URL serves
// only while it exists.

const UPLOAD_SECONDS = 15 * 60;
const VIEW_SECONDS = 60 * 60;

interface Grant {
  /** The attachment, and whose it is: each use looks its row up. */
  attachment: string;
  user: string;
  op: 'upload' | 'view';
  expires: number;
  size?: number;
  type?: string;
}

interface DiskMetadata {
  /** Where the bytes are, relative to the root: `pending/…` until a message keeps them under `attached/…`. */
  path: string;
  size: number;
}

/** Where an attachment stands, for its URLs. */
type State = 'awaiting upload' | 'uploaded' | 'sent' | 'gone';

/** The rows the grants are checked against. */
export type AttachmentRows = Pick<Store, 'loadAttachment'>;

export class DiskAttachmentStore implements AttachmentStore {
  constructor(
    private readonly root: string,
    private readonly secret: string,
    /** Where the dev server listens (known once it does). */
    private readonly baseUrl: () => string,
    private readonly rows: AttachmentRows,
  ) {}

  async createAttachment(params: UploadRequest, id: string, ctx: RequestContext): Promise<Attachment> {
    const path = join('pending', ownerDir(ctx), id);
    const type = mediaType(params.mime_type);
    const metadata: DiskMetadata = { path, size: params.size };
    const grant = { attachment: id, user: ctx.userId, type };
    const upload = this.url({ ...grant, op: 'upload', expires: now() + UPLOAD_SECONDS, size: params.size });
    const base = { id, name: params.name, mime_type: params.mime_type, upload_descriptor: { url: upload, method: 'PUT' as const, headers: { 'content-type': type } }, metadata: { ...metadata } };
    return isImageType(type) ? { ...base, type: 'image', preview_url: this.url({ ...grant, op: 'view', expires: now() + VIEW_SECONDS }) } : { ...base, type: 'file' };
  }

  async verifyUpload(attachment: Attachment, ctx: RequestContext): Promise<Attachment> {
    const metadata = diskMetadata(attachment);
    const size = await stat(join(this.root, metadata.path)).then((s) => s.size, () => null);
    if (size === null) throw new BadRequestError(`attachment ${attachment.id} was never uploaded`, 'attachment_not_uploaded');
    if (size !== metadata.size) throw new BadRequestError(`attachment ${attachment.id} has ${size} bytes, not the ${metadata.size} declared`, 'attachment_mismatch');
    const { upload_descriptor: _uploaded, ...rest } = attachment;
    const kept = { ...rest, metadata: { ...attachment.metadata, path: keptPath(metadata.path) } } as Attachment;
    return kept.type === 'image' ? { ...kept, preview_url: this.viewUrl(kept, ctx.userId) } : kept;
  }

  async attach(attachment: Attachment): Promise<void> {
    const { path } = diskMetadata(attachment);
    await mkdir(dirname(join(this.root, path)), { recursive: true });
    await rename(join(this.root, uploadPath(path)), join(this.root, path)).catch(async (error: NodeJS.ErrnoException) => {
      // Kept already (attach is idempotent).
      if (error.code !== 'ENOENT' || !(await exists(join(this.root, path)))) throw error;
    });
  }

  async previewUrl(attachment: Attachment, ctx: RequestContext): Promise<string> {
    return this.viewUrl(attachment, ctx.userId);
  }

  async modelSource(): Promise<ModelSource> {
    return 'inline'; // the model cannot reach a laptop
  }

  async size(attachment: Attachment): Promise<number | null> {
    const metadata = attachment.metadata as Partial<DiskMetadata> | undefined;
    return metadata?.path && typeof metadata.size === 'number' ? metadata.size : null;
  }

  async read(attachment: Attachment, maxBytes: number): Promise<Buffer | null> {
    const file = await this.openBytes(diskMetadata(attachment).path);
    if (!file) return null;
    try {
      const buffer = Buffer.alloc(Math.min(maxBytes, (await file.stat()).size));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await file.close();
    }
  }

  async deleteAttachment(attachment: Attachment): Promise<void> {
    const { path } = diskMetadata(attachment);
    await rm(join(this.root, uploadPath(path)), { force: true });
    await rm(join(this.root, keptPath(path)), { force: true });
  }

  /** The routes the signed URLs point at: PUT to upload, GET to view. */
  routes() {
    return new Hono()
      .put('/attachments/:token', async (c) => {
        const grant = this.verify(c.req.param('token'), 'upload');
        if (!grant) return refuse(c, 403, 'forbidden', 'The upload URL is invalid or expired');
        if (mediaType(c.req.header('content-type') ?? '') !== grant.type) return refuse(c, 400, 'bad_request', `content-type must be ${grant.type}`);
        const declared = c.req.header('content-length');
        if (declared !== undefined && Number(declared) > grant.size!) return refuse(c, 413, 'too_large', `expected ${grant.size} bytes`);
        if (declared !== undefined && Number(declared) !== grant.size) return refuse(c, 400, 'bad_request', `expected ${grant.size} bytes`);
        const row = await this.row(grant);
        const state = await this.state(row);
        if (state === 'gone') return refuse(c, 404, 'not_found', 'The attachment was deleted');
        if (state !== 'awaiting upload') return refuse(c, 409, 'already_uploaded', 'This upload URL was used already');

        const received = await this.receive(c.req.raw.body, grant.size!);
        if (received === 'too large') return refuse(c, 413, 'too_large', `expected ${grant.size} bytes`);
        if (received === 'incomplete') return refuse(c, 400, 'bad_request', `expected ${grant.size} bytes`);
        const path = join(this.root, diskMetadata(row!).path);
        try {
          await mkdir(dirname(path), { recursive: true });
          await link(received, path);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'EEXIST') return refuse(c, 409, 'already_uploaded', 'This upload URL was used already');
          throw error;
        } finally {
          await rm(received, { force: true });
        }
        // Deleted while the bytes arrived: they are not kept. (A delete removes the row, then the
        // files: one that comes after this look removes them itself.)
        if ((await this.state(await this.row(grant))) === 'gone') {
          await rm(path, { force: true });
          return refuse(c, 404, 'not_found', 'The attachment was deleted');
        }
        return c.body(null, 200);
      })
      .get('/attachments/:token', async (c) => {
        const grant = this.verify(c.req.param('token'), 'view');
        if (!grant) return refuse(c, 403, 'forbidden', 'The URL is invalid or expired');
        const row = await this.row(grant);
        const file = row && (await this.openBytes(diskMetadata(row).path));
        if (!file) return refuse(c, 404, 'not_found', 'No such file');
        const { size } = await file.stat();
        const stream = Readable.toWeb(file.createReadStream()) as ReadableStream<Uint8Array>;
        return c.body(stream, 200, { 'content-type': grant.type!, 'content-length': String(size), 'cache-control': 'private, max-age=300' });
      });
  }

  /**
   * The request body on disk in a file of its own, counted as it arrives: past `size` bytes it
   * stops reading (the transport then drains or drops the rest), so no upload costs more than its
   * grant. Returns the file, or why there is none.
   */
  private async receive(body: ReadableStream<Uint8Array> | null, size: number): Promise<string | 'too large' | 'incomplete'> {
    const temp = join(this.root, '.uploads', randomUUID());
    await mkdir(dirname(temp), { recursive: true });
    const file = await open(temp, 'wx');
    let received = 0;
    let outcome: 'too large' | 'incomplete' | undefined;
    try {
      const reader = body?.getReader();
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) break;
        received += chunk.value.byteLength;
        if (received > size) {
          reader!.releaseLock();
          outcome = 'too large';
          break;
        }
        await file.write(chunk.value);
      }
      if (!outcome && received !== size) outcome = 'incomplete';
    } catch {
      outcome = 'incomplete'; // the client went away
    } finally {
      await file.close();
    }
    if (outcome) await rm(temp, { force: true });
    return outcome ?? temp;
  }

  private async row(grant: Grant): Promise<Attachment | null> {
    return this.rows.loadAttachment(grant.attachment, { userId: grant.user }).catch((error: unknown) => {
      if (error instanceof NotFoundError) return null;
      throw error;
    });
  }

  private async state(row: Attachment | null): Promise<State> {
    if (!row) return 'gone';
    const { path } = diskMetadata(row);
    if (row.thread_id !== undefined || path.startsWith('attached/')) return 'sent';
    return (await exists(join(this.root, path))) ? 'uploaded' : 'awaiting upload';
  }

  /** The bytes at `path`, or where they were before or after a message kept them. */
  private async openBytes(path: string) {
    for (const candidate of [path, uploadPath(path), keptPath(path)]) {
      const file = await open(join(this.root, candidate), 'r').catch(() => null);
      if (file) return file;
    }
    return null;
  }

  private viewUrl(attachment: Attachment, user: string): string {
    return this.url({ attachment: attachment.id, user, op: 'view', expires: now() + VIEW_SECONDS, type: mediaType(attachment.mime_type) });
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
    return grant.op === op && grant.expires >= now() && typeof grant.attachment === 'string' ? grant : null;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

function refuse(c: Context, status: 400 | 403 | 404 | 409 | 413, code: string, message: string) {
  // An upload refused before all its body was read: the connection closes rather than take the rest.
  return c.json({ error: { code, message } }, status, c.req.method === 'PUT' ? { connection: 'close' } : {});
}

function diskMetadata(attachment: Attachment): DiskMetadata {
  const metadata = attachment.metadata as Partial<DiskMetadata> | undefined;
  if (!metadata?.path || typeof metadata.size !== 'number') throw new BadRequestError(`attachment ${attachment.id} has no stored upload`, 'attachment_not_uploaded');
  return metadata as DiskMetadata;
}

const uploadPath = (path: string) => path.replace(/^attached\//, 'pending/');
const keptPath = (path: string) => path.replace(/^pending\//, 'attached/');
const exists = (path: string) => stat(path).then(() => true, () => false);

/** A user id as a directory name: any id, never a path. */
function ownerDir(ctx: RequestContext): string {
  return createHash('sha256').update(ctx.userId).digest('hex').slice(0, 32);
}

const now = () => Math.floor(Date.now() / 1000);
