// Shared helpers for the rule tests: request facts with defaults, and parse-then-match.
import { compileRule, parseRule, type RuleNode, type RuleSyntax } from '../../src/rules/index.js';
import type { RequestFacts } from '../../src/rules/types.js';

/** Builds a request for `example.com/` from 127.0.0.1, with the given fields replaced. */
export function facts(overrides: Partial<RequestFacts> = {}): RequestFacts {
  return {
    host: 'example.com',
    path: '/',
    rawQuery: '',
    method: 'GET',
    headers: {},
    clientIp: '127.0.0.1',
    ...overrides,
  };
}

/** Parses a rule that must be valid; a parse error fails the test with the error's message. */
export function parseValid(rule: string, syntax: RuleSyntax = 'v3'): RuleNode {
  const result = parseRule(rule, syntax);
  if (!result.ok) throw new Error(`expected ${JSON.stringify(rule)} to parse:\n${result.error.message}`);
  return result.tree;
}

/** Returns whether `rule` matches `request`. */
export function ruleMatches(rule: string, request: Partial<RequestFacts>, syntax: RuleSyntax = 'v3'): boolean {
  return compileRule(parseValid(rule, syntax))(facts(request));
}

/** Copies a tree without the `column` of its matchers, so trees parsed from different text compare equal. */
export function withoutColumns(tree: RuleNode): unknown {
  switch (tree.type) {
    case 'matcher':
      return { type: 'matcher', name: tree.name, args: tree.args, syntax: tree.syntax };
    case 'not':
      return { type: 'not', child: withoutColumns(tree.child) };
    case 'and':
    case 'or':
      return { type: tree.type, children: tree.children.map(withoutColumns) };
  }
}
