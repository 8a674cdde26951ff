// The dev chat page's script (browser): ChatKit's web component pointed at this server. Type-checked
// against the published @openai/chatkit types (tsconfig.browser.json); served compiled by dev/chat-page.ts.
import type { ChatKitOptions, OpenAIChatKit, ToolOption } from '@openai/chatkit';
import type { ChatPageConfig, TokenResponse } from './config.js';

const config = JSON.parse(document.getElementById('chat-config')!.textContent!) as ChatPageConfig;
const status = document.getElementById('status')!;
const tokenForm = document.getElementById('token-form') as HTMLFormElement;
const storedTokenKey = `chatkit-dev-token:${config.user}`;

function say(text: string, kind: 'info' | 'error' = 'info') {
  status.textContent = text;
  status.dataset.kind = kind;
  status.hidden = false;
}

let token: string | null = sessionStorage.getItem(storedTokenKey);

/** A new token from the dev server (it signs them for this machine only); null when it will not. */
async function renewToken(): Promise<string | null> {
  if (!config.tokenUrl) return null;
  const response = await fetch(config.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: config.user }) });
  if (!response.ok) return null;
  token = ((await response.json()) as TokenResponse).token;
  sessionStorage.setItem(storedTokenKey, token);
  return token;
}

/** The token pasted by hand, for a server that signs none (JWT_PUBLIC_KEY, JWKS) or a page opened from another machine. */
function askForToken(): Promise<string> {
  say(`Paste a token for this server (npm run dev prints one; npm run token -- --user ${config.user} signs another).`);
  tokenForm.hidden = false;
  return new Promise((resolve) => {
    tokenForm.addEventListener('submit', (event) => {
      event.preventDefault();
      const pasted = String(new FormData(tokenForm).get('token') ?? '').trim();
      if (!pasted) return;
      tokenForm.hidden = true;
      sessionStorage.setItem(storedTokenKey, pasted);
      resolve(pasted);
    });
  });
}

const apiUrl = new URL(config.apiUrl, location.href);

/**
 * ChatKit's requests to the API, with the bearer token. On a 401 (expired) the token is renewed
 * once and the request sent again. Only the API gets the token: never an upload or preview URL.
 */
const authorizedFetch: typeof fetch = async (input, init) => {
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  if (url.origin !== apiUrl.origin || !url.pathname.startsWith(apiUrl.pathname)) return fetch(input, init);
  const send = () => {
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetch(input, { ...init, headers });
  };
  const response = await send();
  if (response.status !== 401 || !(await renewToken())) return response;
  return send();
};

/** ChatKit's script, from OpenAI's CDN; rejects when it cannot load (offline, blocked). */
function loadChatKit(): Promise<void> {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = config.scriptUrl;
    script.async = true;
    script.onload = () => resolve();
    script.onerror = () => reject(new Error(`could not load ${config.scriptUrl}`));
    document.head.append(script);
  });
}

function chatOptions(): ChatKitOptions {
  const tools: ToolOption[] = config.tools.map((name) => ({ id: name, label: humanize(name), icon: 'bolt' }));
  return {
    api: {
      url: config.apiUrl,
      // ChatKit verifies the domain key on a registered domain, not on localhost: any placeholder works here.
      domainKey: config.domainKey,
      fetch: authorizedFetch,
      ...(config.attachments ? { uploadStrategy: { type: 'two_phase' as const } } : {}),
    },
    history: { enabled: true, showDelete: true, showRename: true },
    header: { title: { text: `ChatKit dev · ${config.user}` } },
    threadItemActions: { feedback: true, retry: true },
    startScreen: {
      greeting: 'Dev chat: everything you type goes to this server.',
      prompts: config.tools.includes('get_time') ? [{ label: 'Call get_time', prompt: '/get_time {}', icon: 'clock' }] : [],
    },
    composer: {
      ...(config.attachments ? { attachments: { enabled: true, maxSize: config.attachments.maxBytes } } : {}),
      ...(tools.length ? { tools } : {}),
    },
  };
}

function humanize(name: string): string {
  const words = name.replace(/[_-]+/g, ' ').trim();
  return words ? words[0]!.toUpperCase() + words.slice(1) : name;
}

async function main() {
  token ??= (await renewToken()) ?? (await askForToken());
  say(`Loading ChatKit from ${new URL(config.scriptUrl).host}…`);
  try {
    await loadChatKit();
    await customElements.whenDefined('openai-chatkit');
  } catch {
    say(
      `ChatKit could not be loaded: its script comes from ${config.scriptUrl}, which this browser cannot reach (no internet?). ` +
        'The API itself works offline: try it with the curl examples in the README.',
      'error',
    );
    document.body.dataset.chatkit = 'unavailable';
    return;
  }
  const chat = document.createElement('openai-chatkit') as OpenAIChatKit;
  chat.addEventListener('chatkit.error', (event) => say(`ChatKit: ${event.detail.error.message}`, 'error'));
  chat.addEventListener('chatkit.ready', () => {
    status.hidden = true;
    document.body.dataset.chatkit = 'ready';
  });
  chat.setOptions(chatOptions());
  document.getElementById('chat')!.append(chat);
}

void main();
