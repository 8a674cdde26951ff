/**
 * PostgreSQL cannot hold U+0000 in `text` or `jsonb`. Rather than refuse a whole message (or a
 * model's answer) over an invisible character, the store replaces it with U+FFFD, the Unicode
 * replacement character, everywhere: in JSON strings and keys, and in text columns and lookups.
 * That is the one place where what is loaded differs from what was saved.
 */
export function withoutNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text;
}

// An escaped NUL in JSON text: "\u0000" not itself preceded by an escaping backslash.
const ESCAPED_NUL = /(?<!\\)((?:\\\\)*)\\u0000/g;

/** Serialises a value for a jsonb parameter. */
export function toJsonb(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\u0000') ? json.replace(ESCAPED_NUL, '$1\\ufffd') : json;
}
