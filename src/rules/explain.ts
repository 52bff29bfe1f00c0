// Matcher-level evaluation of a rule tree, for explaining why a router did or did not match a
// request. Routing itself uses the compiled matcher from `compileRule`, which stops at the first
// operand that decides the result. This module evaluates every matcher, so a report can show them all.
import { compileRule } from './compile.js';
import { printRule, type MatcherName, type MatcherNode, type RuleNode } from './tree.js';
import type { Matcher, RequestFacts } from './types.js';

/** The result of one matcher call of a rule against one request. */
export interface MatcherResult {
  name: MatcherName;
  /** The matcher as rule text in canonical form, such as ``PathPrefix(`/api`)``. */
  text: string;
  /** 1-based position of the matcher in the router's rule. */
  column: number;
  /** The matcher's own result, before any `!` around it is applied. */
  matched: boolean;
  /** Whether an odd number of `!` operators encloses the matcher, so a match counts against the rule. */
  negated: boolean;
}

/** Per-matcher results of a rule and the result of the whole rule. */
export interface RuleEvaluation {
  matched: boolean;
  /** Every matcher of the rule, left to right as written. */
  matchers: MatcherResult[];
}

/** Matcher names that look at the request host. */
export const HOST_MATCHERS: ReadonlySet<MatcherName> = new Set<MatcherName>(['Host', 'HostHeader', 'HostRegexp']);

/**
 * Evaluates `tree` against `facts`, matcher by matcher. The overall result equals that of
 * `compileRule(tree)(facts)`, because matchers have no side effects and so the order and
 * short-circuiting of the evaluation cannot change it.
 */
export function evaluateRule(tree: RuleNode, facts: RequestFacts): RuleEvaluation {
  const matchers: MatcherResult[] = [];
  const matched = evaluate(tree, facts, false, matchers);
  return { matched, matchers };
}

function evaluate(node: RuleNode, facts: RequestFacts, negated: boolean, results: MatcherResult[]): boolean {
  switch (node.type) {
    case 'matcher': {
      const matched = compileMatcher(node)(facts);
      results.push({ name: node.name, text: printRule(node), column: node.column, matched, negated });
      return matched;
    }
    case 'not':
      return !evaluate(node.child, facts, !negated, results);
    case 'and': {
      // Every child is evaluated, not only up to the first false one, so each matcher gets a result.
      const values = node.children.map((child) => evaluate(child, facts, negated, results));
      return values.every(Boolean);
    }
    case 'or': {
      const values = node.children.map((child) => evaluate(child, facts, negated, results));
      return values.some(Boolean);
    }
  }
}

/** Compiled matchers by node, so explaining many requests against one tree compiles each matcher once. */
const compiled = new WeakMap<MatcherNode, Matcher>();

function compileMatcher(node: MatcherNode): Matcher {
  let matcher = compiled.get(node);
  if (matcher === undefined) {
    matcher = compileRule(node);
    compiled.set(node, matcher);
  }
  return matcher;
}
