import { createPublicKey } from 'node:crypto';

/** What a PEM public key signs with: decided by the key, never by the token. */
export type PublicKeyAlgorithm = 'RS256' | 'ES256';

/** Where the keys that sign users' tokens come from: exactly one. */
export type KeySource =
  | { kind: 'secret'; secret: string; algorithms: ['HS256'] }
  | { kind: 'public-key'; publicKey: string; algorithms: [PublicKeyAlgorithm] }
  | { kind: 'jwks'; jwksUri: string };

export interface AuthConfig {
  key: KeySource;
  issuer?: string | undefined;
  audience?: string[] | undefined;
  /** The claim that holds the user id. */
  userClaim: string;
  clockToleranceSeconds: number;
}

export function authConfigFromEnv(env: NodeJS.ProcessEnv): AuthConfig {
  const sources = [env.JWT_SECRET && 'JWT_SECRET', env.JWT_PUBLIC_KEY && 'JWT_PUBLIC_KEY', env.JWT_JWKS_URL && 'JWT_JWKS_URL'].filter(Boolean);
  if (sources.length !== 1) {
    throw new Error(`Set exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (found ${sources.length ? sources.join(', ') : 'none'})`);
  }
  const audience = env.JWT_AUDIENCE?.split(',').map((a) => a.trim()).filter(Boolean);
  return {
    key: env.JWT_SECRET
      ? { kind: 'secret', secret: env.JWT_SECRET, algorithms: ['HS256'] }
      : env.JWT_PUBLIC_KEY
        ? { kind: 'public-key', publicKey: pem(env.JWT_PUBLIC_KEY), algorithms: algorithmsForKey(pem(env.JWT_PUBLIC_KEY)) }
        : { kind: 'jwks', jwksUri: jwksUrl(env.JWT_JWKS_URL!) },
    issuer: env.JWT_ISSUER || undefined,
    audience: audience?.length ? audience : undefined,
    userClaim: env.JWT_USER_CLAIM || 'sub',
    clockToleranceSeconds: clockTolerance(env.JWT_CLOCK_TOLERANCE_SECONDS ?? '5'),
  };
}

function jwksUrl(value: string): string {
  const protocol = URL.canParse(value) ? new URL(value).protocol : undefined;
  if (protocol !== 'https:' && protocol !== 'http:') throw new Error(`JWT_JWKS_URL is not an http(s) URL: ${value}`);
  return value;
}

// Refused here rather than at every token, where a bad setting would only show as refusals.
function clockTolerance(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`JWT_CLOCK_TOLERANCE_SECONDS must be a number of seconds, not ${value}`);
  return seconds;
}

/** Environment variables often carry PEM newlines escaped. */
function pem(value: string): string {
  return value.includes('\\n') ? value.replaceAll('\\n', '\n') : value;
}

/**
 * A public key admits only its own family's algorithms: never HS*, so no algorithm confusion. A
 * key no token could be verified with (a short RSA key, another curve) is refused here.
 */
export function algorithmsForKey(publicKey: string): [PublicKeyAlgorithm] {
  const { asymmetricKeyType: type, asymmetricKeyDetails: details } = createPublicKey(publicKey);
  if (type === 'rsa' && (details?.modulusLength ?? 0) >= 2048) return ['RS256'];
  if (type === 'ec' && details?.namedCurve === 'prime256v1') return ['ES256'];
  const which = [type, details?.modulusLength && `${details.modulusLength}-bit`, details?.namedCurve].filter(Boolean).join(' ');
  throw new Error(`JWT_PUBLIC_KEY is a ${which} key: use an RSA (RS256, 2048 bits or more) or EC P-256 (ES256) key`);
}
