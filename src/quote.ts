// Quoting of user values in error messages. A label value or rule can be tens of kilobytes, and
// repeating it in full makes one log line of that size for every rebuild, so long values are cut.

/** Maximum number of characters of a value that a message repeats. An ellipsis replaces the rest. */
export const MAX_QUOTED_LENGTH = 200;

/**
 * Shortens `value` to `max` characters (code points) plus an ellipsis and its full length, such as
 * `abc…(40786 characters)`, and returns shorter values unchanged.
 */
export function truncateValue(value: string, max = MAX_QUOTED_LENGTH): string {
  if (value.length <= max) return value;
  const chars = [...value];
  if (chars.length <= max) return value;
  return `${chars.slice(0, max).join('')}…(${chars.length} characters)`;
}

/**
 * Returns `value` shortened by truncateValue as a JSON string for a message: in double quotes,
 * with quotes, backslashes and control characters such as CR and LF escaped.
 */
export function quoteValue(value: string, max = MAX_QUOTED_LENGTH): string {
  return JSON.stringify(truncateValue(value, max));
}

/**
 * Returns an option value for a message: a string as quoteValue gives it, and a number, boolean,
 * list or object as JSON text, shortened by truncateValue.
 */
export function quoteOptionValue(value: unknown, max = MAX_QUOTED_LENGTH): string {
  if (typeof value === 'string') return quoteValue(value, max);
  return truncateValue(JSON.stringify(value) ?? String(value), max);
}
