import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { beforeAll, describe, expect, it } from 'vitest';

const secret = 'authorizer-test-secret-of-32-bytes-or-more';
let handler: typeof import('../../functions/authorizer.js').handler;

beforeAll(async () => {
  process.env.JWT_SECRET = secret;
  handler = (await import('../../functions/authorizer.js')).handler;
});

const event = (token: string) => ({
  type: 'TOKEN' as const,
  authorizationToken: token,
  methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/chatkit',
});

describe('the TOKEN authorizer', () => {
  it('allows every route of the API stage, so the cached decision serves them all, and passes the user id', async () => {
    const token = jwt.sign({ sub: 'user-42' }, secret, { algorithm: 'HS256', expiresIn: '5m' });
    expect(await handler(event(`Bearer ${token}`))).toEqual({
      principalId: 'user-42',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/*' }],
      },
      context: { userId: 'user-42' },
    });
  });

  it('answers "Unauthorized" (API Gateway\'s 401) for missing, malformed, expired or forged tokens', async () => {
    const expired = jwt.sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 }, secret, { algorithm: 'HS256' });
    const forged = jwt.sign({ sub: 'u' }, 'wrong', { algorithm: 'HS256', expiresIn: '5m' });
    for (const header of ['', 'Bearer', 'Basic abc', `Bearer ${expired}`, `Bearer ${forged}`]) {
      await expect(handler(event(header))).rejects.toThrow(/^Unauthorized$/);
    }
  });

  it('answers "Unauthorized" for a user claim the store cannot hold, and for a signed payload that is not claims', async () => {
    const sign = (sub: unknown) => jwt.sign({ sub }, secret, { algorithm: 'HS256', expiresIn: '5m' });
    for (const sub of ['user\u0000', 'user\ud800', '\udfff', '', 'a'.repeat(256), 7]) {
      await expect(handler(event(`Bearer ${sign(sub)}`)), JSON.stringify(sub)).rejects.toThrow(/^Unauthorized$/);
    }
    const input = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('null').toString('base64url')}`;
    const nullPayload = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    await expect(handler(event(`Bearer ${nullPayload}`))).rejects.toThrow(/^Unauthorized$/);
  });
});
