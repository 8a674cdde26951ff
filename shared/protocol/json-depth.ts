import { BadRequestError } from '../errors.js';

/** Far deeper than any ChatKit request needs (tag data, action payloads, tool output). */
export const MAX_JSON_DEPTH = 64;

/**
 * Refuses a parsed JSON value whose arrays and objects nest deeper than `max` (`{}` is depth 1),
 * before anything walks it recursively: validation, serialisation, jsonb. Iterative on purpose,
 * since recursion is what a deep value overflows.
 */
export function assertJsonDepth(value: unknown, max = MAX_JSON_DEPTH): void {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const node = values.pop();
    const depth = depths.pop()! + 1;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) throw new BadRequestError(`The request nests arrays and objects deeper than ${max} levels`, 'too_deep');
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        values.push(child);
        depths.push(depth);
      }
    }
  }
}
