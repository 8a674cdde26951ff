import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DiskAttachmentStore } from '../../dev/disk-attachments.js';
import type { Attachment, ThreadItem } from '../../shared/protocol/index.js';
import { attachmentsForModel, MAX_TEXT_BYTES, MAX_TEXT_CHARS } from '../../shared/server/attachment-input.js';
import { attachmentPolicyFromEnv, type AttachmentStore } from '../../shared/server/index.js';
import { uid, userMessage } from '../support/fixtures.js';

// What the model gets for a turn's attachments (shared/server/attachment-input.ts), over the dev
// disk store, whose reads are counted: the structure that keeps a turn's memory independent of how
// often a file is named — one bounded read per distinct attachment, within the turn's budget.

const root = mkdtempSync(join(tmpdir(), 'attachment-input-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const disk = new DiskAttachmentStore(root, 'secret', () => 'http://127.0.0.1:9', {
  loadAttachment: () => Promise.reject(new Error('no URL is used here')),
});
const reads: Array<{ id: string; maxBytes: number }> = [];
const files: AttachmentStore = Object.assign(Object.create(disk) as AttachmentStore, {
  read: (attachment: Attachment, maxBytes: number) => {
    reads.push({ id: attachment.id, maxBytes });
    return disk.read(attachment, maxBytes);
  },
});

/** A file kept on disk, as a message keeps it. */
function kept(name: string, mime_type: string, bytes: Buffer): Attachment {
  const id = uid('atc');
  const path = join('attached', 'owner', id);
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), bytes);
  return { id, type: mime_type.startsWith('image/') ? 'image' : 'file', name, mime_type, metadata: { path, size: bytes.length }, thread_id: 'thr' } as Attachment;
}
const message = (...attachments: Attachment[]) => ({ ...userMessage('thr', 'see'), attachments }) as ThreadItem;
const text = (content: unknown) => (content as { text: string }).text;

describe('attachments for the model', () => {
  it('reads a file named 20 times, across messages, once and only its first MAX_TEXT_BYTES', async () => {
    const big = kept('big.txt', 'text/plain', Buffer.alloc(8 * 1024 * 1024, 'x'));
    reads.length = 0;
    const contents = await attachmentsForModel(Array.from({ length: 20 }, () => message(big)), files, 32 * 1024 * 1024);
    expect(reads).toEqual([{ id: big.id, maxBytes: MAX_TEXT_BYTES }]);
    expect(text(contents.get(big.id))).toContain(`the rest of the file (${8 * 1024 * 1024 - MAX_TEXT_CHARS} more bytes) was left out`);
  });

  it('cuts text on a character boundary, and counts what is left out in bytes', async () => {
    const model = async (body: string) => {
      const file = kept('cut.txt', 'text/plain', Buffer.from(body));
      const shown = text((await attachmentsForModel([message(file)], files, 32 * 1024 * 1024)).get(file.id));
      return { inner: shown.slice(shown.indexOf('\n') + 1, shown.indexOf('\n[…')), shown };
    };
    // 3-byte characters: the range ends inside the 4-byte one after them, which is held back.
    const euros = '€'.repeat(MAX_TEXT_BYTES / 3 - 1) + '😀'.repeat(10);
    const cut = await model(euros);
    expect(cut.inner).toBe('€'.repeat(MAX_TEXT_BYTES / 3 - 1));
    expect(cut.shown).toContain(`(${Buffer.byteLength(euros) - (MAX_TEXT_BYTES - 3)} more bytes)`);
    // The character limit falls inside a surrogate pair: the pair is left out whole.
    const pair = await model(`${'a'.repeat(MAX_TEXT_CHARS - 1)}😀tail`);
    expect(pair.inner).toBe('a'.repeat(MAX_TEXT_CHARS - 1));
    expect(pair.shown).toContain('(8 more bytes)');
  });

  it('charges reads to the turn, newest message first; an image sent inline counts whole', async () => {
    const older = kept('older.png', 'image/png', Buffer.alloc(600, 1));
    const newer = kept('newer.png', 'image/png', Buffer.alloc(600, 2));
    const note = kept('note.txt', 'text/plain', Buffer.from('n'.repeat(300)));
    reads.length = 0;
    const contents = await attachmentsForModel([message(older), message(newer, note)], files, 1000);
    expect(reads.map((r) => r.id).sort()).toEqual([newer.id, note.id].sort());
    expect(contents.get(newer.id)).toEqual({ type: 'input_image', detail: 'auto', image_url: `data:image/png;base64,${Buffer.alloc(600, 2).toString('base64')}` });
    expect(text(contents.get(note.id))).toContain('n'.repeat(300));
    expect(text(contents.get(older.id))).toBe('[The file "older.png" (image/png) was left out: this turn\'s attachments may take at most 1000 bytes.]');
  });

  it('names a file whose bytes are gone as removed, and one never uploaded as one it cannot open', async () => {
    const gone = kept('gone.txt', 'text/plain', Buffer.from('bye'));
    rmSync(join(root, (gone.metadata as { path: string }).path));
    const never = { id: uid('atc'), type: 'file', name: 'never.txt', mime_type: 'text/plain' } as Attachment;
    const contents = await attachmentsForModel([message(gone, never)], files, 1000);
    expect(text(contents.get(gone.id))).toBe('[The file "gone.txt" (text/plain) was removed; its content is no longer available.]');
    expect(text(contents.get(never.id))).toContain('that the assistant cannot open');
  });
});

describe('the attachment policy from the environment', () => {
  it('reads ATTACHMENT_TURN_MAX_BYTES (default 32 MiB) and refuses what is not a positive whole number', () => {
    expect(attachmentPolicyFromEnv({}).maxTurnBytes).toBe(32 * 1024 * 1024);
    expect(attachmentPolicyFromEnv({ ATTACHMENT_TURN_MAX_BYTES: '1048576' }).maxTurnBytes).toBe(1048576);
    expect(() => attachmentPolicyFromEnv({ ATTACHMENT_TURN_MAX_BYTES: '1.5' })).toThrow('ATTACHMENT_TURN_MAX_BYTES must be a positive whole number');
    expect(() => attachmentPolicyFromEnv({ ATTACHMENT_MAX_BYTES: '0' })).toThrow('ATTACHMENT_MAX_BYTES must be a positive whole number');
  });
});
