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

/** HS256 is as strong as its secret: shorter ones can be found by brute force from one token. */
export const MIN_SECRET_BYTES = 32;

/**
 * The auth settings, refused at start (naming the setting) when they are unsafe: every place
 * that verifies tokens (the authorizer, `npm run dev`) reads them here.
 */
export function authConfigFromEnv(env: NodeJS.ProcessEnv): AuthConfig {
  const sources = [env.JWT_SECRET && 'JWT_SECRET', env.JWT_PUBLIC_KEY && 'JWT_PUBLIC_KEY', env.JWT_JWKS_URL && 'JWT_JWKS_URL'].filter(Boolean);
  if (sources.length !== 1) {
    throw new Error(`Set exactly one of JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (found ${sources.length ? sources.join(', ') : 'none'})`);
  }
  const key: KeySource = env.JWT_SECRET
    ? { kind: 'secret', secret: sharedSecret(env.JWT_SECRET), algorithms: ['HS256'] }
    : env.JWT_PUBLIC_KEY
      ? { kind: 'public-key', publicKey: pem(env.JWT_PUBLIC_KEY), algorithms: algorithmsForKey(pem(env.JWT_PUBLIC_KEY)) }
      : { kind: 'jwks', jwksUri: jwksUrl(env.JWT_JWKS_URL!, env) };
  const issuer = env.JWT_ISSUER?.trim() || undefined;
  const audience = env.JWT_AUDIENCE?.split(',').map((a) => a.trim()).filter(Boolean);
  if (key.kind !== 'secret') {
    // An identity provider signs the tokens of all its applications with the same keys: only
    // the issuer and the audience tell a token minted for this API from one for another client.
    const missing = [!issuer && 'JWT_ISSUER', !audience?.length && 'JWT_AUDIENCE'].filter(Boolean);
    if (missing.length) {
      throw new Error(
        `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} required with ${sources[0]}: without ${missing.length > 1 ? 'them' : 'it'}, ` +
          'a token your identity provider issued to another application (another client or API) would be accepted as its user',
      );
    }
  }
  return {
    key,
    issuer,
    audience: audience?.length ? audience : undefined,
    userClaim: env.JWT_USER_CLAIM || 'sub',
    clockToleranceSeconds: clockTolerance(env.JWT_CLOCK_TOLERANCE_SECONDS ?? '5'),
  };
}

function sharedSecret(secret: string): string {
  const bytes = Buffer.byteLength(secret, 'utf8');
  if (bytes < MIN_SECRET_BYTES) {
    throw new Error(`JWT_SECRET is ${bytes} bytes: HS256 needs at least ${MIN_SECRET_BYTES} (a shorter one can be found by brute force); make one with \`openssl rand -hex 32\``);
  }
  return secret;
}

/** https, or http to this machine outside production (a local identity provider in development). */
function jwksUrl(value: string, env: NodeJS.ProcessEnv): string {
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url?.protocol === 'https:') return value;
  if (url?.protocol === 'http:' && isLoopback(url.hostname) && env.NODE_ENV !== 'production') return value;
  throw new Error(`JWT_JWKS_URL must be an https:// URL (http:// only to localhost outside production), not ${value}`);
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
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
