import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the stand-in answers one request with: a status and body, or nothing at all. */
export type ExtensionAnswer = { status: number; body?: string } | 'hang';

/** The extension's answer for a secret whose SecretString is `value` as JSON. */
export const secretAnswer = (value: Record<string, unknown>, arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x-AbCdEf'): ExtensionAnswer => ({
  status: 200,
  body: JSON.stringify({ ARN: arn, Name: 'x', SecretString: JSON.stringify(value), VersionId: 'v1', VersionStages: ['AWSCURRENT'] }),
});

export interface SecretsExtensionStandIn {
  /** The answers to the next requests, in order; the last one is repeated. */
  script(...answers: ExtensionAnswer[]): void;
  /** Answers each of these secret ids with its value, whatever the script says (for several secrets read at once). */
  serve(secrets: Record<string, Record<string, unknown>>): void;
  /** The port it listens on (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT) and the token it wants (AWS_SESSION_TOKEN). */
  readonly port: number;
  readonly sessionToken: string;
  /** The secretId of every request that carried the session token. */
  readonly reads: string[];
  close(): Promise<void>;
}

/**
 * A local stand-in for the AWS Parameters and Secrets Lambda Extension on 127.0.0.1, found by
 * the functions through PARAMETERS_SECRETS_EXTENSION_HTTP_PORT (set here, with AWS_SESSION_TOKEN).
 * Like the extension, it refuses a request without the function's session token.
 */
export async function startSecretsExtension({ sessionToken = 'stand-in-session-token', port = 0 } = {}): Promise<SecretsExtensionStandIn> {
  let answers: ExtensionAnswer[] = [{ status: 404, body: 'nothing scripted' }];
  let served: Record<string, Record<string, unknown>> = {};
  const reads: string[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (request.headers['x-aws-parameters-secrets-token'] !== sessionToken) return void response.writeHead(401).end('missing or wrong token');
    if (url.pathname !== '/secretsmanager/get' || !url.searchParams.get('secretId')) return void response.writeHead(400).end('bad request');
    const secretId = url.searchParams.get('secretId')!;
    reads.push(secretId);
    const value = served[secretId];
    const answer = value ? secretAnswer(value, secretId) : answers.length > 1 ? answers.shift()! : answers[0]!;
    if (answer === 'hang') return void hanging.add(response);
    response.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const listening = (server.address() as AddressInfo).port;
  process.env.PARAMETERS_SECRETS_EXTENSION_HTTP_PORT = String(listening);
  process.env.AWS_SESSION_TOKEN = sessionToken;
  return {
    script: (...next) => void (answers = next),
    serve: (secrets) => void (served = secrets),
    port: listening,
    sessionToken,
    reads,
    close: () => {
      for (const response of hanging) response.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
