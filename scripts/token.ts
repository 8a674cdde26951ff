/**
 * `npm run -s token -- --user bob`: prints a 12-hour token for a user, signed with the secret `npm run dev`
 * verifies (JWT_SECRET, or the one it generated in DATA_DIR), to try the API as a second user.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEV_SECRET_FILE, DEV_USER, devToken, keptSecret } from '../dev/dev-token.js';

const fail = (message: string): never => {
  process.stderr.write(`npm run token: ${message}\n`);
  return process.exit(1);
};

const { values } = (() => {
  try {
    return parseArgs({ options: { user: { type: 'string', default: DEV_USER } }, strict: true });
  } catch (error) {
    return fail(`${(error as Error).message} (usage: npm run -s token -- --user NAME)`);
  }
})();

const env = process.env;
if (env.JWT_PUBLIC_KEY || env.JWT_JWKS_URL) fail('this server verifies tokens signed elsewhere (JWT_PUBLIC_KEY or JWT_JWKS_URL): get one from your identity provider');
const dataDir = env.DATA_DIR ?? '.data';
const secret = env.JWT_SECRET || (existsSync(join(dataDir, DEV_SECRET_FILE)) ? keptSecret(dataDir, DEV_SECRET_FILE) : fail(`no JWT_SECRET and no generated secret in ${dataDir}: run npm run dev once first (or set DATA_DIR)`));
try {
  process.stdout.write(`${await devToken(secret, values.user)}\n`);
} catch (error) {
  fail((error as Error).message);
}
