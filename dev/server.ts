/**
 * `npm run dev`: the whole API on one local port, over the very handlers the Lambda functions
 * serve. With no DATABASE_URL it keeps its data in an embedded PostgreSQL (PGlite) under DATA_DIR.
 */
import { serve } from '@hono/node-server';
import { SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authConfigFromEnv, createTokenVerifier } from '../shared/auth/index.js';
import { databaseOptionsFromEnv, openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { corsOriginsFromEnv } from '../shared/http/api.js';
import { createLogger } from '../shared/log.js';
import { createChatKitServerFromEnv } from '../shared/server/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { createDevApp } from './app.js';
import { DiskAttachmentStore } from './disk-attachments.js';
import { ListenError, listenAddress, listenProblem } from './listen-address.js';
import { devTransport } from './transport.js';

const env = process.env;
const logger = createLogger('chatkit-dev');
const say = (line: string) => process.stdout.write(`${line}\n`);
const quit = (error: unknown): never => {
  if (!(error instanceof ListenError)) throw error;
  process.stderr.write(`npm run dev: ${error.message}\n`);
  process.exit(1);
};

const { hostname, port } = await listenAddress(env).catch(quit);

const dataDir = env.DATA_DIR ?? '.data';
const generatedSecret = !env.JWT_SECRET && !env.JWT_PUBLIC_KEY && !env.JWT_JWKS_URL;
if (generatedSecret) env.JWT_SECRET = keptSecret(dataDir, 'dev-jwt-secret');
const verifier = createTokenVerifier(authConfigFromEnv(env));
const devToken = generatedSecret ? await devUserToken(env.JWT_SECRET!) : undefined;

const database = await openDatabase(databaseOptionsFromEnv(env, 'app'));
const migrating = env.DATABASE_URL_UNPOOLED ? await openDatabase(databaseOptionsFromEnv(env, 'migrate')) : database;
const { applied } = await migrateToLatest(migrating.db);
if (migrating !== database) await migrating.close();

const store = new PostgresStore(database.db);
let url = '';
const files = new DiskAttachmentStore(join(dataDir, 'attachments'), keptSecret(dataDir, 'dev-attachments-secret'), () => url, store);
const chatkit = createChatKitServerFromEnv({ store, env, log: logger, announce: say, attachments: files });
const { transport, settled } = devTransport(verifier);
const app = createDevApp({ api: { transport, logger, corsOrigins: corsOriginsFromEnv(env) }, store, chatkit, files });

const server = serve({ fetch: app.fetch, hostname, port }, (info) => {
  url = `http://${hostname}:${info.port}`;
  say(`database: ${database.driver}${database.driver === 'pglite' ? ` in ${dataDir}` : ''}; migrations applied now: ${applied.length ? applied.join(', ') : 'none (up to date)'}`);
  say(`ChatKit backend listening on ${url} (POST /chatkit, GET /threads, DELETE /threads/{id}, GET /threads/{id}/messages, GET /openapi.json)`);
  if (devToken) {
    say(`No JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL set: using a generated dev secret (kept in ${dataDir}). A token for user "dev-user":`);
    say(`  export TOKEN=${devToken}`);
    say(`  curl -s ${url}/threads -H "Authorization: Bearer $TOKEN"`);
  }
});

// Taken between the check above and now: still one line, and the database is closed first.
server.once('error', (error: NodeJS.ErrnoException) => void database.close().finally(() => quit(listenProblem(error, hostname, port))));

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  say(`${signal}: finishing open requests, then closing the database`);
  server.close();
  await settled();
  await database.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));

/** A token for "dev-user" under the generated secret, printed for curl. */
function devUserToken(secret: string): Promise<string> {
  return new SignJWT({ sub: 'dev-user' }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setIssuedAt().setExpirationTime('12h').sign(new TextEncoder().encode(secret));
}

/** A secret made once and kept beside the dev data, so tokens and signed URLs stay valid across restarts. */
function keptSecret(dataDir: string, name: string): string {
  const file = join(dataDir, name);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
