// The rule language: Traefik v3 router rules (and v2 rules for routers with ruleSyntax v2).
//
// parseRule turns rule text into a tree, or into a RuleSyntaxError that points at the problem.
// compileRule turns a tree into a request matcher. literalHosts and defaultPriority give the
// router table its index keys and its order. printRule writes a tree back as rule text.
export { parseRule, type ParseResult } from './parser.js';
export { compileRule } from './compile.js';
export { defaultPriority, literalHosts } from './table-keys.js';
export { RuleSyntaxError } from './errors.js';
export {
  printRule,
  V2_MATCHERS,
  V3_MATCHERS,
  type AndNode,
  type MatcherName,
  type MatcherNode,
  type NotNode,
  type OrNode,
  type RuleNode,
  type RuleSyntax,
} from './tree.js';
export type { Matcher, RequestFacts } from './types.js';
