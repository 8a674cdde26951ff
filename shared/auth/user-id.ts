/** Longer user ids are refused: an id is a key, not a document. */
export const MAX_USER_ID_LENGTH = 255;

/**
 * Whether a claim can be a user id: a non-empty string the store holds exactly as sent. U+0000
 * and lone UTF-16 surrogates are refused rather than replaced, as the store replaces them in
 * content: "a\ud800" and "a\ufffd" would become one user.
 */
export function isStorableUserId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_USER_ID_LENGTH && !value.includes('\0') && value.isWellFormed();
}
