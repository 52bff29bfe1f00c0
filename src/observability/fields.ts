// Fixed names of structured log fields, so log queries keep working across releases.
// Never build a field name from user data.

export const Fields = {
  module: 'module',
  entryPoint: 'entryPointName',
  router: 'routerName',
  service: 'serviceName',
  middleware: 'middlewareName',
  tlsOptions: 'tlsOptionsName',
  server: 'serverUrl',
  provider: 'providerName',
  container: 'containerName',
  containerId: 'containerId',
  label: 'labelKey',
  event: 'dockerEvent',
  attempt: 'attempt',
  delayMs: 'delayMs',
  durationMs: 'durationMs',
  status: 'status',
  address: 'address',
  counts: 'counts',
  problem: 'problem',
  /** A file or directory on disk, such as a dynamic configuration file. */
  path: 'path',
  reason: 'reason',
} as const;
