import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigFromEnv, createTokenVerifier } from '../../shared/auth/index.js';

// Settings under which a token the service should refuse would pass are refused at start, with
// the setting named: in the shared reader, in the authorizer, and in `npm run dev`.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKey = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const idp = { JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'chatkit-api' };

describe('a public key or a key set', () => {
  it('needs JWT_ISSUER and JWT_AUDIENCE, and says which is missing', () => {
    for (const source of [{ JWT_PUBLIC_KEY: publicKey }, { JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json' }]) {
      const name = Object.keys(source)[0]!;
      expect(() => authConfigFromEnv(source)).toThrow(`JWT_ISSUER and JWT_AUDIENCE are required with ${name}`);
      expect(() => authConfigFromEnv({ ...source, JWT_ISSUER: idp.JWT_ISSUER })).toThrow(`JWT_AUDIENCE is required with ${name}`);
      expect(() => authConfigFromEnv({ ...source, JWT_AUDIENCE: idp.JWT_AUDIENCE })).toThrow(`JWT_ISSUER is required with ${name}`);
      expect(() => authConfigFromEnv({ ...source, JWT_ISSUER: ' ', JWT_AUDIENCE: ' , ' })).toThrow(/JWT_ISSUER and JWT_AUDIENCE are required/);
      expect(authConfigFromEnv({ ...source, ...idp })).toMatchObject({ issuer: idp.JWT_ISSUER, audience: [idp.JWT_AUDIENCE] });
    }
  });

  it("refuses a token the same identity provider minted for another application, or another provider's", async () => {
    const verifier = createTokenVerifier(authConfigFromEnv({ JWT_PUBLIC_KEY: publicKey, ...idp }));
    const sign = (options: jwt.SignOptions) => jwt.sign({ sub: 'user-1' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', ...options });
    await expect(verifier.verify(sign({ issuer: idp.JWT_ISSUER, audience: 'chatkit-api' }))).resolves.toMatchObject({ userId: 'user-1' });
    for (const options of [{ issuer: idp.JWT_ISSUER, audience: 'another-client' }, { issuer: idp.JWT_ISSUER }, { issuer: 'https://other.example/', audience: 'chatkit-api' }, {}]) {
      await expect(verifier.verify(sign(options)), JSON.stringify(options)).rejects.toMatchObject({ name: 'AuthError', code: 'token_invalid' });
    }
  });
});

describe('JWT_SECRET', () => {
  it('is at least 32 bytes (UTF-8)', () => {
    expect(() => authConfigFromEnv({ JWT_SECRET: 'x'.repeat(31) })).toThrow('JWT_SECRET is 31 bytes: HS256 needs at least 32');
    expect(() => authConfigFromEnv({ JWT_SECRET: 'é'.repeat(15) + 'x' })).toThrow('JWT_SECRET is 31 bytes');
    expect(authConfigFromEnv({ JWT_SECRET: 'x'.repeat(32) }).key.kind).toBe('secret');
    expect(authConfigFromEnv({ JWT_SECRET: 'é'.repeat(16) }).key.kind).toBe('secret');
  });
});

describe('JWT_JWKS_URL', () => {
  it('is https, or http to this machine outside production', () => {
    const config = (url: string, env: Record<string, string> = {}) => () => authConfigFromEnv({ JWT_JWKS_URL: url, ...idp, ...env });
    expect(config('https://idp.example/jwks.json')).not.toThrow();
    for (const url of ['http://127.0.0.1:8080/jwks.json', 'http://localhost/jwks.json', 'http://[::1]:9000/jwks.json']) {
      expect(config(url)).not.toThrow();
      expect(config(url, { NODE_ENV: 'production' })).toThrow(/JWT_JWKS_URL must be an https:\/\/ URL/);
    }
    for (const url of ['http://idp.example/jwks.json', 'http://127.0.0.1.nip.io/jwks.json', 'http://10.0.0.1/jwks.json', 'ftp://idp.example/jwks.json']) {
      expect(config(url), url).toThrow(/JWT_JWKS_URL must be an https:\/\/ URL/);
    }
  });
});

describe('the authorizer', () => {
  let server: Server;
  beforeAll(async () => {
    server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // A key set and no issuer or audience: a token of any client of that provider would pass.
    Object.assign(process.env, { JWT_JWKS_URL: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`, POWERTOOLS_LOG_LEVEL: 'SILENT' });
    delete process.env.JWT_SECRET;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fails every invocation naming the setting, instead of accepting tokens', async () => {
    const { handler } = await import('../../functions/authorizer.js');
    const token = jwt.sign({ sub: 'u' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', keyid: 'k1', audience: 'another-client' });
    const event = { type: 'TOKEN' as const, authorizationToken: `Bearer ${token}`, methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/chatkit' };
    await expect(handler(event)).rejects.toThrow('JWT_ISSUER and JWT_AUDIENCE are required with JWT_JWKS_URL');
  });
});

describe('npm run dev', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'chatkit-dev-settings-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  const start = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'dev/server.ts'], {
        env: { ...process.env, PORT: '0', DATA_DIR: dataDir, DATABASE_URL: '', NODE_ENV: 'development', JWT_SECRET: '', JWT_JWKS_URL: '', JWT_PUBLIC_KEY: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });

  it('refuses to start with a short secret or a key set without issuer and audience, naming the setting', async () => {
    const short = await start({ JWT_SECRET: 'short-dev-secret' });
    expect(short.code).not.toBe(0);
    expect(short.output).toContain('JWT_SECRET is 16 bytes: HS256 needs at least 32');
    const open = await start({ JWT_JWKS_URL: 'https://idp.example/jwks.json', JWT_ISSUER: 'https://idp.example/' });
    expect(open.code).not.toBe(0);
    expect(open.output).toContain('JWT_AUDIENCE is required with JWT_JWKS_URL');
    expect(open.output).not.toContain('listening on');
  });
});
