import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import jwt from 'jsonwebtoken';
import { afterAll, describe, expect, it } from 'vitest';
import { authConfigFromEnv, createTokenVerifier } from '../../shared/auth/index.js';

// What the verifier must refuse beyond the ordinary cases: keys of the wrong family, claims of the
// wrong type, and key sets that fail, are slow or never answer. Always an AuthError, and soon.
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const secret = 'a-long-enough-shared-secret-for-hs256';
const verifier = (env: Record<string, string>) => createTokenVerifier(authConfigFromEnv(env));
const idp = { JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'chatkit' };
const refused = (code: string) => expect.objectContaining({ name: 'AuthError', code });
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const hmacSigned = (header: object, payload: unknown, key: string) => {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
};

describe('algorithms a key source does not admit', () => {
  const rs = jwt.sign({ sub: 'u' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m' });
  const es = jwt.sign({ sub: 'u' }, ec.privateKey, { algorithm: 'ES256', expiresIn: '5m' });

  it('refuses RS256 and ES256 tokens where the key is a shared secret', async () => {
    for (const token of [rs, es]) await expect(verifier({ JWT_SECRET: secret }).verify(token)).rejects.toEqual(refused('token_invalid'));
  });

  it('refuses an ES256 token against an RSA key, and an RS256 one against an EC key', async () => {
    await expect(verifier({ JWT_PUBLIC_KEY: pem(rsa.publicKey), ...idp }).verify(es)).rejects.toEqual(refused('token_invalid'));
    await expect(verifier({ JWT_PUBLIC_KEY: pem(ec.publicKey), ...idp }).verify(rs)).rejects.toEqual(refused('token_invalid'));
  });

  it('refuses HS256 signed with the EC public key as the secret', async () => {
    const publicPem = pem(ec.publicKey);
    const token = hmacSigned({ alg: 'HS256', typ: 'JWT' }, { sub: 'attacker', exp: now() + 300 }, publicPem);
    await expect(verifier({ JWT_PUBLIC_KEY: publicPem, ...idp }).verify(token)).rejects.toEqual(refused('token_invalid'));
  });
});

describe('time claims', () => {
  const v = verifier({ JWT_SECRET: secret });
  const signed = (claims: object) => hmacSigned({ alg: 'HS256', typ: 'JWT' }, { sub: 'u', ...claims }, secret);

  it('allows the clock tolerance (5 s) either side, and no more', async () => {
    await expect(v.verify(signed({ exp: now() - 2 }))).resolves.toMatchObject({ userId: 'u' });
    await expect(v.verify(signed({ exp: now() + 300, nbf: now() + 2 }))).resolves.toMatchObject({ userId: 'u' });
    await expect(v.verify(signed({ exp: now() - 30 }))).rejects.toEqual(refused('token_expired'));
    await expect(v.verify(signed({ exp: now() + 300, nbf: now() + 30 }))).rejects.toEqual(refused('token_not_active'));
  });

  it('refuses time claims that are not numbers', async () => {
    for (const claims of [{ exp: String(now() + 300) }, { exp: null }, { exp: now() + 300, nbf: 'x' }, { exp: now() + 300, iat: 'x' }]) {
      await expect(v.verify(signed(claims)), JSON.stringify(claims)).rejects.toEqual(refused('token_invalid'));
    }
  });
});

describe('key sets that fail', () => {
  const servers: Server[] = [];
  const jwksServer = async (listener: RequestListener) => {
    const server = createServer(listener);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`;
  };
  afterAll(() =>
    Promise.all(
      servers.map((server) => {
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeAllConnections(); // the held-open request's and the kept-alive ones
        return closed;
      }),
    ),
  );
  const token = jwt.sign({ sub: 'u' }, rsa.privateKey, { algorithm: 'RS256', expiresIn: '5m', keyid: 'key-1' });

  it('refuses, within the fetch timeout, when the key set never answers', async () => {
    const url = await jwksServer(() => {}); // holds every request open
    const started = Date.now();
    await expect(verifier({ JWT_JWKS_URL: url, ...idp }).verify(token)).rejects.toEqual(refused('token_invalid'));
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('refuses when the key set answers an error, a body that is not JSON, or no keys', async () => {
    const answers: Array<[number, string]> = [[500, '{}'], [200, 'not json'], [200, '{"keys":"none"}'], [302, '']];
    for (const [status, body] of answers) {
      const url = await jwksServer((_req, res) => res.writeHead(status, { location: 'http://127.0.0.1:1/' }).end(body));
      await expect(verifier({ JWT_JWKS_URL: url, ...idp }).verify(token), `${status} ${body}`).rejects.toEqual(refused('token_invalid'));
    }
  });

  it('refuses when nothing listens at the key set URL', async () => {
    await expect(verifier({ JWT_JWKS_URL: 'http://127.0.0.1:1/jwks.json', ...idp }).verify(token)).rejects.toEqual(refused('token_invalid'));
  });

  it('refuses an HS256 token signed with a key of the set as the secret, without fetching the set', async () => {
    let fetches = 0;
    const url = await jwksServer((_req, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [{ ...rsa.publicKey.export({ format: 'jwk' }), kid: 'key-1' }] }));
    });
    const confused = hmacSigned({ alg: 'HS256', typ: 'JWT', kid: 'key-1' }, { sub: 'attacker', exp: now() + 300 }, pem(rsa.publicKey));
    const unsigned = `${b64({ alg: 'none', kid: 'key-1' })}.${b64({ sub: 'attacker', exp: now() + 300 })}.`;
    for (const forged of [confused, unsigned]) await expect(verifier({ JWT_JWKS_URL: url, ...idp }).verify(forged)).rejects.toEqual(refused('token_invalid'));
    expect(fetches).toBe(0);
  });
});

describe('settings no token could be checked with', () => {
  it('refuses them when read, not token by token', () => {
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY: pem(short.publicKey) })).toThrow(/rsa 1024-bit key/);
    expect(() => authConfigFromEnv({ JWT_PUBLIC_KEY: pem(p384.publicKey) })).toThrow(/ec secp384r1 key/);
    for (const url of ['not a url', 'file:///etc/jwks.json']) expect(() => authConfigFromEnv({ JWT_JWKS_URL: url })).toThrow(/JWT_JWKS_URL/);
    for (const tolerance of ['abc', '-5', 'Infinity']) {
      expect(() => authConfigFromEnv({ JWT_SECRET: secret, JWT_CLOCK_TOLERANCE_SECONDS: tolerance })).toThrow(/JWT_CLOCK_TOLERANCE_SECONDS/);
    }
  });
});
