// What would let a reader of the logs act as someone: the signature and credentials of a
// presigned URL (S3's or the dev server's), bearer tokens, JWTs, API keys, a URL's password.
// Errors carry such things in their messages: the model provider quotes the file URL it could
// not download, a driver the URL it could not reach. Each is replaced where it stands, so the
// rest of the message (which object, which host, which status) still says what happened.

const REDACTED = '[redacted]';

const RULES: Array<[RegExp, string]> = [
  // Query parameters that sign or authorize a URL: S3 (SigV4), GCS, CloudFront, OAuth, and generic ones.
  [
    /([?&](?:x-amz-signature|x-amz-credential|x-amz-security-token|x-goog-signature|x-goog-credential|signature|sig|token|access_token|id_token|refresh_token|api[_-]?key|key|password|secret|code)=)[A-Za-z0-9%_~+/=.-]*[A-Za-z0-9%_~+/=-]/gi,
    `$1${REDACTED}`,
  ],
  // The dev server's signed attachment URLs: /attachments/<grant>.<signature>.
  [/(\/attachments\/)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, `$1${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // A JWT anywhere (its header always starts with {" base64url-encoded).
  [/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, REDACTED],
  // OpenAI-style secret keys (sk-…, sk-proj-…).
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`],
  // user:password@ in a URL (a database URL in a driver's message).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:)[^\s/@]+@/gi, `$1${REDACTED}@`],
];

/** The text with every signature, token, key and password in it replaced by [redacted]. */
export function redactSecrets(text: string): string {
  let redacted = text;
  for (const [pattern, replacement] of RULES) redacted = redacted.replace(pattern, replacement);
  return redacted;
}

/** A JSON replacer that redacts every string on its way into a log line (messages, errors, causes, attributes). */
export function redactingJsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? redactSecrets(value) : value;
}
