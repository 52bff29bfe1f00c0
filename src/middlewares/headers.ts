// Traefik's `headers` middleware: custom request and response fields (an empty value removes the
// field), CORS (cors.ts) and security fields and checks (security-headers.ts). The steps run in
// Traefik v3's order. A CORS preflight gets its response first, so it skips the host check and gets
// none of the other fields. Then the custom request fields are set, and the host and scheme
// checks run on the result. On the server's response, the security fields are applied first and
// the custom response fields and CORS fields after them, so a custom field can override or remove
// a security field.
import { replaceRequestHost } from '../proxy/forwarded.js';
import { manageRequestFields } from '../proxy/request-trailers.js';
import { addCorsHeaders, corsSettings, isPreflight, sendPreflightResponse } from './cors.js';
import { checkHeadersOptions } from './header-fields.js';
import { stringMap } from './options.js';
import { firstHeaderValue } from './request-headers.js';
import { editResponseHeaders, withoutHeader } from './response-headers.js';
import { applySecurity, decideSecurity, securitySettings, type SecuritySettings } from './security-headers.js';
import { withPreview, type Middleware, type MiddlewarePreview, type RequestContext } from './types.js';

/**
 * Builds the middleware. Throws an Error naming the option and value when an option is invalid,
 * and passes a warning to `warn` for each deprecated option that is set.
 */
export function createHeaders(options: Record<string, unknown>, warn: (message: string) => void = () => {}): Middleware {
  checkHeadersOptions(options);
  const requestHeaders = stringMap(options, 'customrequestheaders');
  // The fields set or removed here, which a client's trailer fields may not bring back.
  const managedNames: ReadonlySet<string> = new Set([...requestHeaders.keys()].map((name) => name.toLowerCase()));
  const isManagedField = (name: string): boolean => managedNames.has(name);
  const responseHeaders = stringMap(options, 'customresponseheaders');
  const cors = corsSettings(options);
  const security = securitySettings(options, warn);

  const handle = async (context: RequestContext, next: () => Promise<void>): Promise<void> => {
    if (cors !== undefined && isPreflight(context.request)) {
      sendPreflightResponse(context, cors);
      return;
    }

    if (requestHeaders.size > 0) manageRequestFields(context.request, isManagedField);
    for (const [name, value] of requestHeaders) {
      const key = name.toLowerCase();
      // Traefik's empty value deletes a header line, which never touches Go's `req.Host`.
      if (key === 'host') {
        if (value !== '') replaceRequestHost(context.request, value);
      } else if (value === '') {
        delete context.request.headers[key];
      } else {
        context.request.headers[key] = value;
      }
    }

    if (responseHeaders.size > 0 || cors !== undefined) {
      const origin = firstHeaderValue(context.request, 'origin') ?? '';
      editResponseHeaders(context.response, (headers) => {
        let result = headers;
        for (const [name, value] of responseHeaders) {
          result = withoutHeader(result, name);
          if (value !== '') result.push(name, value);
        }
        return cors === undefined ? result : addCorsHeaders(result, cors, origin);
      });
    }

    if (security !== undefined && !applySecurity(context, security)) return;
    await next();
  };

  return withPreview(handle, (context): MiddlewarePreview => {
    if (cors !== undefined && isPreflight(context.request)) return { effect: 'responds', status: 200, reason: 'CORS preflight response' };
    if (security === undefined) return { effect: 'passes' };
    return previewSecurity(withRequestHeaders(context, requestHeaders), security);
  });
}

/** Returns what the host and scheme checks would send for the request of `context`. */
function previewSecurity(context: RequestContext, security: SecuritySettings): MiddlewarePreview {
  const decision = decideSecurity(context, security);
  if (decision.action === 'bad-host') return { effect: 'responds', status: 500, reason: 'the host is not in allowedHosts (Bad Host)' };
  if (decision.action === 'redirect') return { effect: 'responds', status: decision.status, reason: 'redirect to https', location: decision.location };
  return { effect: 'passes' };
}

/**
 * Returns a context whose request has the custom request fields set, as the checks see it, and
 * leaves the request of `context` as it is, because explain shares it between the previews.
 */
function withRequestHeaders(context: RequestContext, requestHeaders: ReadonlyMap<string, string>): RequestContext {
  if (requestHeaders.size === 0) return context;
  const headers = { ...context.request.headers };
  for (const [name, value] of requestHeaders) {
    const key = name.toLowerCase();
    if (key === 'host' && value === '') continue;
    if (value === '') delete headers[key];
    else headers[key] = value;
  }
  const request: typeof context.request = Object.create(context.request);
  request.headers = headers;
  return { ...context, request };
}
