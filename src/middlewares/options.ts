// Readers for decoded middleware options. Label keys are case-insensitive, so option names are
// compared in lower case, and a comma list may arrive as a string or as an array.
import { parseBoolean } from '../labels/schema.js';

/** Returns the option named `name` (any case), or `undefined`. */
export function option(options: Record<string, unknown>, name: string): unknown {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(options)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Reads a list option given as an array or a comma-separated string. */
export function stringList(options: Record<string, unknown>, name: string): string[] {
  const value = option(options, name);
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter((item) => item !== '');
}

/** Reads a map option such as `customrequestheaders.<name>=<value>`. */
export function stringMap(options: Record<string, unknown>, name: string): Map<string, string> {
  const value = option(options, name);
  const result = new Map<string, string>();
  if (value === undefined || value === null || typeof value !== 'object' || Array.isArray(value)) return result;
  for (const [key, item] of Object.entries(value)) result.set(key, String(item));
  return result;
}

/**
 * Reads a boolean option, given as a boolean or as the text a label carries (`true`, `false`, `t`,
 * `f`, `1`, `0`, any case). A missing or empty option is false. Throws an Error naming `subject`
 * (such as `headers`), the option and the value otherwise.
 */
export function booleanOption(options: Record<string, unknown>, subject: string, name: string): boolean {
  const value = option(options, name);
  if (value === undefined || value === null || value === '') return false;
  if (typeof value === 'boolean') return value;

  const parsed = typeof value === 'string' || typeof value === 'number' ? parseBoolean(String(value)) : undefined;
  if (parsed === undefined) {
    throw new Error(`${subject} ${name} ${JSON.stringify(value)} is invalid: write true or false, for example ${name}=true`);
  }
  return parsed;
}

/**
 * Reads a whole-number option, given as a number or as decimal digits. A missing or empty option
 * returns `fallback`. Throws an Error naming `subject`, the option, the value and the fix when the
 * value is not a safe integer of at least `min`. The fix shows `example` as a valid value.
 */
export function integerOption(options: Record<string, unknown>, subject: string, name: string, limits: { fallback: number; min: number; example: number }): number {
  const value = option(options, name);
  if (value === undefined || value === null || value === '') return limits.fallback;

  const text = typeof value === 'number' || typeof value === 'string' ? String(value).trim() : '';
  const parsed = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < limits.min) {
    throw new Error(`${subject} ${name} ${JSON.stringify(value)} is invalid: write a whole number of at least ${limits.min}, for example ${name}=${limits.example}`);
  }
  return parsed;
}
