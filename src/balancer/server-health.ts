// The state of one server of one service that must outlive a runtime: the result of its active
// health check, its recent failed requests (passive health check) and its requests in flight.
// The runtime is rebuilt on every change, so this state lives in the health registry and each new
// runtime gets the same object for the same service and server URL.

/** A change of a server's availability, for the log and the API. */
export interface HealthChange {
  service: string;
  url: string;
  available: boolean;
  /** Why the server left or returned, such as `health check failed: status 500`. */
  reason: string;
}

/** Passive health check settings of a service, in milliseconds. */
export interface PassivePolicy {
  /** Window in which `maxFailedAttempts` failures take the server out, and how long it stays out. */
  failureWindowMs: number;
  maxFailedAttempts: number;
}

export interface ServerHealthOptions {
  /** Called when the server leaves or returns to rotation. */
  onChange?: (change: HealthChange) => void;
  /** Monotonic clock in milliseconds; `performance.now` by default. */
  now?: () => number;
}

export class ServerHealth {
  readonly service: string;
  readonly url: string;

  readonly #onChange: (change: HealthChange) => void;
  readonly #now: () => number;
  #activeUp = true;
  #passive: PassivePolicy | undefined;
  /** Times of the failures inside the current window, oldest first. */
  #failures: number[] = [];
  #passiveDownUntil = 0;
  #recoveryTimer: NodeJS.Timeout | undefined;
  #inFlight = 0;

  constructor(service: string, url: string, options: ServerHealthOptions = {}) {
    this.service = service;
    this.url = url;
    this.#onChange = options.onChange ?? (() => undefined);
    this.#now = options.now ?? (() => performance.now());
  }

  /** Requests forwarded to this server that have not finished yet. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Returns whether the server may receive requests: its active check passes and it is not passively down. */
  isAvailable(): boolean {
    return this.#activeUp && !this.#passivelyDown();
  }

  /** `UP` or `DOWN`, as Traefik's API reports `serverStatus`. */
  get status(): 'UP' | 'DOWN' {
    return this.isAvailable() ? 'UP' : 'DOWN';
  }

  /** Counts one request in flight. The returned function ends it; calling it again does nothing. */
  begin(): () => void {
    this.#inFlight++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#inFlight--;
    };
  }

  /**
   * Sets or removes the passive health check. A server that is passively down stays down for its
   * window when the policy changes, and returns at once when the policy is removed.
   */
  setPassivePolicy(policy: PassivePolicy | undefined): void {
    this.#passive = policy;
    if (policy !== undefined) return;

    this.#failures = [];
    if (!this.#passivelyDown()) return;
    const before = this.isAvailable();
    this.#passiveDownUntil = 0;
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
    this.#announce(before, 'the passive health check was removed');
  }

  /** Records the result of an active health check. */
  recordCheck(passed: boolean, reason: string): void {
    if (passed === this.#activeUp) return;
    const before = this.isAvailable();
    this.#activeUp = passed;
    this.#announce(before, reason);
  }

  /** Records a response with a status below 500, which clears the server's failures as in Traefik. */
  recordSuccess(): void {
    if (this.#failures.length > 0) this.#failures = [];
  }

  /**
   * Records a request that failed on this server: a 5xx response, a refused connection or a
   * timeout. With a passive policy, `maxFailedAttempts` failures within the window take the server
   * out for the window.
   */
  recordFailure(): void {
    const policy = this.#passive;
    if (policy === undefined || this.#passivelyDown()) return;

    const now = this.#now();
    this.#failures = this.#failures.filter((time) => now - time < policy.failureWindowMs);
    this.#failures.push(now);
    if (this.#failures.length < policy.maxFailedAttempts) return;

    const before = this.isAvailable();
    const count = this.#failures.length;
    this.#failures = [];
    this.#passiveDownUntil = now + policy.failureWindowMs;
    this.#announce(before, `${count} failed ${count === 1 ? 'request' : 'requests'} within ${policy.failureWindowMs} ms`);

    // The server returns on its own when the window ends; the timer only reports it.
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = setTimeout(() => {
      this.#recoveryTimer = undefined;
      if (this.isAvailable()) this.#onChange({ service: this.service, url: this.url, available: true, reason: 'the passive failure window ended' });
    }, policy.failureWindowMs);
    this.#recoveryTimer.unref();
  }

  /** Stops the recovery timer, for a server that left the configuration. */
  dispose(): void {
    clearTimeout(this.#recoveryTimer);
    this.#recoveryTimer = undefined;
  }

  #passivelyDown(): boolean {
    return this.#now() < this.#passiveDownUntil;
  }

  #announce(wasAvailable: boolean, reason: string): void {
    const available = this.isAvailable();
    if (available !== wasAvailable) this.#onChange({ service: this.service, url: this.url, available, reason });
  }
}
