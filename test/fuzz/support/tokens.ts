import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { anyText, hostileText } from './text.js';

export const FUZZ_JWT_SECRET = 'fuzz-test-secret-that-is-long-enough';

/** Who a request claims to be, resolved against each run's world. */
export type Caller =
  | { kind: 'owner'; scheme: string }
  | { kind: 'stranger' }
  | { kind: 'forged'; header: Record<string, unknown>; payload: unknown; key: 'secret' | 'wrong' | 'none' }
  | { kind: 'raw'; authorization: string | null };

const base64url = (text: string) => Buffer.from(text).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

/** A compact JWT over any header and payload, signed (or not) without the checks jwt.sign makes. */
export function forgeToken(header: Record<string, unknown>, payload: unknown, key: 'secret' | 'wrong' | 'none'): string {
  const signed = `${base64url(JSON.stringify(header))}.${base64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  if (key === 'none') return `${signed}.`;
  return `${signed}.${createHmac('sha256', key === 'secret' ? FUZZ_JWT_SECRET : 'another-secret').update(signed).digest('base64url')}`;
}

export const validToken = (sub: string) => forgeToken({ alg: 'HS256', typ: 'JWT' }, { sub, exp: now() + 600 }, 'secret');

/** The Authorization header a caller sends; null: none. */
export function authorization(caller: Caller, ownerId: string): string | null {
  switch (caller.kind) {
    case 'owner':
      return `${caller.scheme}${validToken(ownerId)}`;
    case 'stranger':
      return `Bearer ${validToken(`stranger-${ownerId}`)}`;
    case 'forged':
      return `Bearer ${forgeToken(caller.header, caller.payload, caller.key)}`;
    case 'raw':
      return caller.authorization;
  }
}

// The user claim: a storable id, or one the store could not hold or tell apart.
const sub = fc.oneof(
  fc.constantFrom('\u0000', 'user\u0000', '\ud800', 'user\udfff', '', ' ', 'a'.repeat(256), 'a'.repeat(3000), 'ünïcode-🧪', 'a'.repeat(255)),
  hostileText,
  anyText(30),
  fc.constantFrom(12345, 0, null, true, {}, [], ['user']),
);
const exp = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined).map(() => now() + 600) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, 'soon', null, -1, 1e300, 0).map((v) => (v === 0 ? now() - 60 : v)) },
);
const claims = fc
  .record(
    { sub, exp, nbf: fc.constantFrom(now() + 3600, 'x'), iat: fc.constantFrom(now() + 3600, 'x'), extra: hostileText },
    { requiredKeys: ['exp'] },
  )
  .map(({ extra, ...claims }) => (extra === undefined ? claims : { ...claims, [extra]: extra }));
const header = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ alg: 'HS256', typ: 'JWT' }) },
  { weight: 1, arbitrary: fc.constantFrom({ alg: 'none' }, { alg: 'HS512' }, { alg: 'RS256', kid: '../../etc/passwd' }, { alg: 'HS256', crit: ['exp'] }, {}) },
);
const payload = fc.oneof(
  { weight: 8, arbitrary: claims },
  { weight: 1, arbitrary: fc.constantFrom('not json', '"a string"', '[1,2]', 'null', '{"sub":"x","exp":1e999}') },
);

// Header values a client can put on the wire: visible ASCII, spaces and tabs, Latin-1.
const headerText = fc.string({ unit: fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), fc.constantFrom('\t', ' ', 'é', '\u00ff', '.')), maxLength: 60 });

export const caller: fc.Arbitrary<Caller> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('owner' as const), scheme: fc.constant('Bearer ') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('owner' as const), scheme: fc.constantFrom('bearer ', 'BEARER\t', 'Bearer   ') }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'stranger' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('forged' as const), header, payload, key: fc.constantFrom('secret', 'secret', 'secret', 'wrong', 'none') as fc.Arbitrary<'secret' | 'wrong' | 'none'> }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      authorization: fc.oneof(
        fc.constantFrom(null, '', 'Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', 'Bearer a.b.c', 'Bearer ...', `Bearer ${'a'.repeat(4000)}`, 'Bearer x y'),
        headerText.map((text) => `Bearer ${text}`),
        headerText,
      ),
    }),
  },
);

/** Mostly the owner, so that bodies get past authentication; now and then anyone. */
export const mostlyOwner: fc.Arbitrary<Caller> = fc.oneof({ weight: 8, arbitrary: fc.constant({ kind: 'owner' as const, scheme: 'Bearer ' }) }, { weight: 2, arbitrary: caller });
