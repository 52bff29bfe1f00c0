// Schema of Traefik's dynamic configuration file (`http`, `tls`), written in the label schema
// language so that keys match in any case and typos get the same suggestions as labels. Routers
// and middlewares have the same options as their labels; a file service lists its servers
// (`loadBalancer.servers[n].url`) where labels set one `loadBalancer.server`.

import { routerSchema, serviceSchema } from '../../labels/http-schemas.js';
import { middlewareSchema } from '../../labels/middleware-schemas.js';
import { field } from '../../labels/schema.js';
import type { Infer } from '../../labels/schema.js';

const { server: _server, ...loadBalancerFields } = serviceSchema.fields.loadBalancer.fields;

const serverSchema = field.object({
  url: field.string(),
  weight: field.integer(0, Number.MAX_SAFE_INTEGER, 'a non-negative integer'),
  preservePath: field.bool(),
});

export const fileServiceSchema = field.object({
  loadBalancer: field.object({ ...loadBalancerFields, servers: field.array(serverSchema) }),
  // Traefik's other service types are known, so they get a clear "not supported" instead of a typo hint.
  weighted: field.ignored(),
  mirroring: field.ignored(),
  failover: field.ignored(),
});

/** A certificate and its key, each a file path or the PEM text itself, as in Traefik. */
const certificateFilesSchema = field.object({
  certFile: field.string(),
  keyFile: field.string(),
});

const certificateSchema = field.object({
  ...certificateFilesSchema.fields,
  stores: field.list(),
});

export const tlsOptionsSchema = field.object({
  minVersion: field.string(),
  maxVersion: field.string(),
  cipherSuites: field.list(),
  curvePreferences: field.list(),
  sniStrict: field.bool(),
  alpnProtocols: field.list(),
  preferServerCipherSuites: field.bool(),
  disableSessionTickets: field.bool(),
  clientAuth: field.object({ caFiles: field.list(), clientAuthType: field.string() }),
});

const storeSchema = field.object({
  defaultCertificate: certificateFilesSchema,
  defaultGeneratedCert: field.ignored(),
});

/** The whole dynamic configuration file. */
export const dynamicFileSchema = field.object({
  http: field.object({
    routers: field.map(routerSchema, '<router>'),
    services: field.map(fileServiceSchema, '<service>'),
    middlewares: field.map(middlewareSchema, '<middleware>'),
    serversTransports: field.ignored(),
  }),
  tcp: field.ignored(),
  udp: field.ignored(),
  tls: field.object({
    certificates: field.array(certificateSchema),
    options: field.map(tlsOptionsSchema, '<options>'),
    stores: field.map(storeSchema, '<store>'),
  }),
});

export type DynamicFile = Infer<typeof dynamicFileSchema>;
export type FileRouter = NonNullable<NonNullable<DynamicFile['http']>['routers']>[string];
export type FileService = Infer<typeof fileServiceSchema>;
export type FileMiddleware = NonNullable<NonNullable<DynamicFile['http']>['middlewares']>[string];
export type FileTlsOptions = Infer<typeof tlsOptionsSchema>;
export type FileCertificate = Infer<typeof certificateSchema>;
