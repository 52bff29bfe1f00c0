// The condition language of the `circuitBreaker` middleware, as vulcand/oxy's cbreaker package
// reads it for Traefik v3: comparisons of a metric with a number, joined by `&&` and `||`, with
// parentheses for grouping. `&&` binds tighter than `||`, as in Go.
//
//   condition  = or
//   or         = and { "||" and }
//   and        = term { "&&" term }
//   term       = "(" or ")" | metric operator number
//   metric     = NetworkErrorRatio() | ResponseCodeRatio(from, to, dividedByFrom, dividedByTo)
//              | LatencyAtQuantileMS(quantile)
//   operator   = ">" | ">=" | "<" | "<=" | "==" | "!="
//
// The parser builds a closure tree once, at load; nothing is evaluated as code.

/** The values a condition reads; `BreakerMetrics` implements them. */
export interface MetricSource {
  networkErrorRatio(): number;
  responseCodeRatio(fromA: number, toA: number, fromB: number, toB: number): number;
  latencyAtQuantileMs(quantile: number): number;
}

/** A parsed condition: returns true when the breaker must trip. */
export type BreakerCondition = (metrics: MetricSource) => boolean;

/** A valid expression, shown in every parse error. */
export const EXPRESSION_EXAMPLE = 'NetworkErrorRatio() > 0.30 || ResponseCodeRatio(500, 600, 0, 600) > 0.25';

type Token =
  | { kind: 'name'; text: string; position: number }
  | { kind: 'number'; text: string; value: number; position: number }
  | { kind: 'symbol'; text: string; position: number }
  | { kind: 'end'; text: ''; position: number };

const SYMBOLS = ['&&', '||', '>=', '<=', '==', '!=', '>', '<', '(', ')', ','];

type Comparison = (left: number, right: number) => boolean;

const COMPARISONS = new Map<string, Comparison>([
  ['>', (left, right) => left > right],
  ['>=', (left, right) => left >= right],
  ['<', (left, right) => left < right],
  ['<=', (left, right) => left <= right],
  ['==', (left, right) => left === right],
  ['!=', (left, right) => left !== right],
]);

type Metric = (metrics: MetricSource) => number;

/** Builds each metric from its arguments; returns an error message for bad arguments. */
const METRICS = new Map<string, (args: number[]) => Metric | string>([
  ['NetworkErrorRatio', (args) => (args.length === 0 ? (metrics) => metrics.networkErrorRatio() : 'NetworkErrorRatio takes no arguments')],
  [
    'ResponseCodeRatio',
    (args) => {
      const [fromA, toA, fromB, toB] = args;
      if (args.length !== 4 || fromA === undefined || toA === undefined || fromB === undefined || toB === undefined) {
        return 'ResponseCodeRatio takes 4 status codes: from, to, dividedByFrom, dividedByTo';
      }
      if (!args.every((arg) => Number.isInteger(arg))) return 'ResponseCodeRatio takes whole status codes such as 500';
      return (metrics) => metrics.responseCodeRatio(fromA, toA, fromB, toB);
    },
  ],
  [
    'LatencyAtQuantileMS',
    (args) => {
      const [quantile] = args;
      if (args.length !== 1 || quantile === undefined) return 'LatencyAtQuantileMS takes 1 quantile, a percentage such as 50.0';
      if (quantile < 0 || quantile > 100) return 'LatencyAtQuantileMS takes a quantile from 0 to 100, such as 50.0';
      return (metrics) => metrics.latencyAtQuantileMs(quantile);
    },
  ],
]);

/** An invalid expression, with the 1-based character position where reading failed. */
export class ExpressionError extends Error {
  constructor(
    readonly expression: string,
    readonly position: number,
    readonly reason: string,
  ) {
    super(`circuitbreaker expression ${JSON.stringify(expression)} is invalid at character ${position}: ${reason}; write a condition such as ${EXPRESSION_EXAMPLE}`);
    this.name = 'ExpressionError';
  }
}

/** Parses `expression`; throws an ExpressionError naming the position and reason when it is invalid. */
export function parseBreakerExpression(expression: string): BreakerCondition {
  const parser = new Parser(expression);
  return parser.parse();
}

class Parser {
  readonly #tokens: Token[];
  #index = 0;

  constructor(readonly expression: string) {
    this.#tokens = this.#tokenize();
  }

  parse(): BreakerCondition {
    if (this.#peek().kind === 'end') this.#fail(this.#peek(), 'the expression is empty');
    const condition = this.#parseOr();
    const rest = this.#peek();
    if (rest.kind !== 'end') this.#fail(rest, `expected && or || before ${JSON.stringify(rest.text)}`);
    return condition;
  }

  #parseOr(): BreakerCondition {
    const terms = [this.#parseAnd()];
    while (this.#accept('||')) terms.push(this.#parseAnd());
    if (terms.length === 1 && terms[0] !== undefined) return terms[0];
    return (metrics) => terms.some((term) => term(metrics));
  }

  #parseAnd(): BreakerCondition {
    const terms = [this.#parseTerm()];
    while (this.#accept('&&')) terms.push(this.#parseTerm());
    if (terms.length === 1 && terms[0] !== undefined) return terms[0];
    return (metrics) => terms.every((term) => term(metrics));
  }

  #parseTerm(): BreakerCondition {
    if (this.#accept('(')) {
      const inner = this.#parseOr();
      this.#expect(')', 'expected ")" to close the group');
      return inner;
    }

    const metric = this.#parseMetric();
    const operatorToken = this.#next();
    const compare = operatorToken.kind === 'symbol' ? COMPARISONS.get(operatorToken.text) : undefined;
    if (compare === undefined) this.#fail(operatorToken, `expected a comparison (>, >=, <, <=, == or !=) after the metric, found ${describeToken(operatorToken)}`);

    const numberToken = this.#next();
    if (numberToken.kind !== 'number') this.#fail(numberToken, `expected a number after ${operatorToken.text}, found ${describeToken(numberToken)}`);
    const threshold = numberToken.value;
    return (metrics) => compare(metric(metrics), threshold);
  }

  #parseMetric(): Metric {
    const nameToken = this.#next();
    if (nameToken.kind !== 'name') this.#fail(nameToken, `expected a metric (${[...METRICS.keys()].join(', ')}), found ${describeToken(nameToken)}`);
    const build = METRICS.get(nameToken.text);
    if (build === undefined) this.#fail(nameToken, `unknown metric ${nameToken.text}; use ${[...METRICS.keys()].join(', ')}`);

    this.#expect('(', `expected "(" after ${nameToken.text}`);
    const args: number[] = [];
    if (!this.#accept(')')) {
      do {
        const argument = this.#next();
        if (argument.kind !== 'number') this.#fail(argument, `expected a number as argument of ${nameToken.text}, found ${describeToken(argument)}`);
        args.push(argument.value);
      } while (this.#accept(','));
      this.#expect(')', `expected "," or ")" in the arguments of ${nameToken.text}`);
    }

    const metric = build(args);
    if (typeof metric === 'string') this.#fail(nameToken, metric);
    return metric;
  }

  #peek(): Token {
    return this.#tokens[this.#index] ?? this.#endToken();
  }

  #next(): Token {
    const token = this.#peek();
    if (this.#index < this.#tokens.length) this.#index++;
    return token;
  }

  #accept(symbol: string): boolean {
    const token = this.#peek();
    if (token.kind !== 'symbol' || token.text !== symbol) return false;
    this.#index++;
    return true;
  }

  #expect(symbol: string, reason: string): void {
    if (!this.#accept(symbol)) this.#fail(this.#peek(), `${reason}, found ${describeToken(this.#peek())}`);
  }

  #fail(token: Token, reason: string): never {
    throw new ExpressionError(this.expression, token.position, reason);
  }

  #endToken(): Token {
    return { kind: 'end', text: '', position: this.expression.length + 1 };
  }

  #tokenize(): Token[] {
    const tokens: Token[] = [];
    const text = this.expression;
    let offset = 0;
    while (offset < text.length) {
      const rest = text.slice(offset);
      const space = /^\s+/.exec(rest);
      if (space) {
        offset += space[0].length;
        continue;
      }

      const position = offset + 1;
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
      const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest);
      const symbol = SYMBOLS.find((candidate) => rest.startsWith(candidate));
      if (name) {
        tokens.push({ kind: 'name', text: name[0], position });
        offset += name[0].length;
      } else if (number) {
        tokens.push({ kind: 'number', text: number[0], value: Number(number[0]), position });
        offset += number[0].length;
      } else if (symbol !== undefined) {
        tokens.push({ kind: 'symbol', text: symbol, position });
        offset += symbol.length;
      } else {
        throw new ExpressionError(text, position, `unexpected character ${JSON.stringify(text[offset])}`);
      }
    }
    tokens.push({ kind: 'end', text: '', position: text.length + 1 });
    return tokens;
  }
}

function describeToken(token: Token): string {
  return token.kind === 'end' ? 'the end of the expression' : JSON.stringify(token.text);
}
