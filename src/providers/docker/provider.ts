// The Docker provider's connection and event loop: list and inspect containers, follow events,
// and on any loss of the event stream reconnect with capped backoff and list everything again,
// because events during the gap are lost. The configuration itself comes from the pure builder.
import { hostname } from 'node:os';
import Docker from 'dockerode';
import type { Logger } from '../../observability/logger.js';
import { Fields } from '../../observability/fields.js';
import type { ProviderConfig } from '../../dynamic/model.js';
import type { DockerProviderConfig } from '../../config/index.js';
import type { ContainerInfo } from './container-info.js';
import { toContainerInfo } from './inspect.js';
import { buildProviderConfigSteps, type DecodedLabelsCache } from './build.js';
import { runInSlices } from '../../dynamic/steps.js';
import { dockerOptions } from './endpoint.js';
import { EventLineDecoder, WATCHED_ACTIONS, eventEffect, type DockerEvent } from './events.js';
import { truncateValue } from '../../quote.js';

/** Events within this window are applied together, so a burst of starts causes a few rebuilds. */
const COALESCE_MS = 25;
const BACKOFF_INITIAL_MS = 250;
const BACKOFF_MAX_MS = 5_000;
const INSPECT_CONCURRENCY = 8;
/** Time, in milliseconds, after which building the configuration pauses so that requests get a turn. */
const BUILD_SLICE_MS = 10;
/**
 * How long a container stays out of rotation after a stop signal when it keeps running, beyond
 * its stop timeout. A process that ignores SIGTERM from `docker kill` would otherwise stay out
 * of rotation for good.
 */
const STOPPING_MARGIN_MS = 5_000;
/** Docker's stop timeout when the container sets none. */
const DEFAULT_STOP_TIMEOUT_S = 10;
/** After the first failure, a failed reconnect is logged at warn once every this many attempts. */
const RECONNECT_WARN_EVERY = 10;

/** Connection state of the Docker provider, as `/api/overview` shows it. */
export interface DockerProviderStatus {
  connected: boolean;
  endpoint: string;
  lastError?: string;
  lastSyncAt?: string;
  /** Successful connections after the first one, each followed by a full relist. */
  reconnects: number;
  /** Failed connection attempts since the last successful connection or lost connection. */
  failedAttempts: number;
  containers: number;
}

export class DockerProvider {
  readonly #options: DockerProviderConfig;
  readonly #logger: Logger;
  readonly #onConfig: (config: ProviderConfig) => void;
  readonly #docker: Docker;

  readonly #containers = new Map<string, ContainerInfo>();
  /** Containers that got a stop signal, with the time after which a running one rejoins rotation. */
  readonly #stopping = new Map<string, number>();
  #stopTimeouts = new Map<string, number>();
  #failedAttempts = 0;
  #everConnected = false;
  readonly #pending = new Map<string, 'refresh' | 'remove'>();
  #needResync = true;
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #selfNetworks: string[] = [];
  #lastConfigJson = '';
  /** Message of the last failed build, so a repeated failure is logged once. */
  #lastBuildError: string | undefined;
  /** Decoded labels by snapshot; a snapshot's labels object is replaced on inspect, never changed. */
  readonly #decodedLabels: DecodedLabelsCache = new WeakMap();

  #running = false;
  #stream: NodeJS.ReadableStream | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #backoffMs = BACKOFF_INITIAL_MS;
  #status: DockerProviderStatus;

  constructor(options: DockerProviderConfig, logger: Logger, onConfig: (config: ProviderConfig) => void) {
    this.#options = options;
    this.#logger = logger.child({ [Fields.provider]: 'docker' });
    this.#onConfig = onConfig;
    this.#docker = new Docker(dockerOptions(options.endpoint));
    this.#status = { connected: false, endpoint: options.endpoint, reconnects: 0, failedAttempts: 0, containers: 0 };
  }

  status(): DockerProviderStatus {
    return { ...this.#status };
  }

  start(): void {
    this.#running = true;
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#flushTimer);
    this.#closeStream();
    await this.#flushing;
  }

  async #connect(): Promise<void> {
    if (!this.#running) return;
    try {
      // The event stream opens before the list is read, so nothing between the two is missed.
      const stream = (await this.#docker.getEvents({ filters: { type: ['container'], event: WATCHED_ACTIONS } })) as NodeJS.ReadableStream;
      if (!this.#running) {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        return;
      }
      this.#stream = stream;
      this.#followEvents(stream);
      this.#selfNetworks = await this.#findSelfNetworks();

      this.#needResync = true;
      this.#flushing = this.#flushing.then(() => this.#flush());
      await this.#flushing;
      if (this.#stream !== stream) return;

      this.#status.connected = true;
      delete this.#status.lastError;
      if (this.#everConnected) this.#status.reconnects++;
      this.#everConnected = true;
      this.#backoffMs = BACKOFF_INITIAL_MS;
      this.#failedAttempts = 0;
      this.#status.failedAttempts = 0;
      this.#logger.info({ [Fields.address]: this.#options.endpoint, [Fields.counts]: { containers: this.#containers.size } }, 'connected to Docker');
    } catch (error) {
      this.#disconnected(error as Error);
    }
  }

  #followEvents(stream: NodeJS.ReadableStream): void {
    const decoder = new EventLineDecoder();
    stream.on('data', (chunk: Buffer) => {
      for (const event of decoder.push(chunk)) this.#onEvent(event);
    });
    const onEnd = (error?: Error) => {
      if (this.#stream !== stream) return;
      this.#disconnected(error ?? new Error('the Docker event stream ended'));
    };
    stream.on('end', () => onEnd());
    stream.on('close', () => onEnd());
    stream.on('error', (error: Error) => onEnd(error));
  }

  #onEvent(event: DockerEvent): void {
    const id = event.Actor?.ID ?? event.id;
    if (!id) return;
    const effect = eventEffect(event);
    if (effect === 'ignore') return;
    this.#logger.debug({ [Fields.event]: event.Action, [Fields.containerId]: id.slice(0, 12) }, 'Docker event');

    if (effect === 'remove') this.#stopTimeouts.delete(id);
    if (effect === 'stopping') {
      // The server leaves rotation now, before the container dies; requests already sent finish.
      const timeoutMs = (this.#stopTimeouts.get(id) ?? DEFAULT_STOP_TIMEOUT_S) * 1000 + STOPPING_MARGIN_MS;
      this.#stopping.set(id, Date.now() + timeoutMs);
      this.#pending.set(id, 'refresh');
      // A container still running at the deadline ignored the signal and rejoins rotation.
      setTimeout(() => this.#onStoppingDeadline(id), timeoutMs + 50).unref();
    } else if (effect === 'remove') {
      this.#stopping.delete(id);
      this.#pending.set(id, 'remove');
    } else {
      if (event.Action === 'start' || event.Action === 'restart' || event.Action === 'unpause') this.#stopping.delete(id);
      if (this.#pending.get(id) !== 'remove') this.#pending.set(id, 'refresh');
    }
    this.#applyEventLocally(id, event.Action ?? '');
    this.#scheduleFlush(COALESCE_MS);
  }

  #onStoppingDeadline(id: string): void {
    if (!this.#running || !this.#stopping.has(id)) return;
    if (this.#pending.get(id) !== 'remove') this.#pending.set(id, 'refresh');
    this.#scheduleFlush(COALESCE_MS);
  }

  /**
   * Applies an event to the container's last snapshot before it is inspected again,
   * because a daemon that is shutting down sends `kill` and `die` and then stops responding.
   */
  #applyEventLocally(id: string, action: string): void {
    const info = this.#containers.get(id);
    if (!info) return;
    if (this.#stopping.has(id)) info.stopping = true;
    if (action === 'die') info.state = 'exited';
    if (action === 'pause') info.paused = true;
    if (action === 'unpause') info.paused = false;
  }

  #disconnected(error: Error): void {
    this.#closeStream();
    if (!this.#running) return;

    const wasConnected = this.#status.connected;
    this.#status.connected = false;
    this.#status.lastError = error.message;
    const delayMs = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, BACKOFF_MAX_MS);
    this.#failedAttempts = wasConnected ? 1 : this.#failedAttempts + 1;
    this.#status.failedAttempts = wasConnected ? 0 : this.#status.failedAttempts + 1;

    const log = { reason: error.message, [Fields.address]: this.#options.endpoint, [Fields.delayMs]: delayMs, [Fields.attempt]: this.#failedAttempts };
    if (wasConnected) {
      this.#logger.warn(log, 'lost the connection to Docker; serving the last configuration and reconnecting');
    } else if (this.#failedAttempts % RECONNECT_WARN_EVERY === 1) {
      this.#logger.warn(log, 'cannot reach Docker: start the daemon, or point --providers.docker.endpoint (or DOCKER_HOST) at its socket; retrying');
    } else {
      this.#logger.debug(log, 'cannot reach Docker; retrying');
    }

    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#connect(), delayMs);
  }

  #closeStream(): void {
    const stream = this.#stream;
    this.#stream = undefined;
    (stream as unknown as { destroy?: () => void } | undefined)?.destroy?.();
  }

  #scheduleFlush(delayMs: number): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      // Flushes run one after another, so a resync and an event refresh never interleave.
      this.#flushing = this.#flushing.then(() => this.#flush());
    }, delayMs);
  }

  async #flush(): Promise<void> {
    try {
      if (this.#needResync) {
        this.#needResync = false;
        this.#pending.clear();
        await this.#resync();
      } else {
        const pending = [...this.#pending];
        this.#pending.clear();
        await mapLimit(pending, INSPECT_CONCURRENCY, async ([id, action]) => {
          if (action === 'remove') this.#containers.delete(id);
          else await this.#refresh(id);
        });
      }
      await this.#emit();
    } catch (error) {
      // A failed list or inspect means the daemon is unreachable; the reconnect resyncs everything.
      // What the events already reported (a container stopping or gone) is applied first.
      this.#needResync = true;
      await this.#emit();
      this.#disconnected(error as Error);
    }
  }

  async #resync(): Promise<void> {
    const listed: unknown = await this.#docker.listContainers({ all: true });
    if (!Array.isArray(listed)) {
      throw new Error(`${this.#options.endpoint} returned a response to GET /containers/json that is not a container list, so it is not the Docker API; check --providers.docker.endpoint`);
    }
    const seen = new Set((listed as Array<{ Id: string }>).map((container) => container.Id));
    for (const id of [...this.#containers.keys()]) {
      if (!seen.has(id)) this.#containers.delete(id);
    }
    // Stop signals seen before the relist tell nothing about the containers running now: a daemon
    // restart, for one, stops containers and then starts those with a restart policy again.
    this.#stopping.clear();
    for (const id of [...this.#stopTimeouts.keys()]) {
      if (!seen.has(id)) this.#stopTimeouts.delete(id);
    }
    await mapLimit([...seen], INSPECT_CONCURRENCY, (id) => this.#refresh(id));
    this.#status.lastSyncAt = new Date().toISOString();
  }

  async #refresh(id: string): Promise<void> {
    try {
      const inspect = await this.#docker.getContainer(id).inspect();
      const info = toContainerInfo(inspect);
      const stopTimeout = (inspect.Config as { StopTimeout?: number } | undefined)?.StopTimeout;
      if (stopTimeout !== undefined) this.#stopTimeouts.set(info.id, stopTimeout);

      const deadline = this.#stopping.get(info.id);
      if (deadline !== undefined) {
        if (info.state === 'running' && Date.now() < deadline) info.stopping = true;
        else this.#stopping.delete(info.id);
      }
      this.#containers.set(info.id, info);
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) {
        this.#containers.delete(id);
        return;
      }
      throw error;
    }
  }

  /**
   * Builds and publishes the configuration. A failure here is a fault in Berth, not in the
   * connection, so it is logged once per message and the connection and event loop stay up.
   * The next event tries again.
   */
  async #emit(): Promise<void> {
    try {
      await this.#publish();
    } catch (error) {
      const message = truncateValue(String(error));
      if (message === this.#lastBuildError) return;
      this.#lastBuildError = message;
      this.#logger.error({ err: error }, 'building the Docker configuration failed; serving the last configuration');
    }
  }

  async #publish(): Promise<void> {
    // Copies, because events change snapshots in place while the build waits between slices.
    const containers = [...this.#containers.values()].map((info) => ({ ...info }));
    this.#status.containers = containers.length;
    const steps = buildProviderConfigSteps(containers, {
      labelPrefix: this.#options.labelPrefix,
      exposedByDefault: this.#options.exposedByDefault,
      defaultRule: this.#options.defaultRule,
      ...(this.#options.network ? { network: this.#options.network } : {}),
      selfNetworks: this.#selfNetworks,
      allowEmptyServices: this.#options.allowEmptyServices,
      decodedLabels: this.#decodedLabels,
    });
    const built = await runInSlices(steps, BUILD_SLICE_MS);
    // Without a stop condition the steps always run to the end; this only narrows the type.
    if (built.stopped) return;
    const config = built.value;

    // An identical configuration, such as after a repeated health event, causes no rebuild.
    const json = JSON.stringify(config);
    if (json === this.#lastConfigJson) return;
    this.#lastConfigJson = json;
    this.#lastBuildError = undefined;
    this.#onConfig(config);
  }

  /** Networks of Berth's own container, preferred when a container is on several networks. */
  async #findSelfNetworks(): Promise<string[]> {
    try {
      const inspect = await this.#docker.getContainer(hostname()).inspect();
      return Object.keys(inspect.NetworkSettings?.Networks ?? {}).sort();
    } catch {
      return [];
    }
  }
}

async function mapLimit<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  });
  await Promise.all(workers);
}
