import jwt, { type Algorithm, type JwtHeader, type JwtPayload } from 'jsonwebtoken';
import { JwksClient } from 'jwks-rsa';
import type { AuthConfig } from './config.js';

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

  const keyFor = (header: JwtHeader, done: (error: Error | null, key?: string) => void) => {
    if (key.kind === 'secret') return done(null, key.secret);
    if (key.kind === 'public-key') return done(null, key.publicKey);
    if (!header.kid) return done(new AuthError('token_invalid', 'The token has no key id'));
    jwks!.getSigningKey(header.kid).then(
      (signingKey) => done(null, signingKey.getPublicKey()),
      () => done(new AuthError('token_invalid', 'The token was signed by an unknown key')),
    );
  };

  return {
    verify: (token) =>
      new Promise((resolve, reject) => {
        if (!token) return reject(new AuthError('token_missing', 'A bearer token is required'));
        jwt.verify(
          token,
          keyFor,
          {
            algorithms: key.kind === 'jwks' ? JWKS_ALGORITHMS : key.algorithms,
            issuer: config.issuer,
            audience: config.audience as [string, ...string[]] | undefined,
            clockTolerance: config.clockToleranceSeconds,
          },
          (error, decoded) => {
            if (error) return reject(toAuthError(error));
            const claims = decoded as JwtPayload;
            if (typeof claims.exp !== 'number') return reject(new AuthError('token_invalid', 'The token has no expiry (exp)'));
            const userId = claims[config.userClaim];
            if (typeof userId !== 'string' || userId.length === 0 || userId.length > 255) {
              return reject(new AuthError('token_invalid', `The token's ${config.userClaim} claim is not a user id`));
            }
            resolve({ userId, claims });
          },
        );
      }),
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
