import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from '../../functions/runtime/s3-attachments.js';

/** A request the stand-in answered: what the store (or a browser) asked of S3. */
export interface S3Request {
  method: string;
  /** The object key (path-style, without the bucket), decoded. */
  key: string;
  range: string | undefined;
  status: number;
}

/**
 * A real S3-compatible server (s3rver) on a free loopback port, with one empty bucket, behind a
 * stand-in that answers as S3 answers the stack's roles: they hold s3:GetObject but not
 * s3:ListBucket (infra/attachments-bucket.ts), so S3 answers a GET or HEAD of a missing key with
 * 403, never 404 — s3rver, which enforces no IAM, would say 404. Every request is recorded.
 */
export async function startS3(bucket = 'chatkit-attachments') {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  const upstream = await server.run();
  const requests: S3Request[] = [];
  const strict = await listen(
    createServer((incoming, outgoing) => {
      // The Host header is kept: SigV4 signatures (presigned URLs too) cover it.
      const forwarded = request({ host: '127.0.0.1', port: upstream.port, method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer: IncomingMessage) => {
        const key = objectKey(incoming.url ?? '/', bucket);
        const denied = key !== null && answer.statusCode === 404 && (incoming.method === 'GET' || incoming.method === 'HEAD');
        requests.push({ method: incoming.method ?? '', key: key ?? '', range: incoming.headers.range, status: denied ? 403 : (answer.statusCode ?? 0) });
        if (!denied) {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
          return;
        }
        answer.resume();
        const body = incoming.method === 'HEAD' ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';
        outgoing.writeHead(403, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
        outgoing.end(body);
      });
      forwarded.on('error', (error) => outgoing.destroy(error));
      incoming.pipe(forwarded);
    }),
  );
  const endpoint = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
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
    /** Every request since the start (or the last `requests.length = 0`). */
    requests,
    async close() {
      client.destroy();
      strict.closeAllConnections();
      await new Promise((resolve) => strict.close(resolve));
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

function listen(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** `/bucket/a/b?x` → `a/b`; null for a request on the bucket itself. */
function objectKey(url: string, bucket: string): string | null {
  const path = new URL(url, 'http://s3').pathname;
  const prefix = `/${bucket}/`;
  if (!path.startsWith(prefix) || path.length === prefix.length) return null;
  return decodeURIComponent(path.slice(prefix.length));
}
