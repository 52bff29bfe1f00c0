// Rewrites Traefik v2 matcher calls as v3 rule text, for hints and warnings that show the fix.
import { hasV2Placeholder, v3RegexpFor, type TemplateKind } from './mux-template.js';
import { quoteValue } from './tree.js';

/**
 * Returns v3 rule text equivalent to the v2 call `name(args)`, or `undefined` when the call has
 * no v3 equivalent (for example an odd number of Headers values). Several values of one v2
 * matcher mean "any of them" and become `||`; several pairs of Headers or Query mean "all of
 * them" and become `&&`.
 */
export function v3FormOf(name: string, args: readonly string[]): string | undefined {
  if (args.length === 0) return undefined;
  switch (name) {
    case 'Host':
    case 'HostHeader':
      return anyOf(args.map((host) => call('Host', host)));
    case 'HostRegexp':
      return anyOf(args.map((template) => regexpCall('HostRegexp', template, 'host')));
    case 'Path':
      return anyOf(args.map((template) => pathCall('Path', template, 'path')));
    case 'PathPrefix':
      return anyOf(args.map((template) => pathCall('PathPrefix', template, 'prefix')));
    case 'Method':
      return anyOf(args.map((method) => call('Method', method)));
    case 'ClientIP':
      return anyOf(args.map((range) => call('ClientIP', range)));
    case 'Headers':
    case 'HeadersRegexp':
      return pairs(args, name === 'Headers' ? 'Header' : 'HeaderRegexp');
    case 'Query':
      return queryForm(args);
    default:
      return undefined;
  }
}

/** Returns the v3 regexp for a v2 host template, such as `^[a-z]+\.example\.com$` for `{sub:[a-z]+}.example.com`. */
export function v3HostRegexpFor(template: string): string | undefined {
  return v3RegexpFor(template, 'host');
}

function call(name: string, ...values: string[]): string {
  return `${name}(${values.map(quoteValue).join(', ')})`;
}

function anyOf(calls: (string | undefined)[]): string | undefined {
  if (calls.some((text) => text === undefined)) return undefined;
  return calls.join(' || ');
}

function regexpCall(name: string, template: string, kind: TemplateKind): string | undefined {
  if (!hasV2Placeholder(template)) return call(name, template);
  const source = v3RegexpFor(template, kind);
  return source === undefined ? undefined : call(name, source);
}

/** Rewrites a v2 path. Without placeholders it stays a Path or PathPrefix, and with them it becomes PathRegexp. */
function pathCall(name: string, template: string, kind: TemplateKind): string | undefined {
  if (!hasV2Placeholder(template)) return call(name, template);
  const source = v3RegexpFor(template, kind);
  return source === undefined ? undefined : call('PathRegexp', source);
}

function pairs(args: readonly string[], name: string): string | undefined {
  if (args.length % 2 !== 0) return undefined;
  const calls: string[] = [];
  for (let i = 0; i < args.length; i += 2) calls.push(call(name, args[i] ?? '', args[i + 1] ?? ''));
  return calls.join(' && ');
}

/**
 * v2 Query values are `key=value` templates. Traefik splits each at the first `=` and pairs up
 * the pieces, so `Query(`a=1`, `b=2`)` requires both parameters.
 */
function queryForm(args: readonly string[]): string | undefined {
  const pieces = args.flatMap((arg) => {
    const equals = arg.indexOf('=');
    return equals === -1 ? [arg] : [arg.slice(0, equals), arg.slice(equals + 1)];
  });
  if (pieces.length % 2 !== 0) return undefined;

  const calls: string[] = [];
  for (let i = 0; i < pieces.length; i += 2) {
    const key = pieces[i] ?? '';
    const value = pieces[i + 1] ?? '';
    if (value === '') {
      calls.push(call('QueryRegexp', key, '^.*$'));
    } else if (hasV2Placeholder(value)) {
      const source = v3RegexpFor(value, 'query');
      if (source === undefined) return undefined;
      calls.push(call('QueryRegexp', key, source));
    } else {
      calls.push(call('Query', key, value));
    }
  }
  return calls.join(' && ');
}
