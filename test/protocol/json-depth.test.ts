import { describe, expect, it } from 'vitest';
import { assertJsonDepth, MAX_JSON_DEPTH } from '../../shared/protocol/json-depth.js';

const nested = (depth: number, leaf: unknown = 1) => JSON.parse(`${'[{"a":'.repeat(depth / 2)}${JSON.stringify(leaf)}${'}]'.repeat(depth / 2)}`);
const tooDeep = expect.objectContaining({ status: 400, code: 'too_deep' });

describe('assertJsonDepth', () => {
  it('counts arrays and objects, not scalars', () => {
    for (const scalar of [null, 1, 'text', true]) expect(() => assertJsonDepth(scalar, 0)).not.toThrow();
    expect(() => assertJsonDepth({}, 1)).not.toThrow();
    expect(() => assertJsonDepth({}, 0)).toThrow();
    expect(() => assertJsonDepth({ a: [1, 'x', null] }, 2)).not.toThrow();
    expect(() => assertJsonDepth({ a: [1, 'x', {}] }, 2)).toThrow();
  });

  it(`accepts exactly ${MAX_JSON_DEPTH} levels by default and refuses one more with a 400 too_deep`, () => {
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH))).not.toThrow();
    expect(() => assertJsonDepth(nested(MAX_JSON_DEPTH + 2))).toThrow(tooDeep);
    expect(() => assertJsonDepth({ wide: [{}, {}, { deep: nested(MAX_JSON_DEPTH) }] })).toThrow(tooDeep);
  });

  it('walks a value far deeper than the stack allows, and a wide one, without recursion', () => {
    expect(() => assertJsonDepth(nested(100_000), 100_002)).not.toThrow();
    expect(() => assertJsonDepth(nested(100_000))).toThrow(tooDeep);
    const wide = { items: Array.from({ length: 100_000 }, (_, i) => ({ i, tags: [i] })) };
    expect(() => assertJsonDepth(wide)).not.toThrow();
  });
});
