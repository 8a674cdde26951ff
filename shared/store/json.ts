/**
 * PostgreSQL cannot hold U+0000 in `text` or `jsonb`, and `jsonb` refuses a lone UTF-16
 * surrogate (which a browser's JSON.stringify sends as "\ud800"). Rather than refuse a whole
 * message (or a model's answer) over one broken character, the store replaces either with
 * U+FFFD, the Unicode replacement character, everywhere: in JSON strings and keys, and in text
 * columns and lookups. That is the one place where what is loaded differs from what was saved.
 */
export function storableText(text: string): string {
  const withoutNul = text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
  // Drivers encode a lone surrogate in a text parameter as U+FFFD anyway; doing it here makes
  // every driver and every lookup agree with what jsonb stores.
  return withoutNul.isWellFormed() ? withoutNul : withoutNul.toWellFormed();
}

// What JSON.stringify writes for U+0000 and for a lone surrogate (it escapes no other surrogate,
// always in lower case): "\u0000" or "\udXXX", not itself preceded by an escaping backslash.
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** Serialises a value for a jsonb parameter. */
export function toJsonb(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') || json.includes('\\ud') ? json.replace(UNSTORABLE_ESCAPE, '$1\\ufffd') : json;
}
