import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readSecretFromExtension } from '../../functions/runtime/secrets-extension.js';
import { secretAnswer, startSecretsExtension, type SecretsExtensionStandIn } from '../support/secrets-extension.js';

const DATABASE_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/database-AbCdEf';
const JWT_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chatkit/jwt-GhIjKl';
const VARIABLES = ['DATABASE_SECRET_ARN', 'OPENAI_SECRET_ARN', 'JWT_SECRET_ARN', 'DATABASE_URL', 'JWT_SECRET', 'JWT_ISSUER'];

let extension: SecretsExtensionStandIn;
let extensionPort: string;
beforeAll(async () => {
  extension = await startSecretsExtension();
  extensionPort = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT!;
});
afterAll(() => extension.close());
beforeEach(() => {
  for (const name of VARIABLES) delete process.env[name];
  process.env.AWS_SESSION_TOKEN = 'stand-in-session-token';
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = extensionPort;
  extension.reads.length = 0;
});

const closedPort = async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
};

// A fresh module: a cold start, nothing cached.
const freshLoad = async () => {
  vi.resetModules();
  return (await import('../../functions/runtime/secrets.js')).loadSecretsIntoEnv;
};

describe('secrets read from the Parameters and Secrets extension', () => {
  it('puts the string values of each configured secret into the environment, once per cold start', async () => {
    Object.assign(process.env, { DATABASE_SECRET_ARN: DATABASE_ARN, JWT_SECRET_ARN: JWT_ARN });
    extension.script(secretAnswer({ DATABASE_URL: 'postgres://app@h/db', port: 5432 }, DATABASE_ARN), secretAnswer({ JWT_SECRET: 'shh', JWT_ISSUER: 'me' }, JWT_ARN));
    const load = await freshLoad();
    await load();
    await load();
    expect(extension.reads.sort()).toEqual([DATABASE_ARN, JWT_ARN].sort());
    expect(process.env).toMatchObject({ DATABASE_URL: 'postgres://app@h/db', JWT_SECRET: 'shh', JWT_ISSUER: 'me' });
    expect(process.env).not.toHaveProperty('port');
  });

  it('does nothing where no secret ARN is configured', async () => {
    await (await freshLoad())();
    expect(extension.reads).toEqual([]);
  });

  it('sends the session token the extension requires', async () => {
    process.env.JWT_SECRET_ARN = JWT_ARN;
    extension.script(secretAnswer({ JWT_SECRET: 'shh' }));
    process.env.AWS_SESSION_TOKEN = 'another-session';
    const load = await freshLoad();
    await expect(load()).rejects.toThrow('The Parameters and Secrets extension answered 401 for the secret JWT_SECRET_ARN');
    expect(extension.reads).toEqual([]);
    process.env.AWS_SESSION_TOKEN = 'stand-in-session-token';
    await load();
    expect(process.env.JWT_SECRET).toBe('shh');
  });

  it.each([500, 404])('fails clearly on a %i answer, then reads again on the next call', async (status) => {
    process.env.JWT_SECRET_ARN = JWT_ARN;
    extension.script({ status, body: '{"message":"no"}' }, secretAnswer({ JWT_SECRET: 'shh' }));
    const load = await freshLoad();
    await expect(load()).rejects.toThrow(`The Parameters and Secrets extension answered ${status} for the secret JWT_SECRET_ARN`);
    expect(process.env.JWT_SECRET).toBeUndefined();
    await load();
    expect(process.env.JWT_SECRET).toBe('shh');
    expect(extension.reads).toEqual([JWT_ARN, JWT_ARN]);
  });

  it('gives up on a hanging extension after a bounded time, then reads again on the next call', async () => {
    process.env.JWT_SECRET_ARN = JWT_ARN;
    extension.script('hang', secretAnswer({ JWT_SECRET: 'shh' }));
    const load = await freshLoad();
    const started = Date.now();
    await expect(load()).rejects.toThrow(/^Reading the secret JWT_SECRET_ARN from the Parameters and Secrets extension failed: .*timeout/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(Date.now() - started).toBeLessThan(6_000);
    await load();
    expect(process.env.JWT_SECRET).toBe('shh');
  });

  it('waits for an extension that is not listening yet (Lambda starts the init before it is)', async () => {
    const port = await closedPort();
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(port);
    const read = readSecretFromExtension('JWT_SECRET_ARN', JWT_ARN);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const late = await startSecretsExtension({ port });
    late.script(secretAnswer({ JWT_SECRET: 'late' }));
    try {
      await expect(read).resolves.toEqual({ JWT_SECRET: 'late' });
    } finally {
      await late.close();
    }
  });

  it('asks again while the extension answers that it is not ready yet, within the same bounded time', async () => {
    const notReady = { status: 400, body: 'not ready to serve traffic, please wait' };
    extension.script(notReady, notReady, secretAnswer({ JWT_SECRET: 'ready' }));
    await expect(readSecretFromExtension('JWT_SECRET_ARN', JWT_ARN)).resolves.toEqual({ JWT_SECRET: 'ready' });
    expect(extension.reads).toHaveLength(3);
    extension.script(notReady);
    await expect(readSecretFromExtension('JWT_SECRET_ARN', JWT_ARN, { timeoutMs: 300 })).rejects.toThrow(
      'Reading the secret JWT_SECRET_ARN from the Parameters and Secrets extension failed: it was still not ready to serve after 300 ms',
    );
    // Any other 400 is an answer, not a wait.
    extension.script({ status: 400, body: 'bad request' });
    await expect(readSecretFromExtension('JWT_SECRET_ARN', JWT_ARN)).rejects.toThrow('The Parameters and Secrets extension answered 400 for the secret JWT_SECRET_ARN');
  });

  it('says the extension is not listening when it never does, after a bounded time', async () => {
    process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(await closedPort());
    const started = Date.now();
    await expect(readSecretFromExtension('JWT_SECRET_ARN', JWT_ARN, { timeoutMs: 300 })).rejects.toThrow(
      /^Reading the secret JWT_SECRET_ARN from the Parameters and Secrets extension failed: fetch failed \(ECONNREFUSED\)$/,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('refuses a secret that is not a JSON object without quoting it', async () => {
    extension.script({ status: 200, body: JSON.stringify({ SecretString: 'sk-not-json-at-all' }) });
    const error = await readSecretFromExtension('OPENAI_SECRET_ARN', 'arn:x').catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe('The secret OPENAI_SECRET_ARN is not a JSON object of string values');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain('sk-not-json');
  });
});
