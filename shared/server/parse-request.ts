import type * as z from 'zod';
import { BadRequestError } from '../errors.js';
import { ChatKitRequest } from '../protocol/index.js';
import { assertJsonDepth } from '../protocol/json-depth.js';

/** What a message may quote of the client's own input: enough to recognise it, never a megabyte. */
const MAX_QUOTED = 64;

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

/** `params.input.content[0].type: expected one of input_text, input_tag` */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
  return `${path || 'request'}: ${expectation(issue)}`;
}

function expectation(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options)
        ? `expected one of ${issue.options.map(String).join(', ')}`
        : 'does not match any of the accepted shapes';
    case 'invalid_value':
      return issue.values.length === 1 ? `expected ${quote(issue.values[0])}` : `expected one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_type':
      return `expected ${issue.expected}`;
    default:
      // zod's own wording for sizes, formats and keys; none of them quotes the client's value.
      return issue.message;
  }
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}… (${text.length} characters)` : text;
}
