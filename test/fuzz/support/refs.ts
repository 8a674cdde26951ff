import fc from 'fast-check';
import { anyText } from './text.js';

/**
 * Generated requests name the caller's seeded data by placeholder ("@@thread@@"); each run swaps
 * in the ids of the world it seeded, so shrinking and replays name live rows.
 */
export const REFS = {
  thread: 'the caller’s thread',
  user_item: 'its user message',
  assistant_item: 'its assistant message',
  widget_item: 'its widget',
  input_item: 'its pending structured input',
  tool_item: 'its pending client tool call (the latest item)',
  attachment: 'the caller’s attachment',
  other_thread: 'another user’s thread',
  other_item: 'another user’s message',
  other_widget: 'another user’s confirmation widget, waiting for approval',
  other_attachment: 'another user’s attachment',
} as const;
export type RefName = keyof typeof REFS;

export const ref = (name: RefName) => `@@${name}@@`;

/** Replaces every placeholder in a request's text with the world's ids. */
export function resolveRefs(text: string, ids: Record<RefName, string>): string {
  return text.includes('@@') ? text.replace(/@@([a-z_]+)@@/g, (whole, name: string) => ids[name as RefName] ?? whole) : text;
}

const unknownId = fc.oneof(
  fc.constantFrom('thr_missing', 'msg_missing', "' OR 1=1 --", '%', '_', '*', '..', 'null'),
  anyText(40).filter((s) => s.length > 0),
);

/** An id argument: mostly one of the seeded rows it should name, sometimes someone else's or none. */
export function idOf(own: RefName[], other: RefName[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...own.map(ref)) },
    { weight: 1, arbitrary: fc.constantFrom(...other.map(ref)) },
    { weight: 1, arbitrary: unknownId },
  );
}

export const threadRef = idOf(['thread'], ['other_thread']);
export const itemRef = idOf(['user_item', 'assistant_item', 'widget_item', 'input_item', 'tool_item'], ['other_item']);
export const attachmentRef = idOf(['attachment'], ['other_attachment']);
