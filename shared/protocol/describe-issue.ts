import type * as z from 'zod/v4/core';

// How a refused value is described to the client, for every schema (protocol and REST alike).

/** What a message may quote of the client's own input: enough to recognise it, never a megabyte. */
const MAX_QUOTED = 64;

/** `params.input.content[0].type: expected one of input_text, input_tag` */
export function describeIssue(issue: z.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
  return `${path || 'request'}: ${expectation(issue)}`;
}

function expectation(issue: z.$ZodIssue): string {
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

export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_QUOTED ? `${text.slice(0, MAX_QUOTED)}… (${text.length} characters)` : text;
}
