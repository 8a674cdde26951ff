import { DeleteObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AgentResponder, createAssistant } from '../../shared/agent/index.js';
import type { Attachment, ThreadItem, UserMessageItem } from '../../shared/protocol/index.js';
import { OpenAIResponder } from '../../shared/responder/openai-responder.js';
import { ChatKitServer } from '../../shared/server/index.js';
import { clientEvents, doneItems, input, startChatKit, threadIdOf, type ChatKitHarness, type User } from '../support/chatkit-harness.js';
import { uid, userMessage } from '../support/fixtures.js';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from '../../functions/runtime/s3-attachments.js';
import { startS3 } from '../support/s3.js';

// The two-phase upload against a real S3-compatible server (s3rver, behind a stand-in that checks
// SigV4 as S3 does): create, upload with
// the presigned request exactly as a browser sends it, send the message, the model receives the
// file, and deleting the thread removes the object.

let s3: Awaited<ReturnType<typeof startS3>>;
let h: ChatKitHarness;
let user: User;
let statements: string[] = [];

beforeAll(async () => {
  s3 = await startS3();
  h = await startChatKit({ attachments: s3.store, attachmentPolicy: { types: ['image/*', 'application/pdf', 'text/plain'], maxBytes: 1024 * 1024 } }, (q) => void statements.push(q));
});
afterAll(async () => {
  await h?.close();
  await s3?.close();
});
beforeEach(() => {
  user = { userId: `user|${uid('u')}` }; // ids from identity providers carry such characters
});
afterEach(() => {
  // S3 checks every signature (the stand-in does too): a test passes with what S3 would accept.
  expect(s3.unauthenticated.splice(0)).toEqual([]);
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
const keysOf = async (attachmentId: string) => (await keys()).filter((key) => key.endsWith(`/${attachmentId}`));
/** An uploaded text file, not yet sent. */
async function uploadedText(text: string, name = 'notes.txt') {
  const bytes = Buffer.from(text);
  const file = await create(name, 'text/plain', bytes.length);
  await upload(file, bytes);
  return file;
}
const modelRequests = () => h.model.requests.filter((r) => r.body?.stream);
const lastModelInput = () => JSON.stringify(modelRequests().at(-1)!.body.input);

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
    // The model's links really give the bytes (the scripted API downloaded both before answering, as the real one does).
    expect(modelRequests().at(-1)!.downloads).toEqual([
      { url: imagePart.image_url, status: 200 },
      { url: filePart.file_url, status: 200 },
    ]);
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
    // S3 answers the HEAD of a key never written with 404 (the role may list the bucket).
    expect(s3.requests.filter((r) => r.method === 'HEAD' && r.key.endsWith(never.id)).map((r) => r.status)).toEqual([404]);

    // The signature covers the declared size: S3 refuses other bytes, and the message finds nothing uploaded.
    const liar = await create('liar.png', 'image/png', 10);
    const refused = await fetch(liar.upload_descriptor.url, { method: 'PUT', headers: liar.upload_descriptor.headers, body: new Uint8Array(PNG) });
    expect([refused.status, await refused.text()]).toEqual([403, expect.stringContaining('<Code>SignatureDoesNotMatch</Code>')]);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['SignatureDoesNotMatch']);
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [liar.id] } } }, user)).rejects.toMatchObject({ status: 400, code: 'attachment_not_uploaded' });
    // Bytes that got there some other way (a writer not bound by the presigned URL) are still checked by the server.
    const other = await create('other.png', 'image/png', 10);
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `pending/${encodeURIComponent(user.userId)}/${other.id}`, Body: PNG, ContentType: 'image/png' }));
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [other.id] } } }, user)).rejects.toMatchObject({ status: 400, code: 'attachment_mismatch' });
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

describe('files follow their owner\'s actions', () => {
  it('takes an id listed twice in one message as one attachment: one item, one object, moved once', async () => {
    const file = await uploadedText('twice');
    h.model.enqueue({ text: 'Once.' });
    const events = await h.stream({ type: 'threads.create', params: { input: { ...input('Read it'), attachments: [file.id, file.id] } } }, user);
    expect(events.find((e) => e.type === 'error')).toBeUndefined();
    const [message] = doneItems(events) as [UserMessageItem];
    expect(message.attachments.map((a) => a.id)).toEqual([file.id]);
    expect(await keysOf(file.id)).toEqual([`attached/${encodeURIComponent(user.userId)}/${file.id}`]);
    expect((await h.allItems(threadIdOf(events), user))[0]).toMatchObject({ attachments: [{ id: file.id }] });
  });

  it("moves nothing and binds nothing when the message is refused: another user's thread (404), a busy thread (409)", async () => {
    const file = await uploadedText('not yet');
    const pending = [`pending/${encodeURIComponent(user.userId)}/${file.id}`];
    const someone = { userId: uid('someone') };
    h.model.enqueue({ text: 'Theirs.' });
    const theirs = threadIdOf(await h.stream({ type: 'threads.create', params: { input: input('mine') } }, someone));
    await expect(h.call({ type: 'threads.add_user_message', params: { thread_id: theirs, input: { ...input('x'), attachments: [file.id] } } }, user)).rejects.toMatchObject({ status: 404 });
    expect(await keysOf(file.id)).toEqual(pending);
    expect(await h.store.loadAttachment(file.id, user)).not.toHaveProperty('thread_id');

    h.model.enqueue({ text: 'First.' });
    const mine = threadIdOf(await h.stream({ type: 'threads.create', params: { input: input('hello') } }, user));
    h.model.enqueue({ text: ['A', ' slow', ' answer.'], deltaDelayMs: 50 });
    const running = await h.call({ type: 'threads.add_user_message', params: { thread_id: mine, input: input('go on') } }, user);
    await expect(h.call({ type: 'threads.add_user_message', params: { thread_id: mine, input: { ...input('x'), attachments: [file.id] } } }, user)).rejects.toMatchObject({ status: 409, code: 'thread_busy' });
    expect(await keysOf(file.id)).toEqual(pending);
    expect(await h.store.loadAttachment(file.id, user)).not.toHaveProperty('thread_id');
    await clientEvents(running);

    // Still the sender's to send, once the thread is free.
    h.model.enqueue({ text: 'Now.' });
    const sent = await h.stream({ type: 'threads.add_user_message', params: { thread_id: mine, input: { ...input('now'), attachments: [file.id] } } }, user);
    expect(sent.find((e) => e.type === 'error')).toBeUndefined();
    expect(await keysOf(file.id)).toEqual([`attached/${encodeURIComponent(user.userId)}/${file.id}`]);
    expect(await h.store.loadAttachment(file.id, user)).toMatchObject({ thread_id: mine });
  });

  it('costs two statements before the stream, however many attachments: one loads them, the one that stores the message binds them', async () => {
    const files = [await uploadedText('one'), await uploadedText('two'), await uploadedText('three')];
    h.model.enqueue({ text: 'First.' }, { text: 'Three files.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: input('hello') } }, user));
    statements = [];
    s3.requests.length = 0;
    const result = await h.call({ type: 'threads.add_user_message', params: { thread_id: threadId, input: { ...input('see'), attachments: files.map((f) => f.id) } } }, user);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toMatch(/from "chatkit_attachments"/i);
    expect(statements[1]).toMatch(/UPDATE chatkit_attachments a SET/);
    // The store's part before the stream: a HEAD of each upload, then (the message stored) a copy and a delete of each.
    const of = (method: string) => s3.requests.filter((r) => r.method === method).map((r) => r.key.split('/')[0]);
    expect(of('HEAD')).toEqual(['pending', 'pending', 'pending']);
    expect(of('PUT')).toEqual(['attached', 'attached', 'attached']); // CopyObject
    expect(of('POST').length).toBeGreaterThanOrEqual(3); // DeleteObjects (the SDK retries a 500 from s3rver)
    await clientEvents(result);
    for (const file of files) expect(await h.store.loadAttachment(file.id, user)).toMatchObject({ thread_id: threadId });
  });

  it('refuses an attachment already sent in a message, in that thread or another', async () => {
    const file = await uploadedText('once only');
    h.model.enqueue({ text: 'Ok.' }, { text: 'Ok.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: { ...input('a'), attachments: [file.id] } } }, user));
    for (const body of [
      { type: 'threads.add_user_message', params: { thread_id: threadId, input: { ...input('again'), attachments: [file.id] } } },
      { type: 'threads.create', params: { input: { ...input('elsewhere'), attachments: [file.id] } } },
    ]) {
      await expect(h.call(body, user)).rejects.toMatchObject({ status: 400, code: 'attachment_already_sent' });
    }
    expect(await h.store.loadAttachment(file.id, user)).toMatchObject({ thread_id: threadId });
  });

  it('deleting a thread deletes every file ever sent to it, those of messages a retry removed too', async () => {
    h.model.enqueue({ text: 'One.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: input('first') } }, user));
    const [first] = await h.allItems(threadId, user);
    const file = await uploadedText('sent, then retried away');
    h.model.enqueue({ text: 'Two.' });
    await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: { ...input('second'), attachments: [file.id] } } }, user);
    h.model.enqueue({ text: 'One again.' });
    await h.stream({ type: 'threads.retry_after_item', params: { thread_id: threadId, item_id: first!.id } }, user);
    expect(JSON.stringify(await h.allItems(threadId, user))).not.toContain(file.id);

    expect(await h.json({ type: 'threads.delete', params: { thread_id: threadId } }, user)).toEqual({});
    expect(await keysOf(file.id)).toEqual([]);
    await expect(h.store.loadAttachment(file.id, user)).rejects.toMatchObject({ status: 404 });
  });

  it('refuses attachments.delete of a sent attachment with 409; the thread keeps working with the file', async () => {
    const file = await uploadedText('keep me');
    h.model.enqueue({ text: 'Read.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: { ...input('a'), attachments: [file.id] } } }, user));
    await expect(h.call({ type: 'attachments.delete', params: { attachment_id: file.id } }, user)).rejects.toMatchObject({ status: 409, code: 'attachment_in_use' });
    expect(await keysOf(file.id)).toHaveLength(1);
    h.model.enqueue({ text: 'Still here.' });
    const next = await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('and now?') } }, user);
    expect(next.find((e) => e.type === 'error')).toBeUndefined();
    expect(lastModelInput()).toContain('keep me');
  });

  it('keeps a thread working when a file is gone from the bucket: the model is told it was removed', async () => {
    const file = await uploadedText('soon gone', 'gone.txt');
    h.model.enqueue({ text: 'Read.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: { ...input('a'), attachments: [file.id] } } }, user));
    for (const key of await keysOf(file.id)) await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    h.model.enqueue({ text: 'It is gone.' });
    const next = await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('and now?') } }, user);
    expect(next.find((e) => e.type === 'error')).toBeUndefined();
    expect(lastModelInput()).toContain('[The file \\"gone.txt\\" (text/plain) was removed');
  });

  it('keeps a thread working when an image is gone from the bucket: the model is told it was removed, never handed a URL it cannot download (the API would refuse the whole turn)', async () => {
    const errors: unknown[] = [];
    // As the chat function runs: the assistant agent.
    const assistant = new ChatKitServer({
      store: h.store,
      responder: new AgentResponder({ client: h.client, model: 'gpt-test', ...createAssistant({ model: 'gpt-test' }) }),
      attachments: s3.store,
      attachmentPolicy: { types: ['image/*'], maxBytes: 1024 * 1024 },
      onError: (_message, error) => void errors.push(error),
    });
    const run = async (body: unknown) => clientEvents(await assistant.process(JSON.stringify(body), user, { signal: new AbortController().signal }));
    const image = await create('cat.png', 'image/png', PNG.length);
    await upload(image, PNG);
    h.model.enqueue({ text: 'A cat.' });
    const threadId = threadIdOf(await run({ type: 'threads.create', params: { input: { ...input('What is it?'), attachments: [image.id] } } }));
    expect(modelRequests().at(-1)!.downloads?.map((d) => d.status)).toEqual([200]);

    for (const key of await keysOf(image.id)) await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    for (const text of ['And now?', 'Hello?']) {
      h.model.enqueue({ text: 'The picture is gone.' });
      const events = await run({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input(text) } });
      expect(events.find((e) => e.type === 'error')).toBeUndefined();
      expect(modelRequests().at(-1)!.downloads ?? []).toEqual([]);
      expect(lastModelInput()).toContain('[The file \\"cat.png\\" (image/png) was removed');
    }
    expect(errors).toEqual([]);
    expect((await h.allItems(threadId, user)).map((item) => item.type)).toEqual(['user_message', 'assistant_message', 'user_message', 'assistant_message', 'user_message', 'assistant_message']);
  });

  it('never reads a refusal (403) as "not there": credentials S3 no longer takes fail the request, the file is neither "never uploaded" nor "removed"', async () => {
    const image = await create('cat.png', 'image/png', PNG.length);
    await upload(image, PNG);
    // The same bucket through a client whose signatures S3 refuses (as with expired credentials or a skewed clock).
    const sdk = await loadS3Sdk();
    const refusedClient = attachmentsS3Client(sdk, { region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'expired' }, maxAttempts: 1 });
    const refused = new S3AttachmentStore(sdk, refusedClient, s3.bucket);
    const stored = await h.store.loadAttachment(image.id, user);
    try {
      const forbidden = { $metadata: { httpStatusCode: 403 } };
      await expect(refused.verifyUpload(stored)).rejects.toMatchObject(forbidden);
      await expect(refused.modelSource(stored)).rejects.toMatchObject(forbidden);
      await expect(refused.read(stored, 100)).rejects.toMatchObject({ ...forbidden, name: 'SignatureDoesNotMatch' });
    } finally {
      refusedClient.destroy();
    }
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['SignatureDoesNotMatch', 'SignatureDoesNotMatch', 'SignatureDoesNotMatch']);
  });

  it('attachments.delete of an unsent upload removes it and its attached/ twin, row first', async () => {
    const file = await uploadedText('unsent');
    expect(await h.json({ type: 'attachments.delete', params: { attachment_id: file.id } }, user)).toEqual({});
    expect(await keysOf(file.id)).toEqual([]);
    await expect(h.store.loadAttachment(file.id, user)).rejects.toMatchObject({ status: 404 });
    await expect(h.call({ type: 'threads.create', params: { input: { ...input('x'), attachments: [file.id] } } }, user)).rejects.toMatchObject({ status: 404 });
  });
});

describe('bounded attachment work per turn', () => {
  const getsOf = (attachmentId: string) => s3.requests.filter((r) => r.method === 'GET' && r.key.endsWith(`/${attachmentId}`));

  it('reads a text file with one bounded range request per turn, however often the history names it', async () => {
    const text = `${'a'.repeat(99_990)}0123456789TAIL-NOT-SENT${'z'.repeat(900_000)}`;
    const file = await uploadedText(text, 'big.txt');
    s3.requests.length = 0;
    h.model.enqueue({ text: 'Long.' });
    const threadId = threadIdOf(await h.stream({ type: 'threads.create', params: { input: { ...input('read'), attachments: [file.id, file.id, file.id] } } }, user));
    expect(getsOf(file.id).map((r) => r.range)).toEqual(['bytes=0-299999']);
    const shown = modelRequests().at(-1)!.body.input[0].content[1].text as string;
    expect(shown).toContain('a'.repeat(99_990) + '0123456789');
    expect(shown).not.toContain('TAIL-NOT-SENT');
    expect(shown).toContain(`the rest of the file (${Buffer.byteLength(text) - 100_000} more bytes) was left out`);

    // Rows written before ids were checked may name one file in many messages: still one read.
    const stored = (await h.allItems(threadId, user))[0] as UserMessageItem;
    for (let i = 0; i < 5; i++) await h.store.addThreadItem(threadId, { ...userMessage(threadId, `again ${i}`), attachments: stored.attachments } as ThreadItem, user);
    s3.requests.length = 0;
    h.model.enqueue({ text: 'Still long.' });
    await h.stream({ type: 'threads.add_user_message', params: { thread_id: threadId, input: input('once more') } }, user);
    expect(getsOf(file.id)).toHaveLength(1);
  });

  it("caps the bytes a turn reads for the model: past the cap, newest first, a file is named instead of read", async () => {
    const capped = new ChatKitServer({
      store: h.store,
      responder: new OpenAIResponder({ client: h.client, model: 'gpt-test', instructions: '' }),
      attachments: s3.store,
      attachmentPolicy: { types: ['text/plain'], maxBytes: 1024 * 1024, maxTurnBytes: 1500 },
    });
    const older = await uploadedText('o'.repeat(1000), 'older.txt');
    const newer = await uploadedText('n'.repeat(1000), 'newer.txt');
    h.model.enqueue({ text: 'Ok.' }, { text: 'Ok.' });
    const run = async (body: unknown) => clientEvents(await capped.process(JSON.stringify(body), user, { signal: new AbortController().signal }));
    const threadId = threadIdOf(await run({ type: 'threads.create', params: { input: { ...input('one'), attachments: [older.id] } } }));
    s3.requests.length = 0;
    await run({ type: 'threads.add_user_message', params: { thread_id: threadId, input: { ...input('two'), attachments: [newer.id] } } });
    expect(lastModelInput()).toContain('n'.repeat(1000));
    expect(lastModelInput()).not.toContain('o'.repeat(1000));
    expect(lastModelInput()).toContain('[The file \\"older.txt\\" (text/plain) was left out: this turn\'s attachments may take at most 1500 bytes.]');
    expect(s3.requests.filter((r) => r.method === 'GET').map((r) => r.key.split('/').at(-1))).toEqual([newer.id]);
  });
});
