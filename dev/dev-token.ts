import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Tokens for trying the API by hand: `npm run dev` signs them with a secret it generates and keeps
// beside its data, and `npm run token -- --user bob` signs one for another user with the same secret.

export const DEV_USER = 'dev-user';
/** Where the generated JWT secret is kept, under DATA_DIR. */
export const DEV_SECRET_FILE = 'dev-jwt-secret';
const TOKEN_HOURS = 12;

/** A user id a dev token may carry: short and printable, so it is safe in a URL and a shell. */
export const DEV_USER_ID = /^[A-Za-z0-9._@-]{1,64}$/;

/** An HS256 token for `user`, valid for 12 hours, as the API's verifier accepts under JWT_SECRET. */
export function devToken(secret: string, user: string): Promise<string> {
  if (!DEV_USER_ID.test(user)) throw new Error(`"${user}" is not a dev user id: use letters, digits, . _ @ - (at most 64)`);
  return new SignJWT({ sub: user })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(`${TOKEN_HOURS}h`)
    .sign(new TextEncoder().encode(secret));
}

/** A secret made once and kept beside the dev data, so tokens and signed URLs stay valid across restarts. */
export function keptSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
