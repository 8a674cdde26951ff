import { traced } from './tracing.js';

const AsyncFunction = (async () => {}).constructor;

/**
 * The store with each of its async methods in its own X-Ray subsegment (`### store.<method>`).
 * Every store call is one SQL statement, so each subsegment is one database round trip.
 */
export function tracedStore<S extends object>(store: S): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (!(value instanceof AsyncFunction) || typeof property !== 'string') return value;
      const method = value as (...args: unknown[]) => Promise<unknown>;
      return (...args: unknown[]) => traced(`### store.${property}`, () => method.apply(target, args));
    },
  });
}
