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
        : { kind: 'jwks', jwksUri: env.JWT_JWKS_URL! },
    issuer: env.JWT_ISSUER || undefined,
    audience: audience?.length ? audience : undefined,
    userClaim: env.JWT_USER_CLAIM || 'sub',
    clockToleranceSeconds: Number(env.JWT_CLOCK_TOLERANCE_SECONDS ?? 5),
  };
}

/** Environment variables often carry PEM newlines escaped. */
function pem(value: string): string {
  return value.includes('\\n') ? value.replaceAll('\\n', '\n') : value;
}

/** A public key admits only its own family's algorithms: never HS*, so no algorithm confusion. */
export function algorithmsForKey(publicKey: string): [PublicKeyAlgorithm] {
  const type = createPublicKey(publicKey).asymmetricKeyType;
  if (type === 'rsa') return ['RS256'];
  if (type === 'ec') return ['ES256'];
  throw new Error(`JWT_PUBLIC_KEY is a ${type} key: use an RSA (RS256) or EC P-256 (ES256) key`);
}
