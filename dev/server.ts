/**
 * `npm run dev`: the whole API on one local port, over the very handlers the Lambda functions
 * serve. With no DATABASE_URL it keeps its data in an embedded PostgreSQL (PGlite) under DATA_DIR.
 */
import { serve } from '@hono/node-server';
import { join } from 'node:path';
import { authConfigFromEnv, createTokenVerifier } from '../shared/auth/index.js';
import { databaseOptionsFromEnv, openDatabase } from '../shared/db/connect.js';
import { migrateToLatest } from '../shared/db/migrate.js';
import { corsOriginsFromEnv } from '../shared/http/cors.js';
import { createLogger } from '../shared/log.js';
import { attachmentPolicyFromEnv } from '../shared/server/attachment-store.js';
import { createChatKitServerFromEnv } from '../shared/server/index.js';
import { PostgresStore } from '../shared/store/postgres-store.js';
import { createDevApp } from './app.js';
import { DEV_SECRET_FILE, DEV_USER, devToken, keptSecret } from './dev-token.js';
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
if (generatedSecret) env.JWT_SECRET = keptSecret(dataDir, DEV_SECRET_FILE);
const verifier = createTokenVerifier(authConfigFromEnv(env));
// Dev signs tokens only with a secret it knows: its generated one, or JWT_SECRET.
const mintToken = env.JWT_SECRET ? (user: string) => devToken(env.JWT_SECRET!, user) : undefined;
const corsOrigins = corsOriginsFromEnv(env);

const database = await openDatabase(databaseOptionsFromEnv(env, 'app'));
const migrating = env.DATABASE_URL_UNPOOLED ? await openDatabase(databaseOptionsFromEnv(env, 'migrate')) : database;
const { applied } = await migrateToLatest(migrating.db);
if (migrating !== database) await migrating.close();

const store = new PostgresStore(database.db);
let url = '';
// The chat page's origin: ChatKit checks no domain key on localhost. Upload and preview URLs use it
// too, so that the page's uploads are same-origin.
let pageUrl = '';
const files = new DiskAttachmentStore(join(dataDir, 'attachments'), keptSecret(dataDir, 'dev-attachments-secret'), () => pageUrl, store);
const chatkit = createChatKitServerFromEnv({ store, env, log: logger, announce: say, attachments: files });
const { transport, settled } = devTransport(verifier);
const page = { mintToken, tools: () => chatkit.tools(), attachments: { maxBytes: attachmentPolicyFromEnv(env).maxBytes } };
const app = createDevApp({ api: { transport, logger, corsOrigins }, store, chatkit, files, page });

const server = serve({ fetch: app.fetch, hostname, port }, async (info) => {
  url = `http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${info.port}`;
  pageUrl = ['127.0.0.1', 'localhost', '::1'].includes(hostname) ? `http://localhost:${info.port}` : url;
  say(`database: ${database.driver}${database.driver === 'pglite' ? ` in ${dataDir}` : ''}; migrations applied now: ${applied.length ? applied.join(', ') : 'none (up to date)'}`);
  say(`ChatKit backend listening on ${url} (POST /chatkit, GET /threads, DELETE /threads/{id}, GET /threads/{id}/messages, GET /openapi.json)`);
  say(`Chat page (dev only): ${pageUrl}/   (add ?user=NAME to chat as another user; stop the server with Ctrl-C)`);
  if (generatedSecret && mintToken) {
    say(`No JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL set: using a generated dev secret (kept in ${dataDir}). A token for user "${DEV_USER}":`);
    say(`  export TOKEN=${await mintToken(DEV_USER)}`);
    say(`  curl -s ${url}/threads -H "Authorization: Bearer $TOKEN"`);
    say(`  (another user: npm run -s token -- --user bob)`);
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

// `kill <pid of npm>`: npm passes the signal to the shell that runs the script, which dies without
// passing it on. Left to itself the server would go on holding the port; it stops with its parent.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) void stop('parent process exited');
}, 500).unref();
