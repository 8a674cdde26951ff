import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from '../../functions/runtime/s3-attachments.js';

/** A real S3-compatible server (s3rver) on a free loopback port, with one empty bucket. */
export async function startS3(bucket = 'chatkit-attachments') {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const sdk = await loadS3Sdk();
  const client = attachmentsS3Client(sdk, {
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    bucket,
    client,
    store: new S3AttachmentStore(sdk, client, bucket),
    endpoint,
    async close() {
      client.destroy();
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
