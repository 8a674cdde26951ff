import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/log.js';
import { redactSecrets } from '../../shared/redact.js';
import { emfLines } from '../support/emf.js';
import { PRESIGNED_SESSION_TOKEN, PRESIGNED_SIGNATURE, PRESIGNED_URL } from '../support/fixtures.js';

// No presigned URL's signature and no token reaches the logs: a failed turn's error is logged
// (it must be, to be found) with what would let a reader act as the user replaced.
const [SIGNATURE, SESSION_TOKEN, presigned] = [PRESIGNED_SIGNATURE, PRESIGNED_SESSION_TOKEN, PRESIGNED_URL];
const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyLTEiLCJleHAiOjE5OTk5OTk5OTl9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';

describe('redactSecrets', () => {
  it('replaces the signature, credential and session token of a presigned S3 URL, and keeps the rest', () => {
    const text = redactSecrets(`Error while downloading ${presigned}.`);
    for (const secret of [SIGNATURE, 'ASIAEXAMPLEKEY', encodeURIComponent(SESSION_TOKEN)]) expect(text).not.toContain(secret);
    expect(text).toContain('https://chatkit-attachments.s3.eu-west-1.amazonaws.com/attached/user-1/atc_1?');
    expect(text).toContain('X-Amz-Signature=[redacted]');
    expect(text).toContain('X-Amz-Expires=3600');
    expect(text.endsWith('.')).toBe(true);
  });

  it("replaces bearer tokens, JWTs, API keys, URL passwords and the dev server's signed URLs", () => {
    const cases: Array<[string, string]> = [
      [`Authorization: Bearer ${JWT}`, 'Authorization: Bearer [redacted]'],
      [`token ${JWT} refused`, 'token [redacted] refused'],
      ['Incorrect API key provided: sk-proj-AbCdEfGhIjKlMnOpQrStUvWx', 'Incorrect API key provided: sk-[redacted]'],
      ['connect to postgres://app:s3cr3t-p4ss@ep-x-pooler.neon.tech/db failed', 'connect to postgres://app:[redacted]@ep-x-pooler.neon.tech/db failed'],
      ['GET http://127.0.0.1:8787/attachments/eyJwYXRoIjoiYS9iIn0.Zm9vYmFyYmF6cXV4cXV1eA failed', 'GET http://127.0.0.1:8787/attachments/[redacted] failed'],
      ['https://cdn.example.com/a.png?Expires=1&Signature=abc~def&Key-Pair-Id=K1', 'https://cdn.example.com/a.png?Expires=1&Signature=[redacted]&Key-Pair-Id=K1'],
    ];
    for (const [text, expected] of cases) expect(redactSecrets(text)).toBe(expected);
  });

  it('leaves ordinary text alone', () => {
    for (const text of ['the model is down', 'thread thr_123 not found', 'https://example.com/docs?page=2&lang=en', 'a sketch of the key ideas']) {
      expect(redactSecrets(text)).toBe(text);
    }
  });
});

describe('the logger', () => {
  let stdout: ReturnType<typeof emfLines>;
  beforeEach(() => (stdout = emfLines()));
  afterEach(() => stdout.restore());

  it("redacts the message, an error's message, stack and cause, and other attributes", () => {
    const cause = new Error(`could not sign: Bearer ${JWT}`);
    const error = Object.assign(new Error(`Error while downloading ${presigned}`, { cause }), { url: presigned });
    createLogger('test').error(`the turn failed for ${presigned}`, { error, request: { headers: { authorization: `Bearer ${JWT}` } } });
    const line = JSON.stringify(stdout.logs);
    expect(stdout.logs).toHaveLength(1);
    for (const secret of [SIGNATURE, 'ASIAEXAMPLEKEY', JWT]) expect(line).not.toContain(secret);
    expect(stdout.logs[0]).toMatchObject({ level: 'ERROR', error: { name: 'Error', message: expect.stringContaining('X-Amz-Signature=[redacted]') } });
  });
});
