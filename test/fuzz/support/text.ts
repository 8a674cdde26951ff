import fc from 'fast-check';

/** Characters that have broken servers before: what PostgreSQL refuses, what JSON escapes, what renders oddly. */
export const HOSTILE_CHARS = [
  '\u0000', // PostgreSQL refuses it in text and jsonb
  '\ud800', // a lone high surrogate: JSON.stringify writes "\ud800", jsonb refuses it
  '\udfff', // a lone low surrogate
  '\ufffd',
  '\ufeff', // a byte order mark
  '\u200b', // zero width space
  '\u202e', // right-to-left override
  '\u2028', // line separator, legal in JSON, not in old JavaScript
  '\u0085',
  '\u001b',
  '\r\n',
  '\\',
  '"',
  "'",
  '%',
  '\\u0000', // the six characters, not a NUL: must survive literally
  '\ud83d\ude00', // a well-formed pair
] as const;

const hostileChar = fc.constantFrom(...HOSTILE_CHARS);
const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit));

/** Any string a JSON body can carry: printable, full Unicode, control characters, lone surrogates, NUL. */
export function anyText(maxLength = 40): fc.Arbitrary<string> {
  return fc.string({
    maxLength,
    unit: fc.oneof(
      { weight: 6, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
      { weight: 2, arbitrary: hostileChar },
      { weight: 1, arbitrary: loneSurrogate },
    ),
  });
}

/** A string that is certainly hostile: at least one character PostgreSQL or JSON treats specially. */
export const hostileText: fc.Arbitrary<string> = fc
  .tuple(anyText(8), fc.oneof(hostileChar, loneSurrogate), anyText(8))
  .map(([before, bad, after]) => `${before}${bad}${after}`);

/** The fuzz app's MESSAGE_MAX_CHARS: as high as a 1 MiB body allows, so that huge texts reach the store. */
export const FUZZ_MESSAGE_MAX_CHARS = 1_000_000;

/**
 * `length` characters of distinct hyphenated words: each word its own lexeme and its two parts
 * two more, the most a search vector can be asked to hold per character.
 */
export function distinctWords(length: number): string {
  const words: string[] = [];
  for (let n = 1, size = 0; size < length; n++) {
    const word = `kw${n.toString(36)}-zq${(n * 7).toString(36)}`;
    words.push(word);
    size += word.length + 1;
  }
  return words.join(' ').slice(0, length);
}

/**
 * Text around the message limit (one under, at, one over) and past what a search vector holds
 * (900 KB of distinct words, under the body limit), and multi-byte text past the body limit.
 */
export const largeText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(FUZZ_MESSAGE_MAX_CHARS - 1, FUZZ_MESSAGE_MAX_CHARS, FUZZ_MESSAGE_MAX_CHARS + 1).map((length) => 'x'.repeat(length)),
  fc.constantFrom(100_001, 900_000).map(distinctWords),
  fc.constant('é'.repeat(600_000)),
);

/** A long string: from just past a schema's limit to hundreds of kilobytes, and the large texts above. */
export const hugeText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(256, 501, 1025, 70_000, 300_000), fc.constantFrom('x', 'é', '\ud800', '\u0000', 'word ')).map(([length, unit]) => unit.repeat(Math.ceil(length / unit.length))) },
  { weight: 2, arbitrary: largeText },
);

/** An arbitrary JSON value, small and shallow, whose strings are hostile. */
export const anyJson: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3, stringUnit: fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }), hostileChar, loneSurrogate) });
