import type * as z from 'zod';
import { BadRequestError } from '../errors.js';
import { ChatKitRequest } from '../protocol/index.js';
import { describeIssue, quote } from '../protocol/describe-issue.js';
import { assertJsonDepth } from '../protocol/json-depth.js';

/** Each request type's own schema, so that a refusal speaks of that type's fields only. */
const SCHEMAS = new Map<string, z.ZodType<ChatKitRequest>>(
  ChatKitRequest.options.flatMap((union) => union.options.map((schema) => [schema.shape.type.value, schema as z.ZodType<ChatKitRequest>] as const)),
);
const KNOWN_TYPES = [...SCHEMAS.keys()];

/** Parses and validates a ChatKit request body; every refusal names the field and what was expected. */
export function parseRequest(rawBody: string): ChatKitRequest {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    throw new BadRequestError('The request body is not valid JSON', 'invalid_json');
  }
  assertJsonDepth(json);
  const type = (json as { type?: unknown } | null)?.type;
  const schema = typeof type === 'string' ? SCHEMAS.get(type) : undefined;
  if (!schema) {
    throw new BadRequestError(`type: expected one of ${KNOWN_TYPES.join(', ')}; got ${quote(type)}`, 'unknown_request_type');
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new BadRequestError(`${type}: ${describeIssue(parsed.error.issues[0]!)}`, 'invalid_params');
  return parsed.data;
}

