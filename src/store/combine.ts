type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/**
 * One store from its aggregates: each engine writes an aggregate as a factory returning a plain object of its
 * methods (helpers stay module functions), and the engine's store is all of them. A method two aggregates both
 * define would silently shadow the other one, so it is refused.
 */
export function combineAggregates<Parts extends readonly object[]>(...parts: Parts): UnionToIntersection<Parts[number]> {
  const store: Record<string, unknown> = {};
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (name in store) throw new Error(`store: two aggregates define ${name}`);
      store[name] = value;
    }
  }
  return store as UnionToIntersection<Parts[number]>;
}
