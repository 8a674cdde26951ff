import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { AuthError } from './auth-error.js';
import type { AuthConfig } from './config.js';
import { signingKeys } from './signing-keys.js';
import { isStorableUserId } from './user-id.js';

export interface TokenVerifier {
  verify(token: string): Promise<{ userId: string; claims: JWTPayload }>;
}

const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export function createTokenVerifier(config: AuthConfig): TokenVerifier {
  const keys = signingKeys(config.key);
  const options: JWTVerifyOptions = {
    algorithms: config.key.kind === 'jwks' ? JWKS_ALGORITHMS : config.key.algorithms,
    issuer: config.issuer,
    audience: config.audience,
    clockTolerance: config.clockToleranceSeconds,
    requiredClaims: ['exp'], // a token that never expires is refused
  };

  return {
    async verify(token) {
      if (!token) throw new AuthError('token_missing', 'A bearer token is required');
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(token, keys, options));
      } catch (error) {
        throw toAuthError(error);
      }
      const userId = claims[config.userClaim];
      if (!isStorableUserId(userId)) throw new AuthError('token_invalid', `The token's ${config.userClaim} claim is not a user id`);
      return { userId, claims };
    },
  };
}

function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof errors.JWTExpired) return new AuthError('token_expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf' && error.reason === 'check_failed') {
    return new AuthError('token_not_active', 'The token is not valid yet');
  }
  return new AuthError('token_invalid', 'The token is invalid');
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
