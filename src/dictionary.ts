// Records keyed by names that users choose: router, service, middleware and entry point names,
// header names, label segments and file keys. A plain `{}` inherits Object.prototype, so a lookup of
// `constructor` or `toString` finds an inherited function, and an assignment to `__proto__`
// replaces the prototype instead of adding a key. A record without a prototype has neither problem,
// and `getOwn` guards lookups in records that may have been built as `{}` elsewhere (tests, spreads).

/** Creates a record without a prototype, so every string is an ordinary key, and fills it from `entries` when given. */
export function createDictionary<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  if (entries === undefined) return record;
  for (const [key, value] of entries) record[key] = value;
  return record;
}

/** Returns the value stored under `key` in `record` itself, ignoring anything inherited from a prototype. */
export function getOwn<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  if (record === undefined || !Object.hasOwn(record, key)) return undefined;
  return record[key];
}

/** Returns whether `record` itself stores `key`, ignoring anything inherited from a prototype. */
export function hasOwn(record: Readonly<Record<string, unknown>> | undefined, key: string): boolean {
  return record !== undefined && Object.hasOwn(record, key);
}

/**
 * Stores `value` under `key` as an own property, also when `key` is `__proto__` and `record`
 * inherits from Object.prototype, where a plain assignment would replace the prototype.
 */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Copies the own enumerable entries of `record` into a new record without a prototype. */
export function copyDictionary<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return createDictionary(Object.entries(record));
}
