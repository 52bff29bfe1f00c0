// Compiled router rules kept from one runtime build to the next. A Docker event usually changes
// one container, so most rules of the next build are the same text. Parsing and compiling them
// again took a large share of every rebuild, most of all for long rules.
import { compileRule, literalHosts, parseRule } from '../rules/index.js';
import type { RuleSyntax } from '../rules/tree.js';
import type { Matcher } from '../rules/types.js';

/** A rule ready for a route, or the parse error to record on the router. */
export type CompiledRule =
  | { ok: true; matcher: Matcher; hosts: readonly string[] | null; warnings: readonly string[] }
  | { ok: false; message: string };

/** Parses and compiles `rule` without a cache. */
export function compileRouterRule(rule: string, syntax: RuleSyntax): CompiledRule {
  const parsed = parseRule(rule, syntax);
  if (!parsed.ok) return { ok: false, message: parsed.error.message };
  return { ok: true, matcher: compileRule(parsed.tree), hosts: literalHosts(parsed.tree), warnings: parsed.warnings };
}

/**
 * Compiled rules by syntax and text. Matchers hold no per-request state, so runtimes may share
 * them. Rules that one build did not use are dropped at the end of it, so the cache holds only
 * the rules of the current configuration.
 */
export class RuleCache {
  #previous = new Map<string, CompiledRule>();
  #current = new Map<string, CompiledRule>();

  /** Returns the compiled `rule`, compiling it only when the previous build did not have it. */
  compile(rule: string, syntax: RuleSyntax): CompiledRule {
    // A rule that is not a string (from a malformed file) would share a key with its text form.
    if (typeof rule !== 'string') return compileRouterRule(rule, syntax);
    const key = `${syntax}\0${rule}`;
    let compiled = this.#current.get(key) ?? this.#previous.get(key);
    if (compiled === undefined) compiled = compileRouterRule(rule, syntax);
    this.#current.set(key, compiled);
    return compiled;
  }

  /** Ends one build: the rules it compiled or reused become the ones the next build may reuse. */
  finishBuild(): void {
    this.#previous = this.#current;
    this.#current = new Map();
  }

  /** Number of rules the next build may reuse. */
  get size(): number {
    return this.#previous.size;
  }
}
