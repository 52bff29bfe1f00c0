// Fixed names of structured log fields, so log queries keep working across releases.
// Never build a field name from user data.

export const Fields = {
  module: 'module',
  entryPoint: 'entryPointName',
  router: 'routerName',
  service: 'serviceName',
  middleware: 'middlewareName',
  /** The type of a middleware as written in its configuration, such as `inFlightReq`. */
  middlewareType: 'middlewareType',
  tlsOptions: 'tlsOptionsName',
  server: 'serverUrl',
  provider: 'providerName',
  container: 'containerName',
  containerId: 'containerId',
  label: 'labelKey',
  /** The value of the label in `labelKey`, logged only where it cannot be a secret, such as `enable`. */
  labelValue: 'labelValue',
  event: 'dockerEvent',
  attempt: 'attempt',
  delayMs: 'delayMs',
  durationMs: 'durationMs',
  status: 'status',
  /** The status a middleware replaced, such as the server's status under an `errors` page. */
  originalStatus: 'originalStatus',
  address: 'address',
  counts: 'counts',
  problem: 'problem',
  /** A file or directory on disk, such as a dynamic configuration file. */
  path: 'path',
  reason: 'reason',
  /** The class of an error logged by its message alone, such as `UpstreamConnectError`. */
  errorType: 'errorType',
  /** Origin of an item that is not from a container, such as `file /etc/berth/dynamic.yml`. */
  source: 'source',
  /** The state that a state machine, such as a circuit breaker, has just left. */
  previousState: 'previousState',
  /** Events of the same kind left out of the log since the last one logged. */
  suppressed: 'suppressed',
} as const;
