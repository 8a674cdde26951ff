import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { DUMMY_ACCOUNT } from 's3rver/lib/models/account.js';
import { attachmentsS3Client, loadS3Sdk, S3AttachmentStore } from '../../functions/runtime/s3-attachments.js';
import { errorXml, payloadMismatch, verifySigV4, type Credentials, type S3Refusal, type Verdict } from './s3-sigv4.js';

/** A request the stand-in answered: what the store (or a browser) asked of S3. */
export interface S3Request {
  method: string;
  /** The object key (path-style, without the bucket), decoded. */
  key: string;
  range: string | undefined;
  status: number;
  /** The S3 error code of a refusal (AccessDenied, SignatureDoesNotMatch, …). */
  error?: string;
}

/** The credentials and region the stand-in accepts unless told others (the SDK's and presigned URLs). */
const CREDENTIALS: Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

export interface S3Options {
  bucket?: string;
  region?: string;
  /** The only credentials it accepts; with a session token, as a Lambda role's temporary ones. */
  credentials?: Credentials;
}

/**
 * A real S3-compatible server (s3rver) on a free loopback port, with one empty bucket, behind a
 * stand-in that answers as S3 answers the stack's roles:
 * - it checks SigV4 as S3 does (s3rver checks no signature): a request, or a presigned URL, whose
 *   method, path, query, or any signed header differs from what was signed, or that is expired, is
 *   refused with S3's 403 and XML error (test/support/s3-sigv4.ts);
 * - the chat role may list the bucket (infra/attachments-bucket.ts), so S3 answers it a GET or HEAD
 *   of a missing key with 404, as s3rver does; a 403 is only ever a refusal above.
 * Every request is recorded.
 */
export async function startS3({ bucket = 'chatkit-attachments', region = REGION, credentials = CREDENTIALS }: S3Options = {}) {
  const directory = mkdtempSync(join(tmpdir(), 's3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket, configs: [] }] });
  // s3rver knows one key of its own; the stand-in, which checks signatures, takes the ones it is given.
  DUMMY_ACCOUNT.createKeyPair(credentials.accessKeyId, credentials.secretAccessKey);
  const upstream = await server.run();
  const requests: S3Request[] = [];
  const unauthenticated: S3Request[] = [];
  let requestCount = 0;
  const strict = await listen(
    createServer(async (incoming, outgoing) => {
      const key = objectKey(incoming.url ?? '/', bucket);
      const method = incoming.method ?? '';
      const record = (status: number, error?: string) => {
        const answered: S3Request = { method, key: key ?? '', range: incoming.headers.range, status, ...(error ? { error } : {}) };
        requests.push(answered);
        return answered;
      };
      const refuse = (refusal: S3Refusal) => {
        unauthenticated.push(record(refusal.status, refusal.code));
        incoming.resume();
        const body = method === 'HEAD' ? '' : errorXml(refusal, `STANDIN${(++requestCount).toString(16).toUpperCase().padStart(8, '0')}`);
        outgoing.writeHead(refusal.status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-error-code': refusal.code });
        outgoing.end(body);
      };
      // A CORS preflight carries no credentials on S3 either.
      if (method !== 'OPTIONS') {
        const verdict = await verifySigV4({ method, url: incoming.url ?? '/', headers: incoming.headers }, { region, credentials }).catch(
          (): Verdict => ({ ok: false, refusal: { status: 400, code: 'InvalidURI', message: "Couldn't parse the specified URI." } }), // a bad %-escape
        );
        if (!verdict.ok) return refuse(verdict.refusal);
        if (verdict.payloadSha256) {
          // A signed payload hash is checked against the body before the body goes on.
          const body = await readAll(incoming);
          const computed = createHash('sha256').update(body).digest('hex');
          if (computed !== verdict.payloadSha256) return refuse(payloadMismatch(verdict.payloadSha256, computed));
          return forward(body);
        }
      }
      forward(incoming);

      function forward(body: Buffer | IncomingMessage) {
        // The Host header is kept: SigV4 signatures (presigned URLs too) cover it.
        const forwarded = request({ host: '127.0.0.1', port: upstream.port, method, path: incoming.url, headers: incoming.headers }, (answer: IncomingMessage) => {
          record(answer.statusCode ?? 0);
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        });
        forwarded.on('error', (error) => outgoing.destroy(error));
        if (Buffer.isBuffer(body)) forwarded.end(body);
        else body.pipe(forwarded);
      }
    }),
  );
  const endpoint = `http://127.0.0.1:${(strict.address() as AddressInfo).port}`;
  const sdk = await loadS3Sdk();
  const client = attachmentsS3Client(sdk, { region, endpoint, forcePathStyle: true, credentials });
  return {
    bucket,
    client,
    store: new S3AttachmentStore(sdk, client, bucket),
    endpoint,
    /** Every request since the start (or the last `requests.length = 0`). */
    requests,
    /**
     * The requests refused before the bucket was looked at (a signature, time, credential or
     * payload hash S3 would not accept). A suite that expects none says so after each test.
     */
    unauthenticated,
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

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}
