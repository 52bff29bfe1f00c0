// Turns a service's `healthCheck` and `passiveHealthCheck` settings into the options the checks
// run with: Traefik's defaults filled in, durations in milliseconds, values that cannot work
// reported as errors (the service is disabled) and ignored ones as warnings.
import type { HealthCheckConfig, LoadBalancerConfig } from '../dynamic/model.js';
import type { PassivePolicy } from './server-health.js';
import { checkHeaderName, checkHeaderValue } from '../middlewares/header-fields.js';
import { timerMs } from '../config/timer-limit.js';

/** Options of one service's active health check, with defaults applied. */
export interface ActiveCheckOptions {
  /** Path with an optional query, resolved against the server URL. */
  path: string;
  method: string;
  /** Replaces the server's scheme; the server's own when unset. */
  scheme?: 'http' | 'https';
  /** Replaces the server's port; the server's own when unset. */
  port?: number;
  /** Sent as the Host header; the server's host when unset. */
  hostname?: string;
  headers: Record<string, string>;
  /** Status that passes; any status from 200 to 399 when unset. */
  status?: number;
  intervalMs: number;
  unhealthyIntervalMs: number;
  timeoutMs: number;
  followRedirects: boolean;
}

export interface HealthSettings {
  active?: ActiveCheckOptions;
  passive?: PassivePolicy;
  errors: string[];
  warnings: string[];
}

// Traefik v3's defaults for `loadBalancer.healthCheck` and `loadBalancer.passiveHealthCheck`.
const DEFAULT_INTERVAL_MS = 30_000;
const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_FAILURE_WINDOW_MS = 10_000;
const DEFAULT_MAX_FAILED_ATTEMPTS = 1;

// A method is an HTTP token (RFC 9110 §5.6.2).
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+|(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/;

/**
 * Parses a Go duration (`1m30s`, `250ms`) or a bare number of seconds, as Traefik reads them, into
 * milliseconds. Returns undefined for any other text.
 */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;

  let total = 0;
  for (const match of trimmed.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 0);
  }
  return total;
}

/** Reads the health settings of one service's load balancer. */
export function healthSettings(loadBalancer: LoadBalancerConfig): HealthSettings {
  const settings: HealthSettings = { errors: [], warnings: [] };
  if (loadBalancer.healthCheck !== undefined) readActive(loadBalancer.healthCheck, settings);

  const passive = loadBalancer.passiveHealthCheck;
  if (passive !== undefined) {
    const failureWindowMs = positiveDuration('passiveHealthCheck.failureWindow', passive.failureWindow, DEFAULT_FAILURE_WINDOW_MS, settings);
    const maxFailedAttempts = passive.maxFailedAttempts ?? DEFAULT_MAX_FAILED_ATTEMPTS;
    if (!Number.isSafeInteger(maxFailedAttempts) || maxFailedAttempts < 1) {
      settings.errors.push(`passiveHealthCheck.maxFailedAttempts ${String(maxFailedAttempts)} is invalid: use a whole number of at least 1`);
    } else {
      settings.passive = { failureWindowMs, maxFailedAttempts };
    }
  }
  return settings;
}

function readActive(config: HealthCheckConfig, settings: HealthSettings): void {
  if (config.mode === 'grpc') {
    settings.warnings.push('healthCheck.mode grpc is not supported yet, so no health check runs; use mode http');
    return;
  }
  const path = config.path ?? '';
  if (path === '') {
    settings.warnings.push('no health check runs because healthCheck.path is missing; set it, for example to /health');
    return;
  }
  if (!path.startsWith('/')) {
    settings.errors.push(`healthCheck.path "${path}" is invalid: it must start with /`);
    return;
  }

  const method = (config.method ?? 'GET').toUpperCase();
  if (!METHOD.test(method)) {
    settings.errors.push(`healthCheck.method "${config.method ?? ''}" is not a valid HTTP method`);
    return;
  }
  if (config.status !== undefined && (config.status < 100 || config.status > 599)) {
    settings.errors.push(`healthCheck.status ${config.status} is invalid: use a status from 100 to 599`);
    return;
  }

  for (const [name, value] of Object.entries(config.headers ?? {})) {
    try {
      checkHeaderName('healthCheck.headers', name);
      checkHeaderValue('healthCheck.headers', name, value);
    } catch (error) {
      settings.errors.push((error as Error).message);
      return;
    }
  }

  const intervalMs = positiveDuration('healthCheck.interval', config.interval, DEFAULT_INTERVAL_MS, settings);
  const unhealthyIntervalMs = positiveDuration('healthCheck.unhealthyInterval', config.unhealthyInterval, intervalMs, settings);
  const timeoutMs = positiveDuration('healthCheck.timeout', config.timeout, DEFAULT_TIMEOUT_MS, settings);

  let scheme: 'http' | 'https' | undefined;
  if (config.scheme === 'h2c') {
    // NOTE: an h2c-only server rejects these HTTP/1.1 checks and so shows as down.
    settings.warnings.push('healthCheck.scheme h2c is not supported yet; checks are sent as plain HTTP/1.1');
    scheme = 'http';
  } else if (config.scheme !== undefined) {
    scheme = config.scheme;
  }

  const active: ActiveCheckOptions = {
    path,
    method,
    headers: { ...config.headers },
    intervalMs,
    unhealthyIntervalMs,
    timeoutMs,
    followRedirects: config.followRedirects ?? true,
  };
  if (scheme !== undefined) active.scheme = scheme;
  if (config.port !== undefined) active.port = config.port;
  if (config.hostname !== undefined && config.hostname !== '') active.hostname = config.hostname;
  if (config.status !== undefined) active.status = config.status;
  settings.active = active;
}

/**
 * Parses an optional duration that must be greater than zero. As in Traefik, a zero or negative
 * one falls back to the default, here with a warning.
 */
function positiveDuration(name: string, text: string | undefined, fallbackMs: number, settings: HealthSettings): number {
  if (text === undefined) return fallbackMs;
  const value = parseDurationMs(text);
  if (value === undefined || value <= 0) {
    settings.warnings.push(`${name} "${text}" is invalid, so the default ${fallbackMs} ms is used: write a duration greater than zero, such as 10s or 500ms`);
    return fallbackMs;
  }
  return timerMs(value);
}
