import jwt from 'jsonwebtoken';
import { generateKeyPairSync } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHATKIT_SCRIPT_URL } from '../../dev/chat-page.js';
import { browserTestsRun, launchChromium, startDevServer, type DevServer } from '../support/browser.js';

// The dev chat page (`npm run dev`, then http://localhost:PORT/) in Chromium. ChatKit's script
// comes from OpenAI's CDN, which no test machine reaches: offline, the page must say so; with a
// stand-in served at the CDN's address, the page must configure it for this server.

/**
 * Stands in for chatkit.js: an `openai-chatkit` element that keeps the options it is given and,
 * as ChatKit does, sends its requests through `api.fetch` to `api.url`.
 */
const STAND_IN = `
customElements.define('openai-chatkit', class extends HTMLElement {
  setOptions(options) {
    window.chatkitOptions = options;
    const send = (body) => options.api.fetch(options.api.url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    window.chatkitTurn = (async () => {
      const turn = await send({ type: 'threads.create', params: { input: { content: [{ type: 'input_text', text: '/get_time {}' }], attachments: [], inference_options: {} } } });
      const list = await send({ type: 'threads.list', params: {} });
      return { turn: [turn.status, await turn.text()], list: [list.status, await list.json()] };
    })();
    this.dispatchEvent(new CustomEvent('chatkit.ready'));
  }
});`;

describe.runIf(browserTestsRun())('the dev chat page, in Chromium', () => {
  let dev: DevServer;
  let browser: Browser;

  beforeAll(async () => {
    [dev, browser] = await Promise.all([startDevServer({ JWT_SECRET: '' }), launchChromium()]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  });

  it('says plainly that ChatKit cannot load when its CDN is out of reach', async () => {
    const page = await browser.newPage();
    await page.goto(`${dev.page}/`);
    await page.waitForSelector('body[data-chatkit="unavailable"]');
    expect(await page.isHidden('#token-form')).toBe(true); // the server handed the page its token
    const status = await page.textContent('#status');
    expect(status).toBe(
      `ChatKit could not be loaded: its script comes from ${CHATKIT_SCRIPT_URL}, which this browser cannot reach (no internet?). The API itself works offline: try it with the curl examples in the README.`,
    );
    await page.close();
  });

  it('configures ChatKit for this server, and its fetch renews an expired token and chats with the offline agent', async () => {
    const page = await browser.newPage();
    await page.route(CHATKIT_SCRIPT_URL, (route) => route.fulfill({ contentType: 'text/javascript', body: STAND_IN }));
    // A token left from an earlier session, no longer valid: the first request gets a 401.
    await page.addInitScript(() => sessionStorage.setItem('chatkit-dev-token:dev-user', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.expired'));
    await page.goto(`${dev.page}/`);
    await page.waitForSelector('body[data-chatkit="ready"]');
    const options = await page.evaluate(() => {
      const o = (globalThis as unknown as { chatkitOptions: Record<string, any> }).chatkitOptions;
      return { ...o, api: { ...o.api, fetch: typeof o.api.fetch } };
    });
    expect(options).toMatchObject({
      api: { url: '/chatkit', domainKey: 'domain_pk_localhost_dev', uploadStrategy: { type: 'two_phase' }, fetch: 'function' },
      history: { enabled: true },
      composer: { attachments: { enabled: true, maxSize: 20 * 1024 * 1024 }, tools: [{ id: 'search_conversations' }, { id: 'get_time' }, { id: 'rename_conversation' }] },
    });
    const { turn, list } = await page.evaluate(() => (globalThis as unknown as { chatkitTurn: Promise<{ turn: [number, string]; list: [number, { data: Array<{ title: string }> }] }> }).chatkitTurn);
    expect(turn[0]).toBe(200);
    expect(turn[1]).toContain('get_time returned');
    expect(list[0]).toBe(200);
    expect(list[1].data.map((t) => t.title)).toEqual(['/get_time {}']);
    expect(await page.isHidden('#status')).toBe(true);
    expect(await page.isHidden('#token-form')).toBe(true);
    await page.close();
  });
});

describe.runIf(browserTestsRun())('the dev chat page, when the server verifies tokens it cannot sign', () => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let dev: DevServer;
  let browser: Browser;

  beforeAll(async () => {
    const publicKey = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    [dev, browser] = await Promise.all([startDevServer({ JWT_SECRET: '', JWT_PUBLIC_KEY: publicKey, JWT_ISSUER: 'https://idp.example/', JWT_AUDIENCE: 'chatkit' }), launchChromium()]);
  }, 90_000);
  afterAll(async () => {
    await browser?.close();
    await dev?.stop();
  });

  it('asks for a token, and chats with the one pasted', async () => {
    const page = await browser.newPage();
    await page.route(CHATKIT_SCRIPT_URL, (route) => route.fulfill({ contentType: 'text/javascript', body: STAND_IN }));
    await page.goto(`${dev.page}/`);
    await page.waitForSelector('#token-form', { state: 'visible' });
    expect(await page.textContent('#status')).toContain('Paste a token for this server');
    const pasted = jwt.sign({ sub: 'pat' }, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { algorithm: 'RS256', expiresIn: '1h', issuer: 'https://idp.example/', audience: 'chatkit' });
    await page.fill('#token-form input[name="token"]', pasted);
    await page.click('#token-form button');
    await page.waitForSelector('body[data-chatkit="ready"]');
    const { turn } = await page.evaluate(() => (globalThis as unknown as { chatkitTurn: Promise<{ turn: [number, string] }> }).chatkitTurn);
    expect(turn[0]).toBe(200);
    expect(await page.isHidden('#token-form')).toBe(true);
    await page.close();
  });
});
