// The parsed form of a router rule, and printing it back to rule text.

/** The rule grammar a router uses, as set by Traefik's `ruleSyntax` option. */
export type RuleSyntax = 'v3' | 'v2';

/** Matcher names of Traefik v3 syntax. */
export const V3_MATCHERS = [
  'Host',
  'HostRegexp',
  'Path',
  'PathPrefix',
  'PathRegexp',
  'Method',
  'Header',
  'HeaderRegexp',
  'Query',
  'QueryRegexp',
  'ClientIP',
] as const;

/** Matcher names of Traefik v2 syntax (gorilla/mux based). */
export const V2_MATCHERS = [
  'Host',
  'HostHeader',
  'HostRegexp',
  'Path',
  'PathPrefix',
  'Method',
  'Headers',
  'HeadersRegexp',
  'Query',
  'ClientIP',
] as const;

export type V3MatcherName = (typeof V3_MATCHERS)[number];
export type V2MatcherName = (typeof V2_MATCHERS)[number];
export type MatcherName = V3MatcherName | V2MatcherName;

/** One matcher call such as ``Host(`example.com`)``. */
export interface MatcherNode {
  type: 'matcher';
  /** Canonical spelling, even when the rule used `host` or `HOST`. */
  name: MatcherName;
  /** Argument values after Go string-literal decoding. */
  args: string[];
  /** 1-based position of the matcher name in the rule text. */
  column: number;
  /** The grammar the matcher was parsed with; it decides how `args` are interpreted. */
  syntax: RuleSyntax;
}

/** Conjunction of two or more nodes; nested `&&` chains are flattened into one node. */
export interface AndNode {
  type: 'and';
  children: RuleNode[];
}

/** Disjunction of two or more nodes; nested `||` chains are flattened into one node. */
export interface OrNode {
  type: 'or';
  children: RuleNode[];
}

export interface NotNode {
  type: 'not';
  child: RuleNode;
}

export type RuleNode = MatcherNode | AndNode | OrNode | NotNode;

/**
 * Prints a tree as rule text. Parsing the output with the same syntax gives the same tree, apart
 * from `column` values. Values are written in backticks, except values with a backtick or a
 * carriage return, because Go drops carriage returns from raw strings. Those are double-quoted.
 */
export function printRule(tree: RuleNode): string {
  switch (tree.type) {
    case 'matcher':
      return `${tree.name}(${tree.args.map(quoteValue).join(', ')})`;
    case 'not':
      return `!${printOperand(tree.child)}`;
    case 'and':
      return tree.children.map((child) => (child.type === 'or' ? `(${printRule(child)})` : printRule(child))).join(' && ');
    case 'or':
      return tree.children.map(printRule).join(' || ');
  }
}

/** Prints an operand of `!`, in parentheses unless it is a matcher or another negation. */
function printOperand(node: RuleNode): string {
  return node.type === 'matcher' || node.type === 'not' ? printRule(node) : `(${printRule(node)})`;
}

/** Writes a value as a Go string literal that decodes back to exactly `value`. */
export function quoteValue(value: string): string {
  if (!value.includes('`') && !value.includes('\r')) return `\`${value}\``;
  return goQuote(value);
}

/** Double-quoted Go string literal; printable characters stay as they are. */
function goQuote(value: string): string {
  let out = '"';
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

/** Calls `visit` on every matcher node, depth first, left to right. */
export function forEachMatcher(tree: RuleNode, visit: (node: MatcherNode) => void): void {
  switch (tree.type) {
    case 'matcher':
      visit(tree);
      return;
    case 'not':
      forEachMatcher(tree.child, visit);
      return;
    case 'and':
    case 'or':
      for (const child of tree.children) forEachMatcher(child, visit);
  }
}
