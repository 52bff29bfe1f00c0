// Checks the values of one matcher call against what Traefik accepts, and collects warnings for
// calls that Traefik accepts but that cannot do what their author meant.
import { EXAMPLE_ARGS, V3_ARITY } from './catalog.js';
import { RuleProblem } from './errors.js';
import { compileGoRegexp } from './go-regexp.js';
import { parseIpRange } from './ip.js';
import { hasV2Placeholder, templateToRegexp, type TemplateKind } from './mux-template.js';
import { quoteValue, type MatcherName, type RuleSyntax } from './tree.js';
import { v3FormOf, v3HostRegexpFor } from './v2-to-v3.js';

/** One value as written in the rule. */
export interface CallArgument {
  value: string;
  /** 0-based index of the opening quote. */
  start: number;
  /** True for a backtick value, whose characters map one to one onto the rule text. */
  raw: boolean;
}

/** A matcher call as the parser saw it. */
export interface MatcherCall {
  name: MatcherName;
  syntax: RuleSyntax;
  args: CallArgument[];
  /** 0-based index of the closing parenthesis. */
  closeIndex: number;
}

const SINGLE_VALUE = new Set(['Host', 'HostRegexp', 'Path', 'PathPrefix', 'PathRegexp', 'Method', 'ClientIP']);
const REGEXP_VALUE_INDEX: Record<string, number> = { HostRegexp: 0, PathRegexp: 0, HeaderRegexp: 1, QueryRegexp: 1 };

/** Throws a `RuleProblem` for a call Traefik rejects; appends warnings to `warnings`. */
export function checkMatcherCall(call: MatcherCall, warnings: string[]): void {
  checkPresentAndNonEmpty(call);
  if (call.syntax === 'v3') checkV3(call, warnings);
  else checkV2(call, warnings);
}

/** Writes a correct call of `name` in the given syntax, for hints. */
function example(name: string, syntax: RuleSyntax): string {
  const values = syntax === 'v2' && name === 'Query' ? ['mobile=true'] : (EXAMPLE_ARGS[name] ?? ['value']);
  return `${name}(${values.map(quoteValue).join(', ')})`;
}

/** Traefik rejects a matcher without values and any empty value. */
function checkPresentAndNonEmpty(call: MatcherCall): void {
  const { name, args } = call;
  if (args.length === 0) {
    const what = name === 'Header' || name === 'HeaderRegexp' ? 'a header name and a value' : 'a value';
    throw new RuleProblem(call.closeIndex, `${name} needs ${what}; write for example ${example(name, call.syntax)}`);
  }
  for (const arg of args) {
    if (arg.value === '') {
      throw new RuleProblem(arg.start, `${name} has an empty value; give a value, for example ${example(name, call.syntax)}`);
    }
  }
}

function checkV3(call: MatcherCall, warnings: string[]): void {
  checkV3Arity(call);
  const { name, args } = call;
  const first = args[0] as CallArgument;

  switch (name) {
    case 'Host':
      checkAscii(call, first);
      checkWildcard(first);
      if (first.value.includes('*')) warnings.push(wildcardWarning(first.value));
      if (hasV2Placeholder(first.value)) warnings.push(placeholderWarning(call, first.value));
      if (/^([^:]+|\[[^\]]*\]):[0-9]*$/.test(first.value)) {
        warnings.push(`Host(${quoteValue(first.value)}) never matches: request hosts are compared without their port; remove the port`);
      }
      break;
    case 'HostRegexp':
      checkAscii(call, first);
      break;
    case 'Path':
    case 'PathPrefix':
      checkPath(call, first, warnings);
      break;
    case 'Header':
    case 'HeaderRegexp':
      if (first.value.toLowerCase() === 'host') warnings.push(hostHeaderWarning(name));
      break;
    case 'Query':
      checkV3Query(call);
      break;
    case 'ClientIP':
      checkIpRange(first);
      break;
  }

  const regexpIndex = REGEXP_VALUE_INDEX[name];
  const pattern = regexpIndex === undefined ? undefined : args[regexpIndex];
  if (pattern) {
    checkRegexp(name, pattern);
    if (hasV2Placeholder(pattern.value)) warnings.push(placeholderWarning(call, pattern.value));
  }
}

function checkV3Arity(call: MatcherCall): void {
  const { name, args } = call;
  const allowed = V3_ARITY[name] ?? [1];
  if (allowed.includes(args.length)) return;

  // Too few values: point where the next one belongs. Too many: point at the first extra one.
  const extra = args[Math.max(...allowed)];
  const at = extra ? extra.start : call.closeIndex;
  const values = args.map((arg) => arg.value);
  // Several name/value pairs given to Header are the v2 Headers form.
  let v2Name: string = name;
  if (name === 'Header') v2Name = 'Headers';
  if (name === 'HeaderRegexp') v2Name = 'HeadersRegexp';
  const fix = v3FormOf(v2Name, values);

  if (SINGLE_VALUE.has(name)) {
    const anyOf = fix ?? values.map((value) => `${name}(${quoteValue(value)})`).join(' || ');
    throw new RuleProblem(at, `${name} takes one value; write ${anyOf}`);
  }
  if (name === 'Header' || name === 'HeaderRegexp') {
    const write = args.length > 2 && fix ? fix : example(name, 'v3');
    throw new RuleProblem(at, `${name} takes one header name and one value; write ${write}`);
  }
  const queryFix = values.every((value) => value.includes('=')) ? v3FormOf('Query', values) : undefined;
  throw new RuleProblem(at, `${name} takes a key and an optional value; write ${queryFix ?? example(name, 'v3')}`);
}

/** ``Query(`k=v`)`` is the v2 form; in v3 it would look for a key named `k=v`. */
function checkV3Query(call: MatcherCall): void {
  const first = call.args[0] as CallArgument;
  if (call.args.length !== 1 || !first.value.includes('=')) return;
  const fix = v3FormOf('Query', [first.value]);
  throw new RuleProblem(first.start, `Query(${quoteValue(first.value)}) is Traefik v2 syntax; in v3 write ${fix ?? 'Query(`key`, `value`)'}`);
}

function checkPath(call: MatcherCall, value: CallArgument, warnings: string[]): void {
  if (call.syntax === 'v3' && hasV2Placeholder(value.value)) {
    const fix = v3FormOf(call.name, [value.value]);
    throw new RuleProblem(value.start, `${call.name} placeholders such as {id:[0-9]+} are Traefik v2 syntax; in v3 write ${fix ?? 'PathRegexp(...)'}`);
  }
  if (!value.value.startsWith('/')) {
    throw new RuleProblem(value.start, `${call.name} value must start with /; write ${call.name}(${quoteValue(`/${value.value}`)})`);
  }
  if (call.syntax === 'v3' && value.value.includes('*')) {
    warnings.push(`${call.name}(${quoteValue(value.value)}) compares plain text, so * matches only a literal *; use PathPrefix for "everything under" or PathRegexp for patterns`);
  }
}

function checkAscii(call: MatcherCall, value: CallArgument): void {
  const index = [...value.value].findIndex((char) => (char.codePointAt(0) ?? 0) > 0x7f);
  if (index === -1) return;
  throw new RuleProblem(
    value.raw ? value.start + 1 + index : value.start,
    `${call.name} values must be ASCII; write an internationalized domain name in punycode (xn--...)`,
  );
}

/** Rejects a wildcard anywhere but as the whole host (`*`) or the whole first label (`*.example.com`). */
function checkWildcard(value: CallArgument): void {
  const host = value.value;
  const star = host.indexOf('*');
  if (star === -1 || host === '*') return;
  if (host.startsWith('*.') && host.length > 2 && !host.includes('*', 1)) return;
  throw new RuleProblem(
    value.raw ? value.start + 1 + star : value.start,
    'a Host wildcard must be the whole first label, as in *.example.com; for other patterns use HostRegexp(`^[a-z0-9-]+\\.example\\.com$`)',
  );
}

/**
 * Warns that a Host wildcard is Berth's own: Traefik v3's Host compares the value literally (it
 * has no wildcard), so the same label on Traefik never matches. HostRegexp works in both.
 */
function wildcardWarning(host: string): string {
  const portable = host === '*' ? '.+' : `^[^.]+${host.slice(1).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const matches = host === '*' ? 'every host' : `one label in place of *`;
  return `Host(${quoteValue(host)}) matches ${matches} in Berth, but Traefik v3 compares it literally and never matches it; for a rule that works in both, write HostRegexp(${quoteValue(portable)})`;
}

function checkRegexp(name: string, pattern: CallArgument): void {
  const compiled = compileGoRegexp(pattern.value);
  if (compiled.ok) return;
  const at = pattern.raw && compiled.offset !== undefined ? pattern.start + 1 + compiled.offset : pattern.start;
  throw new RuleProblem(at, `${name} value is not a valid Go regexp: ${compiled.reason}`);
}

function checkIpRange(value: CallArgument): void {
  if (parseIpRange(value.value)) return;
  throw new RuleProblem(
    value.start,
    `ClientIP value ${quoteValue(value.value)} is not an IP address or CIDR range; write for example ClientIP(\`10.0.0.1\`) or ClientIP(\`192.168.1.0/24\`)`,
  );
}

function placeholderWarning(call: MatcherCall, value: string): string {
  const suggestion = call.name === 'HostRegexp' || call.name === 'Host' ? v3HostRegexpFor(value) : undefined;
  const fix = suggestion ? `; to match like v2 did, write HostRegexp(${quoteValue(suggestion)})` : '; rewrite it as a plain regexp without {name:...}';
  return `${call.name}(${quoteValue(value)}) looks like Traefik v2 syntax: in v3 the braces are literal text, so it matches almost nothing${fix}`;
}

function hostHeaderWarning(name: string): string {
  return `${name}(\`Host\`, ...) never matches: Go moves the Host header out of the header map; use Host(...) or HostRegexp(...)`;
}

function checkV2(call: MatcherCall, warnings: string[]): void {
  const { name, args } = call;
  switch (name) {
    case 'Host':
    case 'HostHeader':
      for (const arg of args) {
        checkAscii(call, arg);
        if (arg.value.includes('*')) {
          warnings.push(`${name}(${quoteValue(arg.value)}) is compared literally: Host wildcards exist only in v3 syntax`);
        }
      }
      return;
    case 'HostRegexp':
      for (const arg of args) {
        checkAscii(call, arg);
        checkTemplate(call, arg, 'host');
      }
      return;
    case 'Path':
    case 'PathPrefix':
      for (const arg of args) {
        checkPath(call, arg, warnings);
        checkTemplate(call, arg, name === 'Path' ? 'path' : 'prefix');
      }
      return;
    case 'Headers':
    case 'HeadersRegexp':
      checkV2Pairs(call, warnings);
      return;
    case 'Query':
      checkV2Query(call);
      return;
    case 'ClientIP':
      for (const arg of args) checkIpRange(arg);
      return;
  }
}

function checkTemplate(call: MatcherCall, value: CallArgument, kind: TemplateKind): void {
  const result = templateToRegexp(value.value, kind);
  if (!result.ok) throw new RuleProblem(value.start, `${call.name} value is invalid: ${result.reason}`);
}

function checkV2Pairs(call: MatcherCall, warnings: string[]): void {
  const { name, args } = call;
  if (args.length % 2 !== 0) {
    throw new RuleProblem(call.closeIndex, `${name} takes header names and values in pairs; write ${example(name, 'v2')}`);
  }
  for (let i = 0; i < args.length; i += 2) {
    if (args[i]?.value.toLowerCase() === 'host') warnings.push(hostHeaderWarning(name));
    const pattern = args[i + 1];
    if (name === 'HeadersRegexp' && pattern) checkRegexp(name, pattern);
  }
}

/** v2 Query values are `key=value` templates; Traefik splits them at `=` and pairs the pieces. */
function checkV2Query(call: MatcherCall): void {
  const pieces = call.args.flatMap((arg) => {
    const equals = arg.value.indexOf('=');
    return equals === -1 ? [arg.value] : [arg.value.slice(0, equals), arg.value.slice(equals + 1)];
  });
  if (pieces.length % 2 !== 0) {
    throw new RuleProblem(call.args[0]?.start ?? call.closeIndex, 'Query takes key=value values in v2 syntax; write Query(`mobile=true`), or Query(`mobile=`) for any value');
  }
  for (let i = 0; i < pieces.length; i += 2) {
    const result = templateToRegexp(`${pieces[i] ?? ''}=${pieces[i + 1] ?? ''}`, 'query');
    if (!result.ok) throw new RuleProblem(call.args[0]?.start ?? call.closeIndex, `Query value is invalid: ${result.reason}`);
  }
}
