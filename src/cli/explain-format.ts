// Prints an explain report for a terminal: the outcome first, then the routers in the order they
// were tried with each matcher's result, the winner's middlewares and servers, and near misses.
import { redactServerUrl } from '../observability/redact.js';
import type { ExplainedCandidate, ExplainReport, MatcherResult, NearMiss } from '../routing/explain.js';

/** Formats `report` as text; `notes` (such as what a compose file reader assumed) come last. */
export function formatExplainReport(report: ExplainReport, notes: readonly string[] = []): string {
  const lines: string[] = [];
  const { request } = report;
  const query = request.rawQuery === '' ? '' : `?${request.rawQuery}`;
  lines.push(`${request.method} ${request.scheme}://${request.host}${request.path}${query} on entry point ${request.entryPoint}, from ${request.clientIp}`);
  lines.push(outcomeLine(report), '');

  const tried = report.candidates.filter((candidate) => candidate.tried);
  const untried = report.candidates.filter((candidate) => !candidate.tried);
  if (tried.length === 0) {
    lines.push(`No router of entry point ${request.entryPoint} can match host ${request.host}.`);
  } else {
    lines.push('Routers tried, in order:');
    tried.forEach((candidate, index) => lines.push(...candidateLines(candidate, index + 1)));
  }

  const shadowed = untried.filter((candidate) => candidate.matched);
  if (report.winner !== undefined && shadowed.length > 0) {
    lines.push('', `Also matching, but ${report.winner.router} comes first:`);
    for (const candidate of shadowed) lines.push(`  ${candidate.router}  priority ${candidate.priority}  ${precedence(report.winner.priority, report.winner.router, candidate)}`);
  }
  const skipped = untried.length - shadowed.length;
  if (skipped > 0) lines.push(`(${skipped} lower router${skipped === 1 ? '' : 's'} not reached and not matching)`);

  if (report.winner !== undefined) lines.push('', ...winnerLines(report));
  if (report.nearMisses.length > 0) {
    lines.push('', 'Near misses:');
    for (const miss of report.nearMisses) lines.push(...nearMissLines(miss));
  }
  if (notes.length > 0) {
    lines.push('', 'Notes:');
    for (const note of notes) lines.push(`  - ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

function outcomeLine(report: ExplainReport): string {
  const winner = report.winner;
  if (winner === undefined) return '=> no router matches: Berth responds 404';
  if (winner.service.next === undefined) return `=> router ${winner.router}, but service ${winner.service.name} has no server: Berth responds 503`;
  return `=> router ${winner.router}, service ${winner.service.name}, server ${redactServerUrl(winner.service.next)}`;
}

function candidateLines(candidate: ExplainedCandidate, position: number): string[] {
  const verdict = candidate.matched ? 'MATCHES' : 'no match';
  const index = candidate.index === 'any host' ? ', any host' : '';
  const lines = [`  ${position}. ${candidate.router}  priority ${candidate.priority}${index}  ${verdict}`];
  if (candidate.matchers.length === 0) lines.push(`       rule: ${candidate.rule}`);
  for (const result of candidate.matchers) lines.push(`       ${matcherLine(result)}`);
  for (const warning of candidate.warnings ?? []) lines.push(`       warning: ${warning}`);
  return lines;
}

/**
 * Formats one matcher as `yes` or `no` and its text. A negated matcher is printed with its `!`, so
 * the mark is the result of that `!` expression, which is the opposite of `result.matched`.
 */
function matcherLine(result: MatcherResult): string {
  const expressionMatched = result.matched !== result.negated;
  const mark = expressionMatched ? 'yes' : 'no ';
  return `${mark}  ${result.negated ? `!${result.text}` : result.text}`;
}

/** Says why the winner comes before another matching router: priority, or the name on a tie. */
function precedence(winnerPriority: number, winnerName: string, candidate: ExplainedCandidate): string {
  if (candidate.priority < winnerPriority) return `(lower priority than ${winnerPriority})`;
  return `(same priority; ${winnerName} sorts first by name)`;
}

function winnerLines(report: ExplainReport): string[] {
  const winner = report.winner;
  if (winner === undefined) return [];
  const lines: string[] = [];
  const chain = winner.middlewares.map((middleware) => `${middleware.name} (${middleware.type})`).join(' -> ');
  lines.push(`Middlewares: ${chain === '' ? 'none' : chain}`);

  const servers = winner.service.servers;
  lines.push(`Service ${winner.service.name}: ${servers.length === 0 ? 'no server' : `${servers.length} server${servers.length === 1 ? '' : 's'}`}`);
  for (const server of servers) {
    const next = server.next ? '  <- next' : '';
    // An older Berth's API sends server URLs with their password, so they are redacted here too.
    lines.push(`  ${redactServerUrl(server.url)}  weight ${server.weight}${next}`);
  }
  return lines;
}

function nearMissLines(miss: NearMiss): string[] {
  switch (miss.kind) {
    case 'host-matched': {
      const failed = miss.failed.map((result) => (result.negated ? `!${result.text}` : result.text)).join(', ');
      return [`  ${miss.router}: the host matches, but ${failed || 'the rule'} does not`, `      rule: ${miss.rule}`];
    }
    case 'other-entry-point':
      return [`  ${miss.router}: would take this request over ${miss.scheme} on entry point ${miss.entryPoint}`, `      rule: ${miss.rule}`];
    case 'disabled': {
      const relevance = miss.reason === 'rule-matches' ? 'its rule matches this request' : 'its rule names this host';
      const lines = [`  ${miss.router}: disabled, and ${relevance}`, `      rule: ${miss.rule}`];
      for (const error of miss.errors) lines.push(...indent(`error: ${error}`, '      '));
      return lines;
    }
  }
}

/** Indents every line of a multi-line message, such as a rule error with its caret line. */
function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => `${prefix}${line}`);
}
