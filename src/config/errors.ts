/** Details a `ConfigError` carries besides its message, for callers that format errors themselves. */
export interface ConfigErrorDetails {
  /** The flag, environment variable or file key at fault, as the user wrote it or as Berth names it. */
  option?: string;
  /** The rejected value, as given. */
  value?: string;
  /** The YAML file involved, when there is one. */
  file?: string;
  cause?: unknown;
}

/**
 * An invalid static configuration. The message is meant to be printed as it is: it names the
 * option, the value and what is allowed, so Berth exits with this one line and nothing else.
 */
export class ConfigError extends Error {
  readonly code = 'BERTH_CONFIG_INVALID';
  readonly option: string | undefined;
  readonly value: string | undefined;
  readonly file: string | undefined;

  constructor(message: string, details: ConfigErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfigError';
    this.option = details.option;
    this.value = details.value;
    this.file = details.file;
  }
}

/** Quotes a value for an error message, so empty and space-padded values stay visible. */
export function quote(value: unknown): string {
  if (value === null || value === undefined) return '(empty)';
  return JSON.stringify(String(value));
}

/** Formats the message of a rejected option value, where `reason` states what is allowed. */
export function invalidValueMessage(origin: { label: string }, value: unknown, reason: string): string {
  return `Invalid value ${quote(value)} for ${origin.label}: ${reason}.`;
}
