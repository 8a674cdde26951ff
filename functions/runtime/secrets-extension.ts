import { setTimeout as delay } from 'node:timers/promises';

/** How long one read may take before it fails (and is retried on the next call). */
export const SECRET_READ_TIMEOUT_MS = 3_000;
const NOT_LISTENING_RETRY_MS = 20;
/** What the extension answers (400) before it is ready to serve. */
const NOT_READY = /not ready to serve traffic/i;

/**
 * Reads a Secrets Manager secret (a JSON object of string values) from the AWS Parameters and
 * Secrets Lambda Extension on localhost, authenticated by the function's session token. Errors
 * name `variable`, the environment variable holding the ARN, and never carry the secret.
 */
export async function readSecretFromExtension(variable: string, arn: string, { timeoutMs = SECRET_READ_TIMEOUT_MS } = {}): Promise<Record<string, unknown>> {
  const port = process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT ?? '2773';
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(arn)}`;
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  let body: string;
  let notReady = false;
  try {
    for (;;) {
      response = await fetchOnceListening(url, { headers: { 'X-Aws-Parameters-Secrets-Token': process.env.AWS_SESSION_TOKEN ?? '' }, signal });
      body = await response.text();
      // Listening but not started yet (it answers so while its own init runs): asked again, within the same time.
      notReady = response.status === 400 && NOT_READY.test(body);
      if (!notReady) break;
      await delay(NOT_LISTENING_RETRY_MS, undefined, { signal });
    }
  } catch (error) {
    const why = notReady ? `it was still not ready to serve after ${timeoutMs} ms` : reason(error);
    throw new Error(`Reading the secret ${variable} from the Parameters and Secrets extension failed: ${why}`, { cause: error });
  }
  // The extension logs why (access denied, not found, throttled) in the function's log group.
  if (!response.ok) throw new Error(`The Parameters and Secrets extension answered ${response.status} for the secret ${variable}`);
  return secretObject(variable, body);
}

/**
 * Lambda starts the function's init once its extensions have registered, not once they listen:
 * a read at init may come before the extension's server is up. Until `signal` gives up.
 */
async function fetchOnceListening(url: string, init: RequestInit & { signal: AbortSignal }): Promise<Response> {
  let refused: unknown;
  for (;;) {
    try {
      return await fetch(url, init);
    } catch (error) {
      // Out of time while it never listened: that is the reason, whichever attempt the deadline cut.
      if (init.signal.aborted && refused) throw refused;
      if (!connectionRefused(error) || init.signal.aborted) throw error;
      refused = error;
      await delay(NOT_LISTENING_RETRY_MS);
      if (init.signal.aborted) throw error;
    }
  }
}

const connectionRefused = (error: unknown) => ((error as Error).cause as { code?: unknown } | undefined)?.code === 'ECONNREFUSED';

/** fetch's own message is only "fetch failed"; its cause says why (ECONNREFUSED). */
function reason(error: unknown): string {
  const cause = (error as Error).cause as { code?: unknown; message?: unknown } | undefined;
  const why = cause?.code ?? cause?.message;
  return `${(error as Error).message}${typeof why === 'string' ? ` (${why})` : ''}`;
}

function secretObject(variable: string, body: string): Record<string, unknown> {
  // JSON.parse quotes the text it fails on in its message: the secret's must not reach a log.
  const parse = (text: unknown): unknown => {
    try {
      return typeof text === 'string' ? JSON.parse(text) : undefined;
    } catch {
      return undefined;
    }
  };
  const secret = parse((parse(body) as { SecretString?: unknown } | undefined)?.SecretString);
  if (typeof secret !== 'object' || secret === null || Array.isArray(secret)) {
    throw new Error(`The secret ${variable} is not a JSON object of string values`);
  }
  return secret as Record<string, unknown>;
}
