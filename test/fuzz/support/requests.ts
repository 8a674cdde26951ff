import fc from 'fast-check';
import { MAX_BODY_BYTES } from '../../../shared/http/api.js';
import { REQUEST_TYPES, validRequest } from './chatkit-bodies.js';
import type { FuzzRequest } from './http.js';
import { bodyText, mutate, mutation } from './mutations.js';
import { ref } from './refs.js';
import { anyText, hostileText } from './text.js';

// Header values a client can put on the wire (visible ASCII, spaces, Latin-1), and the headers that matter.
const headerValue = fc.string({ unit: fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), fc.constantFrom(' ', '\t', 'é', '\u00ff')), maxLength: 40 });
const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    origin: fc.oneof(fc.constantFrom('https://app.example.com', 'null'), headerValue),
    'x-request-id': fc.oneof(fc.constantFrom('abc-123', 'a'.repeat(300), '../..', 'é'), headerValue),
    accept: fc.constantFrom('text/event-stream', 'application/json', '*/*', ''),
    'content-encoding': fc.constantFrom('gzip', 'identity', 'br'),
  },
  { requiredKeys: [] },
);
const jsonContentType = fc.constantFrom('application/json', 'application/json; charset=utf-8');

const post = (body: string | Uint8Array, contentType: string, headers: Record<string, string>): FuzzRequest => ({
  method: 'POST',
  target: '/chatkit',
  headers: { ...headers, 'content-type': contentType },
  body,
});

/** Valid ChatKit requests of every type. */
export const validChatkit: fc.Arbitrary<FuzzRequest> = fc
  .tuple(validRequest(), jsonContentType, extraHeaders)
  .map(([body, contentType, headers]) => post(bodyText(body), contentType, headers));

/** A valid request with one field changed: wrong type, null, missing, huge, odd numbers, hostile text, deep, unknown. */
export const nearValidChatkit: fc.Arbitrary<FuzzRequest> = fc
  .tuple(validRequest(), fc.nat(), mutation, jsonContentType)
  .map(([body, at, change, contentType]) => post(bodyText(mutate(body, at, change)), contentType, {}));

const valid = { type: 'threads.list', params: {} };
const rawBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    '[]',
    '"threads.list"',
    '1e999',
    '{',
    '{"type":',
    `\ufeff${JSON.stringify(valid)}`,
    `${JSON.stringify(valid)} trailing`,
    `${JSON.stringify(valid)}${JSON.stringify(valid)}`,
    '{"type":"threads.list","type":"threads.delete","params":{"thread_id":"@@thread@@"}}',
    '{"__proto__":{"type":"threads.list"},"params":{}}',
    '{"type":"threads.list","params":{"__proto__":{"limit":-1}}}',
    '{"type":"threads.update","params":{"thread_id":"@@thread@@","title":"\\ud800\\u0000"}}',
    '{"type":"threads.create","params":{"input":{"content":[{"type":"input_tag","id":"t","text":"t","data":{"__proto__":{"x":1},"constructor":{"prototype":{"y":2}}}}]}}}',
    `{"type":"threads.list","params":{"limit":${'9'.repeat(400)}}}`,
    '['.repeat(100_000),
    `{"type":"threads.list","params":{},"metadata":${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
    'x'.repeat(MAX_BODY_BYTES + 1),
  ),
  fc.constant(new Uint8Array([0x7b, 0xff, 0xfe, 0xc0, 0x80, 0xed, 0xa0, 0x80, 0x7d])), // {, invalid UTF-8, }
  anyText(200),
  fc.constantFrom(...REQUEST_TYPES).chain((type) => fc.tuple(fc.constant(type), hostileText)).map(([type, text]) => JSON.stringify({ type, params: text })),
);

/** Bodies that are not ChatKit requests at all, odd content types, methods other than POST. */
export const hostileChatkit: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc
    .tuple(rawBody, fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', ''), extraHeaders)
    .map(([body, contentType, headers]) => post(body, contentType, headers)),
  fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS').map((method) => ({ method, target: '/chatkit', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } })),
);

// Path segments and query values as a client might send them: percent-encoded, or broken.
const encoded = (text: string) => encodeURIComponent(text.toWellFormed());
const rawSegment = fc.oneof(
  fc.constantFrom('%00', 'thr%00x', '%ED%A0%80', '%FF', '%', '%zz', '%2F', '..', '.', '%2e%2e', '%20', 'a'.repeat(300), 'a'.repeat(5_000), '%F0%9F%A7%AA'),
  anyText(30).filter((s) => s.length > 0).map(encoded),
);
const threadSegment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(ref('thread'), ref('other_thread')) }, { weight: 3, arbitrary: rawSegment });
const queryValue = (...likely: string[]) => fc.oneof(fc.constantFrom(...likely), rawSegment, hostileText.map(encoded));
const queryPair = fc.oneof(
  queryValue('1', '20', '100', '101', '0', '-1', '1.5', '1e3', '1e400', 'NaN', 'Infinity', '0x10', '%205', '', '99999999999999999999').map((v) => `limit=${v}`),
  queryValue(ref('thread'), ref('user_item'), ref('tool_item'), ref('other_thread'), ref('other_item'), '').map((v) => `after=${v}`),
  queryValue('asc', 'desc', 'ASC', '').map((v) => `order=${v}`),
  fc.tuple(rawSegment, rawSegment).map(([k, v]) => `${k}=${v}`),
);
const query = fc.array(queryPair, { maxLength: 4 }).map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));

/** GET /threads, DELETE /threads/{id}, GET /threads/{id}/messages: odd ids, queries, methods, paths. */
export const restRequest: fc.Arbitrary<FuzzRequest> = fc.oneof(
  fc.tuple(query, extraHeaders).map(([q, headers]) => ({ method: 'GET', target: `/threads${q}`, headers })),
  fc.tuple(threadSegment, query, fc.option(anyText(50), { nil: undefined })).map(([id, q, body]) => ({ method: 'DELETE', target: `/threads/${id}${q}`, headers: {}, body })),
  fc.tuple(threadSegment, query, extraHeaders).map(([id, q, headers]) => ({ method: 'GET', target: `/threads/${id}/messages${q}`, headers })),
  fc
    .tuple(
      fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
      fc.constantFrom('/threads', '/threads/', `/threads/${ref('thread')}`, '/threads//messages', `/threads/${ref('thread')}/messages/x`, '/THREADS', '/threads/%2F/messages'),
    )
    .map(([method, target]) => ({ method, target, headers: {} })),
);
