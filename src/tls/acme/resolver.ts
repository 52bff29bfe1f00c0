// One certificate resolver at work: it keeps the certificates of its storage section, orders the
// ones the routers need and no held certificate covers, renews them on time, and hands them to the
// certificate store. Orders and renewals run one at a time per resolver, so the CA receives a steady
// trickle of requests and a failing one retries with backoff instead of a tight loop.

import type * as acme from 'acme-client';

import type { AcmeResolverConfig } from '../../config/index.js';
import type { Logger } from '../../observability/logger.js';
import type { CertificateStore } from '../types.js';
import { type DnsProvider, createDnsProvider } from '../dns/provider.js';
import { openAccount } from './account.js';
import { retryAfterOf, withRateLimitNotes } from './acme-http.js';
import { fetchRenewalInfo, renewalInfoUrl } from './ari.js';
import { sansCover } from './certificate-info.js';
import type { ChallengeSolver } from './challenges.js';
import { Dns01Solver, type RecordJournal, removeLeftoverRecords } from './dns01.js';
import { resolverChallenge, type ChallengeType, type WantedCertificate } from './domains.js';
import { type AttemptState, type HeldCertificate, heldStatus, holdCertificate, readStoredCertificates, toStored, type HeldCertificateStatus } from './held.js';
import { Http01Solver } from './http01.js';
import { TlsAlpn01Solver } from './tlsalpn01.js';
import { type OrderRequest, obtainCertificate, orderNames } from './order.js';
import { ariRenewalTime, retryDelay } from './renewal.js';
import type { StorageFile, StoredCertificate, StoredDnsRecord } from './storage.js';

export interface ResolverTiming {
  checkIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  propagationPollMs?: number;
  propagationTimeoutMs?: number;
}

export interface ResolverOptions {
  config: AcmeResolverConfig;
  storage: StorageFile;
  store: CertificateStore;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  timing: ResolverTiming;
}

export interface PendingOrderStatus {
  main: string;
  sans: string[];
  routers: string[];
  status: 'pending' | 'ordering' | 'failed';
  failures: number;
  lastError?: string;
  nextAttemptAt?: string;
}

export interface ResolverStatus {
  name: string;
  caServer: string;
  storage: string;
  /** Problems that stop the resolver from ordering: storage, DNS credentials, router settings. */
  errors: string[];
  certificates: HeldCertificateStatus[];
  orders: PendingOrderStatus[];
}

interface PendingOrder {
  wanted: WantedCertificate;
  attempt: AttemptState;
}

/** Maximum delay Node's timers accept, in milliseconds. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class AcmeResolver {
  readonly name: string;
  /** The challenge type the resolver validates names with, or `undefined` when none is configured. */
  readonly challenge: ChallengeType | undefined;
  readonly #options: ResolverOptions;
  readonly #logger: Logger;
  readonly #held = new Map<string, HeldCertificate>();
  readonly #pending = new Map<string, PendingOrder>();
  #unreadable: StoredCertificate[] = [];
  #errors = new Map<'storage' | 'dns' | 'store' | 'routers', string>();
  #wanted: WantedCertificate[] = [];
  #client: acme.Client | undefined;
  #provider: DnsProvider | undefined;
  #working = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: ResolverOptions) {
    this.name = options.config.name;
    this.challenge = resolverChallenge(options.config);
    this.#options = options;
    this.#logger = options.logger.child({ resolverName: this.name });
  }

  /**
   * Loads the stored certificates and serves them. The DNS provider's credentials are checked in
   * the background, so a slow DNS API never delays serving what is stored. Never rejects.
   */
  async start(): Promise<void> {
    const { storage } = this.#options;
    if (storage.problem !== undefined) this.#setError('storage', storage.problem.message);

    const section = storage.section(this.name);
    const { held, unreadable } = readStoredCertificates(section.Certificates ?? [], this.#durationMs());
    for (const certificate of held) this.#held.set(certificate.key, certificate);
    this.#unreadable = unreadable.map((item) => item.entry);
    for (const item of unreadable) this.#logger.warn({ problem: item.reason }, 'stored certificate skipped');
    this.#publish();
    if (held.length > 0) this.#logger.info({ counts: { certificates: held.length } }, 'stored certificates loaded');

    this.#working = true;
    void this.#prepareDns(section.BerthDnsRecords ?? []).finally(() => {
      this.#working = false;
      this.#schedule(0);
    });
  }

  /** Checks the DNS credentials and deletes the TXT records an earlier run left behind. */
  async #prepareDns(leftovers: StoredDnsRecord[]): Promise<void> {
    if (this.#options.config.dnsChallenge === undefined) return;
    try {
      await this.#prepareProvider();
      if (this.#provider !== undefined && leftovers.length > 0 && this.#options.storage.problem === undefined) {
        await removeLeftoverRecords(this.#provider, leftovers, this.#journal(), this.#logger);
      }
    } catch (error) {
      this.#setError('dns', (error as Error).message);
    }
  }

  /** Sets the certificates the routers need, and orders the ones no held certificate covers. */
  setWanted(wanted: WantedCertificate[], problems: string[]): void {
    this.#wanted = wanted;
    // Each problem is also a warning on its router, which the configuration store logs once per
    // router, so the resolver keeps them for its status without logging them again.
    if (problems.length > 0) this.#errors.set('routers', problems.join('; '));
    else this.#errors.delete('routers');

    const missing = wanted.filter((item) => !this.#isCovered(orderNames(item.request)));
    const keys = new Set(missing.map((item) => item.key));
    for (const key of this.#pending.keys()) if (!keys.has(key) && this.#pending.get(key)?.attempt.running !== true) this.#pending.delete(key);
    for (const item of missing) {
      const existing = this.#pending.get(item.key);
      if (existing !== undefined) existing.wanted = item;
      else this.#pending.set(item.key, { wanted: item, attempt: { failures: 0, running: false } });
    }
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  status(now = Date.now()): ResolverStatus {
    const orders = [...this.#pending.values()].map(({ wanted, attempt }) => {
      let status: PendingOrderStatus['status'] = 'pending';
      if (attempt.running) status = 'ordering';
      else if (attempt.failures > 0) status = 'failed';

      const view: PendingOrderStatus = { main: wanted.request.main, sans: wanted.request.sans, routers: wanted.routers, status, failures: attempt.failures };
      if (attempt.lastError !== undefined) view.lastError = attempt.lastError;
      if (attempt.nextAttemptAt !== undefined && attempt.failures > 0) view.nextAttemptAt = new Date(attempt.nextAttemptAt).toISOString();
      return view;
    });
    return {
      name: this.name,
      caServer: this.#options.config.caServer,
      storage: this.#options.config.storage,
      errors: [...this.#errors.values()],
      certificates: [...this.#held.values()].map((certificate) => heldStatus(certificate, now)),
      orders,
    };
  }

  /**
   * True when a held certificate covers every name, or when the store already serves each name
   * (a certificate from the file provider, say), in which case Traefik orders nothing either.
   */
  #isCovered(names: string[]): boolean {
    for (const certificate of this.#held.values()) if (sansCover(certificate.facts.sans, names)) return true;
    return names.every((name) => !name.startsWith('*.') && this.#options.store.covers(name));
  }

  /** Held certificates that some router still needs; only those are renewed. */
  #needed(): HeldCertificate[] {
    return [...this.#held.values()].filter((certificate) => this.#wanted.some((item) => sansCover(certificate.facts.sans, orderNames(item.request))));
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#work(), Math.min(Math.max(0, delayMs), MAX_TIMER_MS));
    this.#timer.unref();
  }

  /** Runs every due job one after another, then sleeps until the next one is due. */
  async #work(): Promise<void> {
    if (this.#working || this.#stopped) return;
    this.#working = true;
    try {
      // Renewal information is refreshed before every job, so a certificate obtained by the previous job gets its window at once.
      while (!this.#stopped) {
        await this.#refreshRenewalInfo();
        const job = this.#nextJob();
        if (job === undefined) break;
        await job();
      }
    } finally {
      this.#working = false;
    }
    this.#schedule(this.#nextWakeUp() - Date.now());
  }

  #nextJob(): (() => Promise<void>) | undefined {
    const now = Date.now();
    const due = (attempt: AttemptState): boolean => !attempt.running && (attempt.nextAttemptAt ?? 0) <= now;
    for (const pending of this.#pending.values()) {
      if (due(pending.attempt)) return () => this.#orderNew(pending);
    }
    for (const certificate of this.#needed()) {
      if (certificate.renewAt.getTime() <= now && due(certificate.attempt)) return () => this.#renew(certificate);
    }
    return undefined;
  }

  #nextWakeUp(): number {
    let next = Date.now() + this.#options.timing.checkIntervalMs;
    for (const pending of this.#pending.values()) next = Math.min(next, pending.attempt.nextAttemptAt ?? 0);
    for (const certificate of this.#needed()) {
      next = Math.min(next, Math.max(certificate.renewAt.getTime(), certificate.attempt.nextAttemptAt ?? 0));
      if (certificate.ari !== undefined) next = Math.min(next, certificate.ari.nextPollAt.getTime());
    }
    return next;
  }

  async #orderNew(pending: PendingOrder): Promise<void> {
    const issued = await this.#attempt(pending.attempt, pending.wanted.request, undefined);
    if (issued) this.#pending.delete(pending.wanted.key);
  }

  async #renew(certificate: HeldCertificate): Promise<void> {
    await this.#attempt(certificate.attempt, certificate.domain, certificate);
  }

  /** Orders `request`; on failure records the error and the time of the next attempt, keeping any current certificate. */
  async #attempt(attempt: AttemptState, request: OrderRequest, renewing: HeldCertificate | undefined): Promise<boolean> {
    const names = orderNames(request);
    attempt.running = true;
    try {
      const storageProblem = this.#errors.get('storage');
      if (storageProblem !== undefined) throw new Error(`not ordering, because ${storageProblem}`);
      if (this.#options.config.dnsChallenge !== undefined && this.#errors.has('dns')) {
        try {
          await this.#prepareProvider();
        } catch (error) {
          this.#setError('dns', (error as Error).message);
          throw error;
        }
      }

      const solver = this.#solverFor(names);
      const client = await this.#account();
      // Only a CA that offers ARI accepts the `replaces` field of a new order.
      const replaces = renewing?.ari === undefined ? undefined : renewing.facts.ariCertId;
      const issued = await withRateLimitNotes(() =>
        obtainCertificate(client, request, solver, {
          keyType: this.#options.config.keyType,
          ...(this.#options.config.preferredChain === undefined ? {} : { preferredChain: this.#options.config.preferredChain }),
          ...(replaces === undefined ? {} : { replaces }),
          logger: this.#logger,
        }),
      );

      const certificate = holdCertificate(request, issued.certPem, issued.keyPem, this.#durationMs());
      if (renewing !== undefined) this.#held.delete(renewing.key);
      this.#held.set(certificate.key, certificate);
      // Stored before it is served, so a reader of the file never lags the store; a failed write still serves it.
      await this.#persist();
      this.#publish();
      this.#logger.info({ names, notAfter: certificate.facts.notAfter.toISOString() }, renewing === undefined ? 'certificate obtained' : 'certificate renewed');
      return true;
    } catch (error) {
      attempt.failures += 1;
      attempt.lastError = (error as Error).message;
      const delayMs = retryDelay(attempt.failures, retryAfterOf(error), this.#options.timing.retryBaseMs, this.#options.timing.retryMaxMs);
      attempt.nextAttemptAt = Date.now() + delayMs;
      const message = renewing === undefined ? 'certificate order failed' : 'certificate renewal failed; the current certificate stays in use';
      this.#logger.warn({ err: error, names, attempt: attempt.failures, delayMs }, message);
      return false;
    } finally {
      attempt.running = false;
    }
  }

  #durationMs(): number {
    return this.#options.config.certificatesDurationHours * 3_600_000;
  }

  /** Creates the DNS provider and checks its credentials; a success clears an earlier DNS error. */
  async #prepareProvider(): Promise<void> {
    const challenge = this.#options.config.dnsChallenge;
    if (challenge === undefined) return;
    const provider = this.#provider ?? (await createDnsProvider(challenge.provider, { env: this.#options.env }));
    await provider.check();
    this.#provider = provider;
    this.#errors.delete('dns');
  }

  async #account(): Promise<acme.Client> {
    this.#client ??= await openAccount(this.#options.config, this.#options.storage, this.#logger);
    return this.#client;
  }

  #solverFor(names: string[]): ChallengeSolver {
    const { config, timing } = this.#options;
    if (config.dnsChallenge !== undefined && this.#provider !== undefined) {
      return new Dns01Solver({
        provider: this.#provider,
        propagation: {
          resolvers: config.dnsChallenge.resolvers,
          delayBeforeChecksMs: config.dnsChallenge.delayBeforeChecksMs,
          disableChecks: config.dnsChallenge.disableChecks,
          ...(timing.propagationPollMs === undefined ? {} : { pollIntervalMs: timing.propagationPollMs }),
          ...(timing.propagationTimeoutMs === undefined ? {} : { timeoutMs: timing.propagationTimeoutMs }),
        },
        journal: this.#journal(),
        logger: this.#logger,
      });
    }
    const wildcard = names.find((name) => name.startsWith('*.'));
    if (wildcard !== undefined) throw new Error(`${wildcard} needs the DNS-01 challenge (RFC 8555 section 7.1.3), so set dnschallenge on resolver ${this.name}`);
    if (config.httpChallenge !== undefined) return new Http01Solver();
    if (config.tlsChallenge) return new TlsAlpn01Solver();
    throw new Error(`resolver ${this.name} has no challenge configured; set httpchallenge, tlschallenge or dnschallenge`);
  }

  /** Asks the CA for renewal windows where it offers ARI; a failure keeps the lifetime-based time. */
  async #refreshRenewalInfo(): Promise<void> {
    const now = Date.now();
    const candidates = this.#needed().filter(
      (item) => item.facts.ariCertId !== undefined && (item.ari?.nextPollAt.getTime() ?? 0) <= now && (item.ariRetryAt ?? 0) <= now,
    );
    if (candidates.length === 0) return;

    let base: string | undefined;
    try {
      base = await renewalInfoUrl(this.#options.config.caServer);
    } catch (error) {
      this.#logger.debug({ err: error }, 'reading the ACME directory for renewalInfo failed');
      return;
    }
    if (base === undefined) return;

    for (const certificate of candidates) {
      try {
        const info = await fetchRenewalInfo(base, certificate.facts.ariCertId ?? '', now);
        const unchanged = certificate.ari?.start.getTime() === info.start.getTime() && certificate.ari?.end.getTime() === info.end.getTime();
        if (!unchanged || certificate.renewalSource !== 'ari') certificate.renewAt = ariRenewalTime(info, now);
        certificate.ari = info;
        certificate.renewalSource = 'ari';
      } catch (error) {
        certificate.ariRetryAt = now + 3_600_000;
        this.#logger.debug({ err: error, names: certificate.facts.sans }, 'fetching ACME renewal information failed');
      }
    }
  }

  #publish(): void {
    const entries = [...this.#held.values()].map((item) => ({ certPem: item.certPem, keyPem: item.keyPem, source: `acme:${this.name}` }));
    const problems = this.#options.store.replace(`acme:${this.name}`, entries);
    if (problems.length > 0) {
      this.#setError('store', problems.join('; '));
      this.#logger.warn({ problem: problems.join('; ') }, 'the certificate store rejected certificates');
    } else {
      this.#errors.delete('store');
    }
  }

  /** Writes the held certificates; a failure is recorded as a storage error, which stops further orders. */
  async #persist(): Promise<void> {
    const certificates = [...[...this.#held.values()].map(toStored), ...this.#unreadable];
    try {
      await this.#options.storage.update(this.name, (section) => {
        section.Certificates = certificates;
      });
    } catch (error) {
      this.#setError('storage', `a certificate is served but could not be stored: ${(error as Error).message}`);
    }
  }

  #journal(): RecordJournal {
    const storage = this.#options.storage;
    const same = (a: { recordId: string; zoneId: string }, b: { recordId: string; zoneId: string }): boolean => a.recordId === b.recordId && a.zoneId === b.zoneId;
    return {
      add: (record) =>
        storage.update(this.name, (section) => {
          section.BerthDnsRecords = [...(section.BerthDnsRecords ?? []), record];
        }),
      remove: (record) =>
        storage.update(this.name, (section) => {
          section.BerthDnsRecords = (section.BerthDnsRecords ?? []).filter((item) => !same(item, record));
        }),
    };
  }

  #setError(kind: 'storage' | 'dns' | 'store' | 'routers', message: string): void {
    if (this.#errors.get(kind) !== message) {
      this.#logger.error({ problem: message }, `certificate resolver ${this.name}: ${kind} problem`);
    }
    this.#errors.set(kind, message);
  }
}
