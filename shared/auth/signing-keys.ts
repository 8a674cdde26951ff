import { createRemoteJWKSet, importSPKI, type JWTVerifyGetKey } from 'jose';
import { AuthError } from './auth-error.js';
import type { KeySource } from './config.js';

/** Well inside the authorizer's 5 s timeout: a hung JWKS endpoint refuses the token, it does not time out the function. */
const JWKS_TIMEOUT_MS = 2_000;
const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
/** An unknown kid refetches the set at most this often, so made-up kids cannot hammer the endpoint. */
const JWKS_COOLDOWN_MS = 30_000;

/**
 * The key that checks a token's signature. jose asks for it only once the token's algorithm is
 * one the source allows.
 */
export function signingKeys(source: KeySource): JWTVerifyGetKey {
  switch (source.kind) {
    case 'secret': {
      const secret = new TextEncoder().encode(source.secret);
      return () => secret;
    }
    case 'public-key': {
      let key: ReturnType<typeof importSPKI> | undefined;
      return () => (key ??= importSPKI(source.publicKey, source.algorithms[0]));
    }
    case 'jwks':
      return jwksKeys(new URL(source.jwksUri));
  }
}

function jwksKeys(url: URL): JWTVerifyGetKey {
  const jwks = createRemoteJWKSet(url, { timeoutDuration: JWKS_TIMEOUT_MS, cacheMaxAge: JWKS_CACHE_MAX_AGE_MS, cooldownDuration: JWKS_COOLDOWN_MS });
  return async (header, token) => {
    // jose would try the set's only key for a token without kid: a token must name its key.
    if (!header.kid) throw new AuthError('token_invalid', 'The token has no key id');
    try {
      return await jwks(header, token);
    } catch {
      // No such kid, or the set could not be fetched in time: either way the token cannot be checked.
      throw new AuthError('token_invalid', 'The token was signed by an unknown key');
    }
  };
}
