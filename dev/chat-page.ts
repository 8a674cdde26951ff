import { getConnInfo } from '@hono/node-server/conninfo';
import { transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { Hono, type Context } from 'hono';
import { errorBody } from '../shared/http/errors.js';
import { DEV_USER, DEV_USER_ID } from './dev-token.js';
import type { ChatPageConfig, TokenResponse } from './page/config.js';

/** ChatKit's web component, where ChatKit's quick start loads it from. */
export const CHATKIT_SCRIPT_URL = 'https://cdn.platform.openai.com/deployments/chatkit/chatkit.js';
/**
 * ChatKit requires a domain key, and verifies it only on a registered domain (OpenAI dashboard →
 * Security → Domain allowlist): on localhost any placeholder passes.
 */
export const LOCALHOST_DOMAIN_KEY = 'domain_pk_localhost_dev';

export interface ChatPageOptions {
  /** Signs a token for a user (dev's generated secret); absent, the page asks for one. */
  mintToken?: ((user: string) => Promise<string>) | undefined;
  /** The agent's tools, for the composer's tool menu. */
  tools: () => Promise<readonly string[]>;
  /** Attachments are on when the server has a store for them. */
  attachments: { maxBytes: number } | null;
}

/**
 * `npm run dev`'s chat page (dev only): `GET /` serves ChatKit's web component configured for this
 * server, `GET /dev/chat.js` its script, and `POST /dev/token` a token for the page's user — to
 * this machine only, and without CORS, so that no other site or machine can take one.
 */
export function chatPageApp(options: ChatPageOptions) {
  let script: Promise<string> | undefined;
  return new Hono()
    .get('/', async (c) => {
      const user = c.req.query('user') || DEV_USER;
      if (!DEV_USER_ID.test(user)) return c.json(errorBody('invalid_params', 'user: letters, digits, . _ @ - (at most 64)'), 400);
      const config: ChatPageConfig = {
        apiUrl: '/chatkit',
        tokenUrl: options.mintToken ? '/dev/token' : null,
        user,
        domainKey: LOCALHOST_DOMAIN_KEY,
        scriptUrl: CHATKIT_SCRIPT_URL,
        tools: [...(await options.tools())],
        attachments: options.attachments,
      };
      return c.html(page(config), 200, { 'cache-control': 'no-store' });
    })
    .get('/dev/chat.js', async (c) => {
      script ??= compileClient().catch((error: unknown) => {
        script = undefined;
        throw error;
      });
      return c.body(await script, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    })
    .post('/dev/token', async (c) => {
      if (!options.mintToken) return c.json(errorBody('not_enabled', 'This server verifies tokens it cannot sign (JWT_PUBLIC_KEY or JWT_JWKS_URL): paste one'), 501);
      if (!fromThisMachine(c)) return c.json(errorBody('forbidden', 'Tokens are handed out to this machine only: paste one from npm run token'), 403);
      const body = (await c.req.json().catch(() => ({}))) as { user?: unknown };
      const user = typeof body.user === 'string' ? body.user : DEV_USER;
      if (!DEV_USER_ID.test(user)) return c.json(errorBody('invalid_params', 'user: letters, digits, . _ @ - (at most 64)'), 400);
      const answer: TokenResponse = { token: await options.mintToken(user), user };
      return c.json(answer, 200, { 'cache-control': 'no-store' });
    });
}

/** A loopback peer that asked for a loopback name (a page on another site rebinding its name to 127.0.0.1 asks for its own). */
function fromThisMachine(c: Context): boolean {
  const address = getConnInfo(c).remote.address ?? '';
  const loopback = address === '::1' || /^(::ffff:)?127\./.test(address);
  const host = (c.req.header('host') ?? '').replace(/:\d+$/, '');
  return loopback && ['localhost', '127.0.0.1', '[::1]'].includes(host);
}

async function compileClient(): Promise<string> {
  const source = await readFile(new URL('./page/client.ts', import.meta.url), 'utf8');
  return (await transform(source, { loader: 'ts', format: 'esm', target: 'es2022' })).code;
}

function page(config: ChatPageConfig): string {
  // `<` escaped: the JSON cannot close its script element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ChatKit dev chat</title>
<link rel="icon" href="data:,">
<style>
  html, body { height: 100%; margin: 0; font: 15px/1.4 system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  #status { margin: 0; padding: .6rem 1rem; background: #f4f4f5; }
  #status[data-kind="error"] { background: #fee2e2; color: #7f1d1d; }
  [hidden] { display: none !important; }
  #token-form { padding: .6rem 1rem; display: flex; gap: .5rem; }
  #token-form input { flex: 1; font: inherit; }
  #chat { flex: 1; min-height: 0; }
  openai-chatkit { display: block; height: 100%; }
</style>
</head>
<body>
<p id="status" role="status">Loading…</p>
<form id="token-form" hidden><input name="token" placeholder="Bearer token" autocomplete="off"><button>Use token</button></form>
<main id="chat"></main>
<noscript>This page needs JavaScript.</noscript>
<script type="application/json" id="chat-config">${json}</script>
<script type="module" src="/dev/chat.js"></script>
</body>
</html>
`;
}
