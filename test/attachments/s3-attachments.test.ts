import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Attachment, ThreadItem } from '../../shared/protocol/index.js';
import { input, startChatKit, threadIdOf, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid } from '../support/fixtures.js';
import { startS3 } from '../support/s3.js';

// The two-phase upload against a real S3-compatible server (s3rver): create, upload with the
// presigned request exactly as a browser sends it, send the message, the model receives the file,
// and deleting the thread removes the object.

let s3: Awaited<ReturnType<typeof startS3>>;
let h: ChatKitHarness;
let user: User;

beforeAll(async () => {
  s3 = await startS3();
  h = await startChatKit({ attachments: s3.store, attachmentPolicy: { types: ['image/*', 'application/pdf', 'text/plain'], maxBytes: 1024 * 1024 } });
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});
beforeEach(() => {
  user = { userId: `user|${uid('u')}` }; // ids from identity providers carry such characters
});

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201a3d4e0c70000000049454e44ae426082', 'hex');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');

async function create(name: string, mime_type: string, size: number): Promise<Attachment & { upload_descriptor: { url: string; method: string; headers: Record<string, string> } }> {
  return h.json({ type: 'attachments.create', params: { name, mime_type, size } }, user);
}
/** What the browser does with the upload descriptor. */
async function upload(attachment: Awaited<ReturnType<typeof create>>, bytes: Buffer) {
  const { url, method, headers } = attachment.upload_descriptor;
  const response = await fetch(url, { method, headers, body: new Uint8Array(bytes) });
  expect(response.status, await response.text()).toBe(200);
}
const keys = async () => ((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key!);

describe('attachments on S3', () => {
  it('create → upload → message: the model receives the image and the PDF; previews are fresh on every read; delete removes the objects', async () => {
    const image = await create('cat.png', 'image/png', PNG.length);
    const pdf = await create('report.pdf', 'application/pdf', PDF.length);
    expect(image).toMatchObject({ type: 'image', name: 'cat.png', upload_descriptor: { method: 'PUT', headers: { 'content-type': 'image/png' } }, preview_url: expect.stringContaining('X-Amz-Signature') });
    expect(image).not.toHaveProperty('metadata');
    // The signature covers the declared type and size: S3 refuses any other upload.
    const signed = new URL(image.upload_descriptor.url).searchParams.get('X-Amz-SignedHeaders');
    expect(signed?.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
    expect(new URL(image.upload_descriptor.url).searchParams.has('x-amz-checksum-crc32')).toBe(false);
    expect(new URL(image.upload_descriptor.url).pathname).toContain(encodeURIComponent(encodeURIComponent(user.userId)));
    await upload(image, PNG);
    await upload(pdf, PDF);

    h.model.enqueue({ text: 'A cat and a report.' });
    const events = await h.stream({ type: 'threads.create', params: { input: { ...input('What are these?'), attachments: [image.id, pdf.id] } } }, user);
    const threadId = threadIdOf(events);
    const sent = h.model.requests.filter((r) => r.body?.stream).at(-1)!.body.input[0];
    const [text, imagePart, filePart] = sent.content;
    expect(text).toEqual({ type: 'input_text', text: 'What are these?' });
    expect(imagePart).toMatchObject({ type: 'input_image', image_url: expect.stringContaining('/attached/') });
    expect(filePart).toMatchObject({ type: 'input_file', filename: 'report.pdf', file_url: expect.stringContaining('/attached/') });
    // The model's links really give the bytes.
    expect(Buffer.from(await (await fetch(imagePart.image_url)).arrayBuffer())).toEqual(PNG);
    expect(Buffer.from(await (await fetch(filePart.file_url)).arrayBuffer())).toEqual(PDF);
    expect((await keys()).every((key) => key.startsWith('attached/'))).toBe(true);

    // Stored once without its upload descriptor; the preview is signed anew on every read.
    const first = await h.json({ type: 'threads.get_by_id', params: { thread_id: threadId } }, user);
    await new Promise((r) => setTimeout(r, 1100)); // signatures carry the time to the second
    const second = await h.json({ type: 'items.list', params: { thread_id: threadId, order: 'asc' } }, user);
    const previewOf = (items: ThreadItem[]) => (items[0] as { attachments: Array<{ preview_url?: string; upload_descriptor?: unknown }> }).attachments[0]!;
    expect(previewOf(first.items.data).upload_descriptor).toBeUndefined();
    expect(previewOf(first.items.data).preview_url).not.toBe(previewOf(second.data).preview_url);
    expect(Buffer.from(await (await fetch(previewOf(second.data).preview_url!)).arrayBuffer())).toEqual(PNG);

    expect(await h.json({ type: 'threads.delete', params: { thread_id: threadId } }, user)).toEqual({});
    expect(await keys()).toEqual([]);
    await expect(h.store.loadAttachment(image.id, user)).rejects.toMatchObject({ status: 404 });
  });

  it('gives the model a text file inline', async () => {
    const notes = Buffer.from('Meeting notes: ship on Friday.');
    const file = await create('notes.txt', 'text/plain', notes.length);
    await upload(file, notes);
    h.model.enqueue({ text: 'Friday.' });
    await h.stream({ type: 'threads.create', params: { input: { ...input('When do we ship?'), attachments: [file.id] } } }, user);
    const sent = h.model.requests.filter((r) => r.body?.stream).at(-1)!.body.input[0];
    expect(sent.content[1]).toEqual({ type: 'input_text', text: '<File name="notes.txt" type="text/plain">\nMeeting notes: ship on Friday.\n</File>' });
  });

  it('refuses a type or size the policy does not allow, before anything is signed', async () => {
    const before = await keys();
    await expect(create('a.exe', 'application/x-msdownload', 10)).rejects.toMatchObject({ status: 400, code: 'attachment_type_not_allowed' });
    await expect(create('big.png', 'image/png', 2 * 1024 * 1024)).rejects.toMatchObject({ status: 400, code: 'attachment_too_large' });
    await expect(create('../../etc/passwd', 'text/plain', 1)).rejects.toMatchObject({ status: 400 });
    expect(await keys()).toEqual(before);
  });

  it('refuses a message with an attachment never uploaded, or not what was declared; nothing is written', async () => {
    const never = await create('never.png', 'image/png', PNG.length);
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [never.id] } } }, user)).rejects.toMatchObject({ status: 400, code: 'attachment_not_uploaded' });
    const liar = await create('liar.png', 'image/png', 10);
    // s3rver does not check the signed size as S3 does, so the server's own check is what stops it.
    await fetch(liar.upload_descriptor.url, { method: 'PUT', headers: liar.upload_descriptor.headers, body: new Uint8Array(PNG) });
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [liar.id] } } }, user)).rejects.toMatchObject({ status: 400, code: 'attachment_mismatch' });
    expect((await h.store.loadThreads({}, user)).data).toEqual([]);
  });

  it("treats another user's attachment as not found, in a message and in a delete", async () => {
    const mine = await create('cat.png', 'image/png', PNG.length);
    await upload(mine, PNG);
    const intruder = { userId: uid('intruder') };
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [mine.id] } } }, intruder)).rejects.toMatchObject({ status: 404 });
    await expect(h.call({ type: 'attachments.delete', params: { attachment_id: mine.id } }, intruder)).rejects.toMatchObject({ status: 404 });
    expect(await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `pending/${encodeURIComponent(user.userId)}/${mine.id}` }))).toMatchObject({ ContentLength: PNG.length });
  });

  it('attachments.delete removes the object of an upload never sent', async () => {
    const unsent = await create('cat.png', 'image/png', PNG.length);
    await upload(unsent, PNG);
    expect(await h.json({ type: 'attachments.delete', params: { attachment_id: unsent.id } }, user)).toEqual({});
    expect((await keys()).filter((key) => key.includes(unsent.id))).toEqual([]);
  });
});
