import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeSha256 } from '../support/s3-sigv4.js';
import { startS3 } from '../support/s3.js';

// The S3 stand-in checks SigV4 as S3 does: what a presigned URL or a signed request binds cannot
// be changed on the way, and a wrong signature is S3's 403 SignatureDoesNotMatch, not a pass.

let s3: Awaited<ReturnType<typeof startS3>>;
beforeAll(async () => {
  s3 = await startS3({ bucket: 'selftest' });
});
afterAll(() => s3?.close());

const BYTES = Buffer.from('eight by');
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/** A PUT presigned as the attachment store presigns uploads: type and size signed. */
const presignPut = (key: string, options: { signingDate?: Date; expiresIn?: number } = {}) =>
  getSignedUrl(s3.client, new PutObjectCommand({ Bucket: s3.bucket, Key: key, ContentType: 'text/plain', ContentLength: BYTES.length }), {
    expiresIn: 900,
    signableHeaders: new Set(['content-type', 'content-length']),
    ...options,
  });
const presignGet = (key: string, options: { signingDate?: Date; expiresIn?: number } = {}) => getSignedUrl(s3.client, new GetObjectCommand({ Bucket: s3.bucket, Key: key }), { expiresIn: 900, ...options });
const put = (url: string, headers: Record<string, string>, body: Uint8Array = new Uint8Array(BYTES)) => fetch(url, { method: 'PUT', headers, body });
const codeOf = async (response: Response) => /<Code>([^<]+)<\/Code>/.exec(await response.text())?.[1];
const exists = (key: string) => s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })).then(() => true, () => false);

describe('presigned URLs', () => {
  it('take the upload they were signed for, and serve it back', async () => {
    const url = await presignPut('pending/user%7Ca/atc_1');
    expect((await put(url, { 'content-type': 'text/plain' })).status).toBe(200);
    const got = await fetch(await presignGet('pending/user%7Ca/atc_1'));
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer())).toEqual(BYTES);
  });

  it('refuse with 403 SignatureDoesNotMatch another type, another size, a missing signed header, another key, another method or a changed signature', async () => {
    const url = await presignPut('pending/user%7Ca/atc_2');
    const cases: Array<[string, () => Promise<Response>]> = [
      ['another type', () => put(url, { 'content-type': 'image/png' })],
      ['another size', () => put(url, { 'content-type': 'text/plain' }, new Uint8Array(Buffer.from('nine byte')))],
      ['no content-type (signed)', () => put(url, {})],
      ["another user's key", () => put(url.replace('user%257Ca', 'user%257Cb'), { 'content-type': 'text/plain' })],
      ['another key', () => put(url.replace('atc_2', 'atc_3'), { 'content-type': 'text/plain' })],
      ['another method', () => fetch(url)],
      ['another query', () => put(`${url}&versionId=1`, { 'content-type': 'text/plain' })],
      ['a changed signature', () => put(url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`), { 'content-type': 'text/plain' })],
    ];
    for (const [what, send] of cases) {
      const response = await send();
      expect({ what, status: response.status, code: await codeOf(response) }).toEqual({ what, status: 403, code: 'SignatureDoesNotMatch' });
    }
    expect(await exists('pending/user%7Ca/atc_2')).toBe(false);
    expect(await exists('pending/user%7Cb/atc_2')).toBe(false);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(cases.map(() => 'SignatureDoesNotMatch'));
  });

  it('refuse an expired URL with 403 AccessDenied "Request has expired"', async () => {
    const signingDate = new Date(Date.now() - 120_000);
    const upload = await put(await presignPut('pending/u/late', { signingDate, expiresIn: 60 }), { 'content-type': 'text/plain' });
    expect(upload.status).toBe(403);
    const body = await upload.text();
    expect(body).toContain('<Code>AccessDenied</Code><Message>Request has expired</Message><X-Amz-Expires>60</X-Amz-Expires>');
    expect(await exists('pending/u/late')).toBe(false);
    // The same for a preview link of an object that is there.
    expect((await put(await presignPut('pending/u/here'), { 'content-type': 'text/plain' })).status).toBe(200);
    expect((await fetch(await presignGet('pending/u/here', { signingDate, expiresIn: 60 }))).status).toBe(403);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['AccessDenied', 'AccessDenied']);
  });

  it('refuse a request with no signature at all (the bucket is private), and an x-amz-* header that was not signed', async () => {
    expect((await put(await presignPut('pending/u/meta'), { 'content-type': 'text/plain', 'x-amz-meta-note': 'extra' })).status).toBe(403);
    expect((await fetch(`${s3.endpoint}/${s3.bucket}/pending/u/here`)).status).toBe(403);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['AccessDenied', 'AccessDenied']);
  });
});

describe('requests signed by the SDK (Authorization header)', () => {
  it('pass for what the attachment store sends: HEAD, ranged GET, PUT with a body, copy, batch delete', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'sdk/a b', Body: BYTES, ContentType: 'text/plain' }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'sdk/streamed', Body: Readable.from([BYTES]), ContentLength: BYTES.length }));
    expect(await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'sdk/a b' }))).toMatchObject({ ContentLength: BYTES.length });
    const ranged = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'sdk/streamed', Range: 'bytes=0-3' }));
    expect(await ranged.Body!.transformToString()).toBe('eigh');
    await s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'sdk/copy', CopySource: `${s3.bucket}/sdk/a%20b` }));
    await s3.client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: [{ Key: 'sdk/a b' }, { Key: 'sdk/streamed' }], Quiet: true } }));
    expect(await exists('sdk/copy')).toBe(true);
    expect(await exists('sdk/a b')).toBe(false);
    expect(s3.unauthenticated).toEqual([]);
  });

  it('refuse a wrong secret (403 SignatureDoesNotMatch), an unknown key (403 InvalidAccessKeyId), another region (400)', async () => {
    const client = (options: Partial<ConstructorParameters<typeof S3Client>[0] & object>) =>
      new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED', ...options });
    const attempts = [client({ credentials: { ...credentials, secretAccessKey: 'wrong' } }), client({ credentials: { ...credentials, accessKeyId: 'NOBODY' } }), client({ region: 'eu-west-1' })];
    const failures = [];
    for (const c of attempts) {
      failures.push(await c.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'sdk/copy' })).then(() => null, (e: { name: string; $metadata: { httpStatusCode: number } }) => [e.$metadata.httpStatusCode, e.name]));
      c.destroy();
    }
    expect(failures).toEqual([
      [403, 'SignatureDoesNotMatch'],
      [403, 'InvalidAccessKeyId'],
      [400, 'AuthorizationHeaderMalformed'],
    ]);
    s3.unauthenticated.length = 0;
  });

  it('refuse a signed header changed on the way (403), and a body that is not the one whose hash was signed (400 XAmzContentSHA256Mismatch)', async () => {
    const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256: NodeSha256, uriEscapePath: false });
    const { host, port } = new URL(s3.endpoint);
    const signed = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
      signer.sign({ method, protocol: 'http:', hostname: host.split(':')[0]!, port: Number(port), path, query: {}, headers: { host, ...headers }, ...(body ? { body } : {}) });
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'sdk/copy', Body: BYTES }));
    const get = await signed('GET', `/${s3.bucket}/sdk/copy`, { range: 'bytes=0-1', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect((await fetch(`${s3.endpoint}/${s3.bucket}/sdk/copy`, { headers: get.headers })).status).toBe(206);
    const changed = await fetch(`${s3.endpoint}/${s3.bucket}/sdk/copy`, { headers: { ...get.headers, range: 'bytes=0-7' } });
    expect([changed.status, await codeOf(changed)]).toEqual([403, 'SignatureDoesNotMatch']);

    const upload = await signed('PUT', `/${s3.bucket}/sdk/hashed`, { 'content-length': String(BYTES.length) }, BYTES);
    const swapped = await fetch(`${s3.endpoint}/${s3.bucket}/sdk/hashed`, { method: 'PUT', headers: upload.headers, body: new Uint8Array(Buffer.from('EIGHT BY')) });
    expect([swapped.status, await codeOf(swapped)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(await exists('sdk/hashed')).toBe(false);
    expect((await fetch(`${s3.endpoint}/${s3.bucket}/sdk/hashed`, { method: 'PUT', headers: upload.headers, body: new Uint8Array(BYTES) })).status).toBe(200);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['SignatureDoesNotMatch', 'XAmzContentSHA256Mismatch']);
  });

  it('says it does not check aws-chunked (STREAMING-*) payloads rather than pass them: a client with default checksums streams so, ours does not', async () => {
    const defaults = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true, credentials, maxAttempts: 1 });
    const refused = await defaults.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'sdk/chunked', Body: Readable.from([BYTES]), ContentLength: BYTES.length })).catch((e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode);
    defaults.destroy();
    expect(refused).toBe(501);
    expect(s3.unauthenticated.splice(0).map((r) => r.error)).toEqual(['NotImplemented']);
  });
});

describe("a role's temporary credentials (a session token, as on Lambda)", () => {
  const temporary = { accessKeyId: 'ASIATEMPORARYKEY0001', secretAccessKey: 'temporary-secret', sessionToken: 'the-role-session-token' };
  let role: Awaited<ReturnType<typeof startS3>>;
  beforeAll(async () => {
    role = await startS3({ bucket: 'roles', region: 'eu-west-1', credentials: temporary });
  });
  afterAll(() => role?.close());
  const clientWith = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new S3Client({ region: 'eu-west-1', endpoint: role.endpoint, forcePathStyle: true, credentials, maxAttempts: 1, requestChecksumCalculation: 'WHEN_REQUIRED' });

  it('pass with the token, signed in the header or in a presigned URL', async () => {
    const client = clientWith(temporary);
    await client.send(new PutObjectCommand({ Bucket: role.bucket, Key: 'k', Body: BYTES }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: role.bucket, Key: 'k' }), { expiresIn: 60 });
    expect(url).toContain('X-Amz-Security-Token=the-role-session-token');
    expect((await fetch(url)).status).toBe(200);
    client.destroy();
    expect(role.unauthenticated).toEqual([]);
  });

  it('refuse the key without its token (403 InvalidAccessKeyId), another token (400 InvalidToken), and a token taken out of a presigned URL', async () => {
    const attempts = [clientWith({ ...temporary, sessionToken: undefined }), clientWith({ ...temporary, sessionToken: 'another-session' })];
    const failures = [];
    for (const c of attempts) {
      failures.push(await c.send(new HeadObjectCommand({ Bucket: role.bucket, Key: 'k' })).then(() => null, (e: { $metadata: { httpStatusCode: number } }) => e.$metadata.httpStatusCode));
      c.destroy();
    }
    expect(failures).toEqual([403, 400]);
    const client = clientWith(temporary);
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: role.bucket, Key: 'k' }), { expiresIn: 60 });
    client.destroy();
    const stripped = await fetch(url.replace(/&?X-Amz-Security-Token=[^&]*/, ''));
    expect([stripped.status, await codeOf(stripped)]).toEqual([403, 'InvalidAccessKeyId']);
    expect(role.unauthenticated.splice(0).map((r) => r.error)).toEqual(['InvalidAccessKeyId', 'InvalidToken', 'InvalidAccessKeyId']);
  });
});
