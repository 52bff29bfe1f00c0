// Readers for decoded middleware options. Label keys are case-insensitive, so option names are
// compared in lower case, and a comma list may arrive as a string or as an array.

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
