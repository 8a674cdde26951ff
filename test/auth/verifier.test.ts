import { createHmac, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authConfigFromEnv, bearerToken, createTokenVerifier } from '../../shared/auth/index.js';
import { MAX_USER_ID_LENGTH } from '../../shared/auth/user-id.js';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const secret = 'a-long-enough-shared-secret-for-hs256';
const hs = (claims: object, options: jwt.SignOptions = {}) =>
  jwt.sign(claims, secret, { algorithm: 'HS256', ...('exp' in claims ? {} : { expiresIn: '5m' }), ...options });
const verifier = (env: Record<string, string>) => createTokenVerifier(authConfigFromEnv(env));
/** Who the asymmetric tokens are from and for: required with a public key or a key set. */
const idp = { JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'chatkit' };
const minted = { issuer: 'https://idp.example/', audience: 'chatkit' };
const refused = (code: string) => expect.objectContaining({ name: 'AuthError', code });

describe('HS256 shared secret', () => {
  const v = verifier({ JWT_SECRET: secret, JWT_ISSUER: 'https://issuer.example', JWT_AUDIENCE: 'chatkit,other' });
  const valid = (extra: object = {}, options: jwt.SignOptions = {}) => hs({ sub: 'user-1', ...extra }, { issuer: 'https://issuer.example', audience: 'chatkit', ...options });

  it('accepts a valid token and returns the user id', async () => {
    await expect(v.verify(valid())).resolves.toMatchObject({ userId: 'user-1', claims: { sub: 'user-1' } });
  });

  it('refuses expired, not-yet-valid, unexpiring, tampered, wrong issuer and wrong audience tokens', async () => {
    await expect(v.verify(valid({ exp: Math.floor(Date.now() / 1000) - 60 }))).rejects.toEqual(refused('token_expired'));
    await expect(v.verify(valid({}, { notBefore: '1h' }))).rejects.toEqual(refused('token_not_active'));
    await expect(v.verify(jwt.sign({ sub: 'user-1' }, secret, { algorithm: 'HS256', issuer: 'https://issuer.example', audience: 'chatkit' }))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify(jwt.sign({ sub: 'user-1' }, 'another-secret', { expiresIn: '5m', issuer: 'https://issuer.example', audience: 'chatkit' }))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify(valid({}, { issuer: 'https://evil.example' }))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify(valid({}, { audience: 'someone-else' }))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify(valid({ sub: '' }))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify('')).rejects.toEqual(refused('token_missing'));
  });

  it('refuses alg "none"', async () => {
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'user-1', exp: Math.floor(Date.now() / 1000) + 300, iss: 'https://issuer.example', aud: 'chatkit' })}.`;
    await expect(v.verify(unsigned)).rejects.toEqual(refused('token_invalid'));
  });
});

describe('user claims the store cannot hold, and payloads that are not claims', () => {
  const v = verifier({ JWT_SECRET: secret });
  const b64 = (text: string) => Buffer.from(text).toString('base64url');
  const signed = (payload: string) => {
    const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };

  it('refuses a user id with U+0000 or a lone surrogate, an empty or over-long one, and one that is not a string', async () => {
    for (const sub of ['user\u0000', '\u0000', 'user\ud800', '\udfff', 'a\udc00b', '', 'a'.repeat(MAX_USER_ID_LENGTH + 1), 42, null, ['user'], { id: 'user' }]) {
      await expect(v.verify(hs({ sub })), JSON.stringify(sub)).rejects.toEqual(refused('token_invalid'));
    }
    await expect(v.verify(hs({}))).rejects.toEqual(refused('token_invalid'));
  });

  it('accepts any other string up to the limit, pairs and non-Latin text included', async () => {
    for (const sub of ['a'.repeat(MAX_USER_ID_LENGTH), 'ünïcödé-🧪', ' ', 'auth0|5f7c8ec7c33c6c004bbafe82']) {
      await expect(v.verify(hs({ sub }))).resolves.toMatchObject({ userId: sub });
    }
  });

  it('refuses a validly signed payload that is null, an array, a string or not JSON, as a token error', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    for (const payload of ['null', '[1]', '"user"', 'not json', `{"sub":"u","exp":${exp},"nbf":null}`]) {
      await expect(v.verify(signed(payload)), payload).rejects.toEqual(refused('token_invalid'));
    }
  });
});

describe('public keys', () => {
  it('verifies RS256 and ES256 by the key type', async () => {
    const rs = jwt.sign({ sub: 'rs-user' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', ...minted });
    const es = jwt.sign({ sub: 'es-user' }, ec.privateKey, { algorithm: 'ES256', expiresIn: '5m', ...minted });
    await expect(verifier({ JWT_PUBLIC_KEY: pem(rsa.publicKey), ...idp }).verify(rs)).resolves.toMatchObject({ userId: 'rs-user' });
    await expect(verifier({ JWT_PUBLIC_KEY: pem(ec.publicKey).replaceAll('\n', '\\n'), ...idp }).verify(es)).resolves.toMatchObject({ userId: 'es-user' });
  });

  it('refuses HS256 tokens signed with the public key as a secret (algorithm confusion)', async () => {
    const publicPem = pem(rsa.publicKey);
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ sub: 'attacker', exp: Math.floor(Date.now() / 1000) + 300 })).toString('base64url');
    const signature = createHmac('sha256', publicPem).update(`${header}.${payload}`).digest('base64url');
    await expect(verifier({ JWT_PUBLIC_KEY: publicPem, ...idp }).verify(`${header}.${payload}.${signature}`)).rejects.toEqual(refused('token_invalid'));
  });

  it('reads the user id from a configured claim', async () => {
    const token = jwt.sign({ sub: 'x', email: 'ada@example.com' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', ...minted });
    await expect(verifier({ JWT_PUBLIC_KEY: pem(rsa.publicKey), JWT_USER_CLAIM: 'email', ...idp }).verify(token)).resolves.toMatchObject({ userId: 'ada@example.com' });
  });
});

describe('JWKS', () => {
  let server: Server;
  let fetches = 0;
  let url: string;
  beforeAll(async () => {
    const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'key-1', use: 'sig', alg: 'RS256' };
    server = createServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('verifies with the key named by kid, caches keys, and refuses unknown kids', async () => {
    const v = verifier({ JWT_JWKS_URL: url, ...idp });
    const sign = (kid: string) => jwt.sign({ sub: 'jwks-user' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', keyid: kid, ...minted });
    for (let i = 0; i < 3; i++) await expect(v.verify(sign('key-1'))).resolves.toMatchObject({ userId: 'jwks-user' });
    expect(fetches).toBe(1);
    await expect(v.verify(sign('key-unknown'))).rejects.toEqual(refused('token_invalid'));
    await expect(v.verify(jwt.sign({ sub: 'u' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', ...minted }))).rejects.toEqual(refused('token_invalid'));
  });

  it('refuses a null payload signed by a known key (the key lookup is asynchronous: a throw there must not leave the promise unsettled)', async () => {
    const b64 = (text: string) => Buffer.from(text).toString('base64url');
    const input = `${b64(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'key-1' }))}.${b64('null')}`;
    const token = `${input}.${createSign('RSA-SHA256').update(input).sign(rsa.privateKey, 'base64url')}`;
    await expect(verifier({ JWT_JWKS_URL: url, ...idp }).verify(token)).rejects.toEqual(refused('token_invalid'));
  });
});

describe('configuration', () => {
  it('needs exactly one key source and refuses unusable keys', () => {
    expect(() => authConfigFromEnv({})).toThrow(/exactly one/);
    expect(() => authConfigFromEnv({ JWT_SECRET: 's', JWT_JWKS_URL: 'http://x' })).toThrow(/exactly one/);
    const ed = generateKeyPairSync('ed25519');
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY: pem(ed.publicKey) })).toThrow(/RSA .* or EC/);
  });

  it('parses bearer headers', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
