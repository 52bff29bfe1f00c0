// The catalogue of static options, in Traefik's names and nesting. Flags, environment variables,
// the YAML file and help text are all derived from this one schema by `option-tree.ts`:
//
// - A `z.strictObject` is a section, and its keys are option names in Traefik's camelCase.
// - A `z.record` is a section of named items, such as `entryPoints.<name>`.
// - Anything else is an option whose value type comes from `values.ts`.
//
// To add an option, add it here with `documented(...)`, then read it in `build.ts`. A section
// that `--section` alone turns on (like `--ping`) is documented with `toggle: true`.

import * as z from 'zod';

import { INTERNAL_ENTRY_POINT, INTERNAL_ENTRY_POINT_ALIAS } from './types.js';
import {
  addressValue,
  booleanValue,
  endpointValue,
  entryPointNameValue,
  labelPrefixValue,
  logFormatValue,
  logLevelValue,
  optionalTextValue,
  textValue,
} from './values.js';

/** Help text and loading rules of one option or section. */
export interface OptionDoc {
  /** One sentence of help text on the effect of the option. */
  description: string;
  /** Default shown in help, for defaults that the schema cannot state (computed or absent). */
  defaultText?: string;
  /** Marks a section that a bare flag (`--ping`) turns on and that any option inside it implies. */
  toggle?: boolean;
  /** Placeholder of the item name in a section of named items, such as `name`. */
  itemName?: string;
  /** Item names read as other names, such as Traefik's `traefik` entry point as `berth`. */
  aliases?: Readonly<Record<string, string>>;
  /** Marks an option that only a flag or an environment variable may set. */
  notInFile?: boolean;
}

/** Option documentation by schema instance, read by the option tree. */
export const optionDocs = z.registry<OptionDoc>();

function documented<S extends z.ZodType>(schema: S, doc: OptionDoc): S {
  optionDocs.add(schema, doc);
  return schema;
}

export const DEFAULT_DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';

export const DEFAULT_RULE = 'Host(`{{ normalize .Name }}`)';

const entryPointSchema = z.strictObject({
  address: documented(addressValue(), {
    description: 'Address to listen on: [HOST]:PORT, such as ":80", "127.0.0.1:8080" or "[::1]:80".',
    defaultText: 'none, required',
  }),
});

const dockerProviderSchema = z.strictObject({
  endpoint: documented(endpointValue().default(DEFAULT_DOCKER_ENDPOINT), {
    description: 'Docker API to read containers and events from (unix://, tcp://, http:// or https://).',
    defaultText: `$DOCKER_HOST if set, else ${DEFAULT_DOCKER_ENDPOINT}`,
  }),
  exposedByDefault: documented(booleanValue().default(true), {
    description: 'Route containers that have no "<prefix>.enable=true" label.',
  }),
  defaultRule: documented(textValue().default(DEFAULT_RULE), {
    description: 'Rule of routers whose labels set none, as a Go template over the container.',
  }),
  network: documented(optionalTextValue().optional(), {
    description: 'Docker network whose container addresses are used when a container is on several.',
    defaultText: 'none, the first network found',
  }),
  labelPrefix: documented(labelPrefixValue().default('traefik'), {
    description: 'First segment of the container labels that are read.',
  }),
  allowEmptyServices: documented(booleanValue().default(false), {
    description: 'Keep services that have no healthy server, which then respond 503, instead of removing their routers.',
  }),
});

const apiSchema = z.strictObject({
  insecure: documented(booleanValue().default(false), {
    description: `Serve the API and dashboard on the "${INTERNAL_ENTRY_POINT}" entry point without a router.`,
  }),
  dashboard: documented(booleanValue().default(true), {
    description: 'Serve the dashboard page along with the API.',
  }),
});

const pingSchema = z.strictObject({
  entryPoint: documented(entryPointNameValue().default(INTERNAL_ENTRY_POINT), {
    description: 'Entry point that serves /ping.',
  }),
});

const logSchema = z.strictObject({
  level: documented(logLevelValue().default('info'), {
    description: 'Minimum level of log lines: debug, info, warn or error, in any case.',
  }),
  format: documented(logFormatValue().optional(), {
    description: 'Log line format: json or pretty.',
    defaultText: 'pretty when stdout is a terminal, else json',
  }),
});

// Traefik's command blocks commonly carry these two. Berth never checks for new versions and never
// sends usage data, so both are accepted and have no effect.
const globalSchema = z.strictObject({
  checkNewVersion: documented(booleanValue().optional(), {
    description: 'Accepted for Traefik compatibility and ignored: Berth never checks for new versions.',
    defaultText: 'ignored',
  }),
  sendAnonymousUsage: documented(booleanValue().optional(), {
    description: 'Accepted for Traefik compatibility and ignored: Berth never sends usage data.',
    defaultText: 'ignored',
  }),
});

export const staticOptionsSchema = z.strictObject({
  configFile: documented(textValue().optional(), {
    description: 'YAML file to read, relative to the working directory. A .toml file is rejected.',
    defaultText: 'the first of berth.yaml, berth.yml, traefik.yaml and traefik.yml in the working directory',
    notInFile: true,
  }),
  global: globalSchema.optional(),
  entryPoints: documented(z.record(z.string(), entryPointSchema).optional(), {
    description: 'Listeners by name. Names are read in lower case.',
    itemName: 'name',
    aliases: { [INTERNAL_ENTRY_POINT_ALIAS]: INTERNAL_ENTRY_POINT },
  }),
  providers: z
    .strictObject({
      docker: documented(dockerProviderSchema, {
        description: 'Route containers from their labels.',
        defaultText: 'on when no provider is configured, else off',
        toggle: true,
      }).optional(),
    })
    .prefault({}),
  api: documented(apiSchema, {
    description: 'Enable the JSON API and the dashboard.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
  ping: documented(pingSchema, {
    description: 'Enable the /ping health endpoint.',
    defaultText: 'off',
    toggle: true,
  }).optional(),
  log: logSchema.prefault({}),
});

/** Parsed options, before entry point defaults and cross-checks. */
export type StaticOptions = z.output<typeof staticOptionsSchema>;
