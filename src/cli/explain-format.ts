// Prints an explain report for a terminal: the outcome first, then the routers in the order they
// were tried with each matcher's result, the winner's middlewares and servers, and near misses.
import { redactServerUrl } from '../observability/redact.js';
import { STATUS_CODES } from 'node:http';

import type { ExplainedCandidate, ExplainedMiddleware, ExplainReport, MatcherResult, NearMiss } from '../routing/explain.js';

/** Formats `report` as text; `notes` (such as what a compose file reader assumed) come last. */
export function formatExplainReport(report: ExplainReport, notes: readonly string[] = []): string {
  const lines: string[] = [];
  const { request } = report;
  const query = request.rawQuery === '' ? '' : `?${request.rawQuery}`;
  lines.push(`${request.method} ${request.scheme}://${request.host}${request.path}${query} on entry point ${request.entryPoint}, from ${request.clientIp}`);
  if (request.receivedPath !== undefined) lines.push(`(path as written: ${request.receivedPath}; routers match the normalized path ${request.path})`);
  if (request.removedHeaders !== undefined) {
    lines.push(`(the entry point removes ${request.removedHeaders.join(', ')}, because ${request.clientIp} is not in its forwardedHeaders.trustedIPs; set --client-ip to a trusted proxy's address to keep them)`);
  }
  lines.push(outcomeLine(report), '');
  // A rejected, redirected or ping request reaches no router, so there is nothing more to show.
  if (report.outcome === 'rejected' || report.outcome === 'entry-point-redirect' || report.outcome === 'ping') return `${lines.join('\n')}\n`;

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
  const response = report.response;
  if (report.outcome === 'rejected' && response !== undefined) {
    return `=> Berth rejects the request before routing it: ${statusText(response.status)} (${response.reason})`;
  }
  if (report.outcome === 'entry-point-redirect' && response !== undefined) {
    return `=> Berth redirects the request before routing it: ${statusText(response.status)} with Location ${response.location ?? ''} (${response.reason})`;
  }
  if (report.outcome === 'ping' && response !== undefined) {
    return `=> Berth's ping endpoint responds ${statusText(response.status)} before routing the request (${response.reason})`;
  }
  if (winner === undefined) return '=> no router matches: Berth responds 404';
  if (report.outcome === 'middleware-response' && response !== undefined) {
    const location = response.location === undefined ? `: ${response.reason}` : ` with Location ${response.location}`;
    return `=> router ${winner.router}, but middleware ${response.middleware ?? ''} responds ${statusText(response.status)}${location}`;
  }
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
  if (winner.middlewares.length === 0) lines.push('Middlewares: none');
  else lines.push('Middlewares, in order:', ...winner.middlewares.map(middlewareLine));

  const servers = winner.service.servers;
  lines.push(`Service ${winner.service.name}: ${servers.length === 0 ? 'no server' : `${servers.length} server${servers.length === 1 ? '' : 's'}`}`);
  for (const server of servers) {
    const next = server.next ? '  <- next' : '';
    // An older Berth's API sends server URLs with their password, so they are redacted here too.
    lines.push(`  ${redactServerUrl(server.url)}  weight ${server.weight}${next}`);
  }
  return lines;
}

/** Formats one middleware with what it would do; an older Berth's API sends no `effect`, which reads as passing. */
function middlewareLine(middleware: ExplainedMiddleware): string {
  const chain = middleware.chain === undefined ? '' : ` in chain ${middleware.chain}`;
  const head = `  ${middleware.name} (${middleware.type})${chain}`;
  switch (middleware.effect) {
    case 'responds': {
      const status = statusText(middleware.status ?? 0);
      return middleware.location === undefined ? `${head}: responds ${status}: ${middleware.reason ?? ''}` : `${head}: responds ${status}, Location ${middleware.location}`;
    }
    case 'may-respond': {
      const statuses = (middleware.statuses ?? []).join(' or ');
      return `${head}: may respond${statuses === '' ? '' : ` ${statuses}`}: ${middleware.reason ?? ''}`;
    }
    case 'not-reached':
      return `${head}: not reached`;
    default:
      return `${head}: passes`;
  }
}

/** Returns `301 Moved Permanently` for 301. */
function statusText(status: number): string {
  const text = STATUS_CODES[status];
  return text === undefined ? String(status) : `${status} ${text}`;
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
    case 'skipped-container': {
      const relevance = miss.reason === 'rule-matches' ? 'its rule matches this request' : 'its rule names this host';
      return [`  ${miss.router}: ${relevance}, but container ${miss.container} is skipped: ${miss.skipReason}`, `      rule: ${miss.rule}`];
    }
  }
}

/** Indents every line of a multi-line message, such as a rule error with its caret line. */
function indent(text: string, prefix: string): string[] {
  return text.split('\n').map((line) => `${prefix}${line}`);
}
