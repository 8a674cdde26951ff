// The one CORS policy: which browser origins may call the API, which headers they send and read.
// The stack (CDK context `corsOrigins`: API Gateway's preflights and own errors, the attachments
// bucket) and every route (CORS_ORIGINS, set by the stack from the same value; `npm run dev`)
// read the origins with `parseCorsOrigins`, so a value one accepts the other cannot refuse.

/** A browser sends its origin as scheme and host (and port): no path, no trailing slash. */
const ORIGIN = /^https?:\/\/[^/\s,]+$/;

export class CorsOriginsError extends Error {
  constructor(
    readonly value: string,
    readonly expected: string,
  ) {
    super(`"${value}" is not valid: expected ${expected}`);
  }
}

/** `*` alone, or comma-separated origins such as `https://app.example.com,http://localhost:5173`. */
export function parseCorsOrigins(value: string): string[] {
  const origins = value.split(',').map((o) => o.trim()).filter(Boolean);
  if (origins.length === 0) throw new CorsOriginsError(value, '* or a comma-separated list of origins');
  if (origins.includes('*')) {
    if (origins.length > 1) throw new CorsOriginsError(value, '* alone, or a list of origins without *');
    return origins;
  }
  for (const origin of origins) {
    // Anything else never equals what a browser sends, so it would allow nothing.
    if (!ORIGIN.test(origin)) throw new CorsOriginsError(origin, 'an origin such as https://app.example.com (scheme and host, no path)');
  }
  return origins;
}

/** CORS_ORIGINS as the routes read it (default `*`). */
export function corsOriginsFromEnv(env: NodeJS.ProcessEnv): string[] {
  try {
    return parseCorsOrigins(env.CORS_ORIGINS?.trim() || '*');
  } catch (error) {
    if (error instanceof CorsOriginsError) throw new Error(`CORS_ORIGINS=${error.message}`);
    throw error;
  }
}

/**
 * What a browser may send to the API: the bearer token, and JSON. ChatKit's custom `fetch` sends
 * exactly these (the rest of its headers are CORS-safelisted).
 */
export const API_ALLOW_HEADERS = ['Authorization', 'Content-Type'] as const;
export const API_ALLOW_METHODS = ['GET', 'POST', 'DELETE', 'OPTIONS'] as const;
/** What a page may read beyond the safelisted headers: the id to quote in a bug report, and when to retry a 503 or 429. */
export const API_EXPOSE_HEADERS = ['X-Request-Id', 'Retry-After'] as const;

/** What the browser sends to an upload URL (the `upload_descriptor.headers`), and how it reads a preview. */
export const UPLOAD_ALLOW_HEADERS = ['Content-Type'] as const;
export const UPLOAD_ALLOW_METHODS = ['PUT', 'GET'] as const;

/** How long a browser may keep a preflight's answer. */
export const PREFLIGHT_MAX_AGE_SECONDS = 600;
