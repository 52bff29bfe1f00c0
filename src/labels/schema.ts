// The schema language for flat dotted labels: each field declares which keys exist below it and
// how a label value is parsed. Schemas are plain data, so a middleware type is added by
// declaring its options, and `Infer` derives the decoded TypeScript type from the same object.
// Values are parsed with the spellings Traefik's Go parser accepts where the two could differ.

export interface StringField {
  kind: 'string';
}

export interface BoolField {
  kind: 'bool';
}

export interface IntegerField {
  kind: 'integer';
  min: number;
  max: number;
  /** Noun for messages, for example `a port number`. */
  noun: string;
}

export interface EnumField<V extends string = string> {
  kind: 'enum';
  values: readonly V[];
}

/** A Go duration (`10s`, `1m30s`, `250ms`) or a whole number of seconds, kept as written. */
export interface DurationField {
  kind: 'duration';
  /** Accepts a leading `-` or `+`, as Go's time.ParseDuration does, for options where a negative value has a meaning. */
  signed: boolean;
}

/** A list of strings: a comma-separated value, or one label per `[n]` index. */
export interface ListField {
  kind: 'list';
}

/** Children whose names the user chooses (router names, header names); the names keep their spelling. */
export interface MapField<V extends FieldSchema = FieldSchema> {
  kind: 'map';
  of: V;
  /** Stand-in for the user's name in suggested keys, for example `<name>`. */
  placeholder: string;
}

export interface ObjectField<F extends Record<string, FieldSchema> = Record<string, FieldSchema>> {
  kind: 'object';
  /** Known options under their canonical spelling; labels match them case-insensitively. */
  fields: F;
  /** When true the object's own key may be set to `true`/`false`, as in `tls=true`. */
  flag: boolean;
  /**
   * Option names (lower case) that Traefik defines but Berth does not implement, with the message
   * for their labels. Labels under them are reported with it, not as typos of a known option.
   */
  unsupported: Readonly<Record<string, string>>;
}

/** A list of objects, one per `[n]` index, as in `tls.domains[0].main`. */
export interface ArrayField<E extends FieldSchema = FieldSchema> {
  kind: 'array';
  of: E;
}

/** A known subtree whose labels are accepted but not read. */
export interface IgnoredField {
  kind: 'ignored';
}

export type ScalarField = StringField | BoolField | IntegerField | EnumField | DurationField;

export type FieldSchema = ScalarField | ListField | MapField | ObjectField | ArrayField | IgnoredField;

/** The decoded type of a field; object options are optional because labels set only some of them. */
export type Infer<S> = S extends StringField | DurationField
  ? string
  : S extends BoolField
    ? boolean
    : S extends IntegerField
      ? number
      : S extends EnumField<infer V>
        ? V
        : S extends ListField
          ? string[]
          : S extends MapField<infer V>
            ? Record<string, Infer<V>>
            : S extends ObjectField<infer F>
              ? { [K in keyof F]?: Infer<F[K]> }
              : S extends ArrayField<infer E>
                ? Array<Infer<E>>
                : S extends IgnoredField
                  ? true
                  : never;

/** Builders for schema fields, so declarations read as a list of options. */
export const field = {
  string: (): StringField => ({ kind: 'string' }),
  bool: (): BoolField => ({ kind: 'bool' }),
  integer: (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER, noun = 'an integer'): IntegerField => ({
    kind: 'integer',
    min,
    max,
    noun,
  }),
  port: (): IntegerField => ({ kind: 'integer', min: 1, max: 65535, noun: 'a port number' }),
  oneOf: <V extends string>(...values: V[]): EnumField<V> => ({ kind: 'enum', values }),
  duration: (options: { signed?: boolean } = {}): DurationField => ({ kind: 'duration', signed: options.signed ?? false }),
  list: (): ListField => ({ kind: 'list' }),
  map: <V extends FieldSchema>(of: V, placeholder = '<name>'): MapField<V> => ({ kind: 'map', of, placeholder }),
  object: <F extends Record<string, FieldSchema>>(
    fields: F,
    options: { flag?: boolean; unsupported?: Readonly<Record<string, string>> } = {},
  ): ObjectField<F> => ({
    kind: 'object',
    fields,
    flag: options.flag ?? false,
    unsupported: options.unsupported ?? {},
  }),
  array: <E extends FieldSchema>(of: E): ArrayField<E> => ({ kind: 'array', of }),
  ignored: (): IgnoredField => ({ kind: 'ignored' }),
};

/** Returns the canonical option name matching `name` case-insensitively, or undefined. */
export function findOption(schema: ObjectField, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(schema.fields).find((option) => option.toLowerCase() === lower);
}

/** Returns the message for `name` when it is an option that Traefik defines but Berth does not implement. */
export function findUnsupported(schema: ObjectField, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.hasOwn(schema.unsupported, lower) ? schema.unsupported[lower] : undefined;
}

/**
 * Lists every complete key below a field, relative to it, in lower case, for suggestions.
 * Map children appear as the map's placeholder and array items as `[0]`.
 */
export function listKnownKeys(schema: FieldSchema): string[][] {
  switch (schema.kind) {
    case 'object': {
      const keys: string[][] = schema.flag ? [[]] : [];
      for (const [option, child] of Object.entries(schema.fields)) {
        for (const rest of listKnownKeys(child)) keys.push([option.toLowerCase(), ...rest]);
      }
      return keys;
    }
    case 'map':
      return listKnownKeys(schema.of).map((rest) => [schema.placeholder, ...rest]);
    case 'array':
      return listKnownKeys(schema.of).map((rest) => ['[0]', ...rest]);
    default:
      return [[]];
  }
}

/** Describes what a scalar field accepts, for messages such as "expected true or false". */
export function describeExpected(schema: ScalarField | ListField): string {
  switch (schema.kind) {
    case 'string':
      return 'a string';
    case 'bool':
      return 'true or false';
    case 'integer':
      // Open-ended ranges are described by the noun alone, such as "a non-negative integer".
      if (schema.min === Number.MIN_SAFE_INTEGER || schema.max === Number.MAX_SAFE_INTEGER) return schema.noun;
      return `${schema.noun} from ${schema.min} to ${schema.max}`;
    case 'enum':
      return `one of ${schema.values.join(', ')}`;
    case 'duration':
      if (schema.signed) return 'a duration such as 10s, 1m30s, 250ms or -1ms, or a number of seconds such as -1';
      return 'a duration such as 10s, 1m30s or 250ms, or a number of seconds';
    case 'list':
      return 'a comma-separated list';
  }
}

export type ScalarValue = string | number | boolean;

/** Outcome of parsing one value: the parsed value, or `undefined` when the text is invalid. */
export interface ParsedScalar {
  value?: ScalarValue;
}

// Go's strconv.ParseBool accepts 1/0 and t/f besides true/false; labels written for Traefik use them.
const TRUE_VALUES = new Set(['true', 't', '1']);
const FALSE_VALUES = new Set(['false', 'f', '0']);

/** Parses a boolean label value, or returns undefined when it is not one. */
export function parseBoolean(text: string): boolean | undefined {
  const lower = text.trim().toLowerCase();
  if (TRUE_VALUES.has(lower)) return true;
  if (FALSE_VALUES.has(lower)) return false;
  return undefined;
}

function parseInteger(text: string, min: number, max: number): number | undefined {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value < min || value > max) return undefined;
  return value;
}

// Go's time.ParseDuration units; Traefik also accepts a bare number as seconds.
const DURATION = /^(?:\d+|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

function parseDuration(text: string, signed: boolean): string | undefined {
  const trimmed = text.trim();
  const unsigned = signed ? trimmed.replace(/^[+-]/, '') : trimmed;
  return DURATION.test(unsigned) ? trimmed : undefined;
}

/** Parses `text` as the scalar type of `schema`. */
export function parseScalar(schema: ScalarField, text: string): ParsedScalar {
  switch (schema.kind) {
    case 'string':
      return { value: text };
    case 'bool': {
      const value = parseBoolean(text);
      return value === undefined ? {} : { value };
    }
    case 'integer': {
      const value = parseInteger(text, schema.min, schema.max);
      return value === undefined ? {} : { value };
    }
    case 'enum': {
      const lower = text.trim().toLowerCase();
      const value = schema.values.find((candidate) => candidate.toLowerCase() === lower);
      return value === undefined ? {} : { value };
    }
    case 'duration': {
      const value = parseDuration(text, schema.signed);
      return value === undefined ? {} : { value };
    }
  }
}

/** Splits a comma-separated list value; blanks around items and empty items are dropped. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
