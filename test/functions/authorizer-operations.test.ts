import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { emfLines } from '../support/emf.js';
import { secretAnswer, startSecretsExtension, type SecretsExtensionStandIn } from '../support/secrets-extension.js';

// The secrets extension as the authorizer reads it, scripted per test.
let extension: SecretsExtensionStandIn;
beforeAll(async () => {
  extension = await startSecretsExtension();
});
afterAll(() => extension.close());

const secret = 'authorizer-operations-secret-32-bytes-or-more';
const event = (authorizationToken: string) => ({
  type: 'TOKEN' as const,
  authorizationToken,
  methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/chatkit',
});
const freshAuthorizer = async () => {
  vi.resetModules();
  return (await import('../../functions/authorizer.js')).handler;
};

let stdout: ReturnType<typeof emfLines>;
beforeEach(() => {
  Object.assign(process.env, { JWT_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/jwt-AbCdEf', POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_SERVICE_NAME: 'chatkit-authorizer', POWERTOOLS_LOG_LEVEL: 'SILENT' });
  delete process.env.JWT_SECRET;
  extension.reads.length = 0;
  stdout = emfLines();
});
afterEach(() => stdout.restore());

describe('the authorizer in operation', () => {
  it('counts a refused token as TokensRefused, not as a failure', async () => {
    extension.script(secretAnswer({ JWT_SECRET: secret }));
    const handler = await freshAuthorizer();
    const expired = jwt.sign({ sub: 'u', exp: Math.floor(Date.now() / 1000) - 60 }, secret, { algorithm: 'HS256' });
    await expect(handler(event(`Bearer ${expired}`))).rejects.toThrow(/^Unauthorized$/);
    expect(stdout.metrics()).toEqual([{ service: 'chatkit-authorizer', TokensRefused: 1 }]);
  });

  it('counts anything else that goes wrong as AuthorizerFailures (what the alarm watches)', async () => {
    extension.script({ status: 400, body: '{"__type":"ThrottlingException","message":"Rate exceeded"}' });
    const handler = await freshAuthorizer();
    const token = jwt.sign({ sub: 'u' }, secret, { algorithm: 'HS256', expiresIn: '5m' });
    await expect(handler(event(`Bearer ${token}`))).rejects.not.toThrow(/^Unauthorized$/);
    expect(stdout.metrics()).toEqual([{ service: 'chatkit-authorizer', AuthorizerFailures: 1 }]);
  });

  it('reads the secret again after a failed read, instead of failing until the instance is recycled', async () => {
    extension.script({ status: 500 }, secretAnswer({ JWT_SECRET: secret }));
    const handler = await freshAuthorizer();
    const token = jwt.sign({ sub: 'user-7' }, secret, { algorithm: 'HS256', expiresIn: '5m' });
    await expect(handler(event(`Bearer ${token}`))).rejects.toThrow(/answered 500 for the secret JWT_SECRET_ARN/);
    await expect(handler(event(`Bearer ${token}`))).resolves.toMatchObject({ principalId: 'user-7' });
    await expect(handler(event(`Bearer ${token}`))).resolves.toMatchObject({ principalId: 'user-7' });
    expect(extension.reads).toHaveLength(2); // then kept: once per cold start
  });
});
