import jwt, { type Algorithm, type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import type { AuthConfig } from './config.js';
import { isStorableUserId } from './user-id.js';

export type AuthErrorCode = 'token_missing' | 'token_expired' | 'token_not_active' | 'token_invalid';

/** Why a token was refused; the message is safe to return to a client. */
export class AuthError extends Error {
  constructor(
    readonly code: AuthErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

export interface TokenVerifier {
  verify(token: string): Promise<{ userId: string; claims: JwtPayload }>;
}

const JWKS_ALGORITHMS: Algorithm[] = ['RS256', 'ES256'];

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const jwks = config.key.kind === 'jwks' ? new JwksClient({ jwksUri: config.key.jwksUri, cache: true, cacheMaxAge: 10 * 60_000, rateLimit: true, jwksRequestsPerMinute: 10 }) : undefined;
  const key = config.key;
  const options = {
    algorithms: key.kind === 'jwks' ? JWKS_ALGORITHMS : key.algorithms,
    issuer: config.issuer,
    audience: config.audience as [string, ...string[]] | undefined,
    clockTolerance: config.clockToleranceSeconds,
  };

  const keyFor = async (token: string): Promise<string> => {
    if (key.kind === 'secret') return key.secret;
    if (key.kind === 'public-key') return key.publicKey;
    const kid = jwt.decode(token, { complete: true })?.header.kid;
    if (!kid) throw new AuthError('token_invalid', 'The token has no key id');
    try {
      return (await jwks!.getSigningKey(kid)).getPublicKey();
    } catch {
      throw new AuthError('token_invalid', 'The token was signed by an unknown key');
    }
  };

  return {
    async verify(token) {
      if (!token) throw new AuthError('token_missing', 'A bearer token is required');
      let claims: JwtPayload;
      try {
        // Synchronous, so that whatever jsonwebtoken throws on a crafted token (a null payload
        // is a TypeError) is caught here and is a 401, never a 500 or an unsettled promise.
        claims = jwt.verify(token, await keyFor(token), options) as JwtPayload;
      } catch (error) {
        throw toAuthError(error as Error);
      }
      if (typeof claims !== 'object' || claims === null || typeof claims.exp !== 'number') {
        throw new AuthError('token_invalid', 'The token has no expiry (exp)');
      }
      const userId = claims[config.userClaim];
      if (!isStorableUserId(userId)) throw new AuthError('token_invalid', `The token's ${config.userClaim} claim is not a user id`);
      return { userId, claims };
    },
  };
}

function toAuthError(error: Error): AuthError {
  if (error instanceof AuthError) return error;
  if (error.name === 'TokenExpiredError') return new AuthError('token_expired', 'The token has expired');
  if (error.name === 'NotBeforeError') return new AuthError('token_not_active', 'The token is not valid yet');
  return new AuthError('token_invalid', 'The token is invalid');
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
