// Property-based checks: parseRule is total and fast, printing round-trips, and literalHosts is sound.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  compileRule,
  literalHosts,
  parseRule,
  printRule,
  type MatcherNode,
  type RuleNode,
  type RuleSyntax,
} from '../../src/rules/index.js';
import { facts, withoutColumns } from './helpers.js';

/** One parse may take this long at most; a hang or super-linear blow-up fails the property. */
const MAX_PARSE_MS = 200;

function parseTimed(rule: string, syntax: RuleSyntax = 'v3'): ReturnType<typeof parseRule> {
  const started = performance.now();
  const result = parseRule(rule, syntax);
  const elapsed = performance.now() - started;
  if (elapsed > MAX_PARSE_MS) throw new Error(`parsing took ${elapsed.toFixed(0)} ms: ${JSON.stringify(rule)}`);
  return result;
}

const VALID_RULES = [
  'Host(`example.com`)',
  'Host(`example.com`) && PathPrefix(`/api`)',
  'HostRegexp(`^.+\\.example\\.com$`) || Path(`/health`)',
  '!(Method(`POST`) || Header(`X-A`, "b\\tc")) && Query(`q`)',
  'QueryRegexp(`q`, `^(a|b)$`) && ClientIP(`10.0.0.0/8`)',
  'Host(`a.com`) &&\n  (PathRegexp(`(?i)^/x`) || !Host(`*.b.com`))',
];

const FRAGMENTS = [
  'Host', 'Path', 'PathPrefix', 'HostRegexp', 'Query', 'Header', 'ClientIP', 'Headers', 'hots',
  '(', ')', ',', '&&', '||', '!', ' ', '\n', '\t', '`a`', '"b"', "'c'", '`/`', '`', '"', '\\', '{id}',
  '&', '|', 'and', '/*', '*/', '//', '`(a+)+$`', '`*.x.com`', '`=`', '"\\x41"', '1', '.', '\u00e9', '\u{1F9AD}',
];

describe('parseRule is total', () => {
  test('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom<RuleSyntax>('v3', 'v2'), (rule, syntax) => {
        const result = parseTimed(rule, syntax);
        expect(typeof result.ok).toBe('boolean');
      }),
      { numRuns: 1000 },
    );
  });

  test('never throws on text made of rule fragments', () => {
    const ruleText = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(ruleText, fc.constantFrom<RuleSyntax>('v3', 'v2'), (rule, syntax) => {
        const result = parseTimed(rule, syntax);
        if (!result.ok) expect(result.error.column).toBeGreaterThanOrEqual(1);
      }),
      { numRuns: 2000 },
    );
  });

  test('never throws on mutated valid rules', () => {
    const mutation = fc.record({
      at: fc.nat(),
      remove: fc.nat({ max: 3 }),
      insert: fc.constantFrom('', ...FRAGMENTS),
    });
    fc.assert(
      fc.property(fc.constantFrom(...VALID_RULES), fc.array(mutation, { minLength: 1, maxLength: 4 }), (rule, mutations) => {
        let mutated = rule;
        for (const { at, remove, insert } of mutations) {
          const index = at % (mutated.length + 1);
          mutated = mutated.slice(0, index) + insert + mutated.slice(index + remove);
        }
        const result = parseTimed(mutated);
        if (!result.ok) expect(result.error.message).toContain('^');
      }),
      { numRuns: 2000 },
    );
  });

  test('parses a rule of 20 000 matchers quickly', () => {
    const rule = Array.from({ length: 20_000 }, (_, i) => `Host(\`h${i}.example.com\`)`).join(' || ');
    const started = performance.now();
    const result = parseRule(rule);
    expect(result.ok).toBe(true);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

// Values with backticks, quotes, backslashes and line breaks exercise both ways of quoting.
const anyValue = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }),
  fc.constantFrom('`', 'a`b', '"\\', '\r\n', '\u0000', 'x\ty'),
);
const queryKey = anyValue.filter((key) => !key.includes('='));
const regexpValue = fc.constantFrom('^/a', '(?i)^x', '[a-z]+\\.com$', '.*', 'a|b', '^\\Qa.b\\E$');
const headerName = fc.constantFrom('X-A', 'content-type', 'X-Forwarded-Proto');

function v3Matcher(name: MatcherNode['name'], args: fc.Arbitrary<string[]>): fc.Arbitrary<RuleNode> {
  return args.map((values): RuleNode => ({ type: 'matcher', name, args: values, column: 0, syntax: 'v3' }));
}

const v3Matchers: fc.Arbitrary<RuleNode> = fc.oneof(
  v3Matcher('Host', fc.tuple(fc.constantFrom('example.com', 'A.example.com', 'b.test.', '*.example.com', '*'))),
  v3Matcher('HostRegexp', fc.tuple(regexpValue)),
  v3Matcher('Path', fc.tuple(fc.constantFrom('/', '/a', '/api/v1', '/a b'))),
  v3Matcher('PathPrefix', fc.tuple(fc.constantFrom('/', '/a', '/api'))),
  v3Matcher('PathRegexp', fc.tuple(regexpValue)),
  v3Matcher('Method', fc.tuple(fc.constantFrom('GET', 'post'))),
  v3Matcher('Header', fc.tuple(headerName, anyValue)),
  v3Matcher('HeaderRegexp', fc.tuple(headerName, regexpValue)),
  v3Matcher('Query', fc.oneof(fc.tuple(queryKey), fc.tuple(queryKey, anyValue))),
  v3Matcher('QueryRegexp', fc.oneof(fc.tuple(queryKey), fc.tuple(queryKey, regexpValue))),
  v3Matcher('ClientIP', fc.tuple(fc.constantFrom('10.0.0.1', '10.0.0.0/8', '::1', 'fe80::/10'))),
);

const v2Matchers: fc.Arbitrary<RuleNode> = fc.oneof(
  fc.array(fc.constantFrom('a.com', 'B.com', '*.c.com'), { minLength: 1, maxLength: 3 }).map(
    (args): RuleNode => ({ type: 'matcher', name: 'Host', args, column: 0, syntax: 'v2' }),
  ),
  fc.array(fc.constantFrom('/a', '/b/{id}', '/c/{n:[0-9]+}'), { minLength: 1, maxLength: 3 }).map(
    (args): RuleNode => ({ type: 'matcher', name: 'PathPrefix', args, column: 0, syntax: 'v2' }),
  ),
  fc.array(fc.tuple(headerName, anyValue), { minLength: 1, maxLength: 2 }).map(
    (pairs): RuleNode => ({ type: 'matcher', name: 'Headers', args: pairs.flat(), column: 0, syntax: 'v2' }),
  ),
  fc.array(fc.constantFrom('k=v', 'k=', 'n={x:[0-9]+}'), { minLength: 1, maxLength: 2 }).map(
    (args): RuleNode => ({ type: 'matcher', name: 'Query', args, column: 0, syntax: 'v2' }),
  ),
);

function trees(leaf: fc.Arbitrary<RuleNode>): fc.Arbitrary<RuleNode> {
  const { node } = fc.letrec<{ node: RuleNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      tie('node').map((child): RuleNode => ({ type: 'not', child })),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((children): RuleNode => ({ type: 'and', children })),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((children): RuleNode => ({ type: 'or', children })),
    ),
  }));
  return node;
}

/** Returns the tree parseRule builds for the same rule, where `&&` inside `&&` and `||` inside `||` are flattened. */
function flattened(tree: RuleNode): RuleNode {
  switch (tree.type) {
    case 'matcher':
      return tree;
    case 'not':
      return { type: 'not', child: flattened(tree.child) };
    case 'and':
    case 'or': {
      const children = tree.children.map(flattened).flatMap((child) => (child.type === tree.type ? child.children : [child]));
      return { type: tree.type, children };
    }
  }
}

describe('printRule round trip', () => {
  test.each<[string, fc.Arbitrary<RuleNode>, RuleSyntax]>([
    ['v3', trees(v3Matchers), 'v3'],
    ['v2', trees(v2Matchers), 'v2'],
  ])('a printed %s tree parses back to the same tree', (_name, arbitrary, syntax) => {
    fc.assert(
      fc.property(arbitrary, (tree) => {
        const printed = printRule(tree);
        const result = parseTimed(printed, syntax);
        if (!result.ok) throw new Error(result.error.message);
        expect(withoutColumns(result.tree)).toEqual(withoutColumns(flattened(tree)));
        expect(printRule(result.tree)).toBe(printed);
      }),
      { numRuns: 1000 },
    );
  });

  test('parsed example rules print and parse to the same tree', () => {
    for (const rule of VALID_RULES) {
      const first = parseRule(rule);
      if (!first.ok) throw new Error(first.error.message);
      const second = parseRule(printRule(first.tree));
      if (!second.ok) throw new Error(second.error.message);
      expect(withoutColumns(second.tree)).toEqual(withoutColumns(first.tree));
    }
  });
});

describe('literalHosts is sound', () => {
  const hostTree = trees(
    fc.oneof(
      fc.constantFrom('a.com', 'b.com', 'A.com.', '*.a.com', '*').map(
        (host): RuleNode => ({ type: 'matcher', name: 'Host', args: [host], column: 0, syntax: 'v3' }),
      ),
      fc.constantFrom('/', '/x').map((path): RuleNode => ({ type: 'matcher', name: 'PathPrefix', args: [path], column: 0, syntax: 'v3' })),
      fc.constant<RuleNode>({ type: 'matcher', name: 'HostRegexp', args: ['^b'], column: 0, syntax: 'v3' }),
    ),
  );

  test('matching request host is listed', () => {
    fc.assert(
      fc.property(hostTree, fc.constantFrom('a.com', 'b.com', 'c.com', 'x.a.com', ''), fc.constantFrom('/', '/x/y'), (tree, host, path) => {
        const hosts = literalHosts(tree);
        if (compileRule(tree)(facts({ host, path }))) {
          expect(hosts === null || hosts.includes(host)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
