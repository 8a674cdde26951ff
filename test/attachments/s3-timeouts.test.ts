import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachmentsS3Client, loadS3Sdk, S3_REQUEST_TIMEOUT_MS, S3AttachmentStore } from '../../functions/runtime/s3-attachments.js';
import type { Attachment } from '../../shared/protocol/index.js';

// An S3 that takes the connection and never answers (a stalled endpoint): the store's requests
// give up after S3_REQUEST_TIMEOUT_MS instead of holding the turn until the function times out.
let silent: Server;
const sockets: Socket[] = [];
beforeAll(async () => {
  silent = createServer((socket) => void sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

describe('the S3 attachment store against an S3 that never answers', () => {
  it(`gives up on a request after ${S3_REQUEST_TIMEOUT_MS} ms`, async () => {
    const sdk = await loadS3Sdk();
    const client = attachmentsS3Client(sdk, {
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      maxAttempts: 1, // one attempt, to time it (the SDK tries three times by default)
    });
    const store = new S3AttachmentStore(sdk, client, 'chatkit-attachments');
    const image = { id: 'atc_1', type: 'image', name: 'cat.png', mime_type: 'image/png', preview_url: '', metadata: { key: 'attached/u/atc_1', size: 10 } } as unknown as Attachment;
    const started = Date.now();
    await expect(store.modelSource(image)).rejects.toThrow();
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(S3_REQUEST_TIMEOUT_MS - 100);
    expect(waited).toBeLessThan(S3_REQUEST_TIMEOUT_MS + 3_000);
    client.destroy();
  }, 20_000);
});
