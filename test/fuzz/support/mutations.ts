import fc from 'fast-check';
import { anyJson, anyText, hostileText, hugeText } from './text.js';

type Path = Array<string | number>;

/** One field changed the way a careless or hostile client changes it. */
export type Mutation =
  | { kind: 'wrong_type'; value: unknown }
  | { kind: 'null' }
  | { kind: 'missing' }
  | { kind: 'huge'; length: number; text: string }
  | { kind: 'number'; value: number }
  | { kind: 'hostile_text'; value: string }
  | { kind: 'deep'; depth: number }
  | { kind: 'unknown_type'; value: string };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('wrong_type' as const), value: fc.oneof(fc.integer(), fc.boolean(), anyText(10), fc.constant([]), fc.constant({}), fc.array(anyJson, { maxLength: 2 })) }),
  fc.record({ kind: fc.constant('null' as const) }),
  fc.record({ kind: fc.constant('missing' as const) }),
  fc.record({ kind: fc.constant('huge' as const), length: fc.constantFrom(101, 1_000, 10_000, 30_000), text: hugeText }),
  fc.record({
    kind: fc.constant('number' as const),
    value: fc.constantFrom(-1, 0, -0.5, 1.5, -1e308, 1e308, 2 ** 53 + 1, -(2 ** 63), 1e21, 5e-324),
  }),
  fc.record({ kind: fc.constant('hostile_text' as const), value: hostileText }),
  fc.record({ kind: fc.constant('deep' as const), depth: fc.constantFrom(65, 200, 5_000, 100_000) }),
  fc.record({
    kind: fc.constant('unknown_type' as const),
    value: fc.oneof(fc.constantFrom('threads.Create', 'threads.create ', 'input_image', 'toString', '__proto__', 'constructor', ''), anyText(20)),
  }),
);

/** Every place in a (small, generated) JSON value a mutation can hit, the root's fields included. */
export function pathsOf(value: unknown): Path[] {
  const paths: Path[] = [];
  const pending: Array<[unknown, Path]> = [[value, []]];
  while (pending.length) {
    const [node, path] = pending.pop()!;
    if (node === null || typeof node !== 'object') continue;
    for (const [key, child] of Object.entries(node)) {
      const at = [...path, Array.isArray(node) ? Number(key) : key];
      paths.push(at);
      pending.push([child, at]);
    }
  }
  return paths;
}

/** A copy of `body` with the mutation applied at the path-th place (modulo the number of places). */
export function mutate(body: Record<string, unknown>, pathIndex: number, change: Mutation): Record<string, unknown> {
  const copy = structuredClone(body);
  const paths = pathsOf(copy);
  const path = paths[pathIndex % paths.length]!;
  const key = path.at(-1)!;
  let parent: any = copy;
  for (const step of path.slice(0, -1)) parent = parent[step];
  const current = parent[key];
  switch (change.kind) {
    case 'wrong_type':
    case 'number':
    case 'hostile_text':
      parent[key] = change.value;
      break;
    case 'null':
      parent[key] = null;
      break;
    case 'missing':
      if (Array.isArray(parent)) parent.splice(Number(key), 1);
      else delete parent[key];
      break;
    case 'huge': {
      if (typeof current === 'string') {
        parent[key] = change.text;
        break;
      }
      const element = Array.isArray(current) ? (current[0] ?? 'x') : current;
      parent[key] = new Array(hugeCount(element, change.length)).fill(element);
      break;
    }
    case 'deep':
      parent[key] = deepPlaceholder(change.depth);
      break;
    case 'unknown_type':
      if (key === 'type') parent[key] = change.value;
      else if (Array.isArray(parent)) parent.push({ type: change.value }); // an element of a kind the list does not hold
      else parent[`unknown_${change.value}`] = current; // an extra field next to a known one
      break;
  }
  return copy;
}

// Copies of a large element (a message text near its limit) would make a body past V8's longest string: a few
// MiB is past every limit the server has (the body's is 1 MiB), so more copies test nothing more.
const HUGE_BODY_CHARS = 4 * 1024 * 1024;
const hugeCount = (element: unknown, wanted: number) =>
  Math.max(2, Math.min(wanted, Math.floor(HUGE_BODY_CHARS / (JSON.stringify(element)?.length ?? 1))));

// Deep values go into the body as text: JSON.stringify itself overflows the stack a few thousand levels down.
const deepPlaceholder = (depth: number) => `@@deep:${depth}@@`;

/** The request's JSON text, deep placeholders expanded into nested arrays and objects. */
export function bodyText(body: unknown): string {
  const json = JSON.stringify(body);
  return json.includes('"@@deep:') ? json.replace(/"@@deep:(\d+)@@"/g, (_, depth: string) => nested(Number(depth))) : json;
}

function nested(depth: number): string {
  const pairs = Math.ceil(depth / 2);
  return `${'[{"a":'.repeat(pairs)}null${'}]'.repeat(pairs)}`;
}
