// Hides credentials in URLs before they leave the process. A server URL may carry a password
// (`http://user:password@host:8080`), and so may a forwardAuth address. The API, the dashboard,
// `berth explain`, error messages and logs show server URLs through `redactServerUrl`, and other
// text that may hold URLs through `redactUrl`, while forwarding keeps the real URL.

/** The text that replaces a secret in any output. */
export const REDACTED = '<redacted>';

// The userinfo of a URL is everything between `scheme://` and the last `@` before the next `/`.
// The match may cross `?` and `#`, so it hides a password that contains them. A URL parser rejects
// such a URL, and an error message then quotes it as written. The cost is that a URL without a
// path, such as `http://host?a=b@c`, loses more than its userinfo.
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s]*@/gi;

/**
 * Replaces the userinfo of every URL in `text` with `<redacted>`, so `http://user:pw@host/`
 * becomes `http://<redacted>@host/`. Text without userinfo is returned unchanged, and the
 * result of a second call is the same as that of the first.
 */
export function redactUrl(text: string): string {
  // Most URLs have no userinfo, so the cheap check skips the regular expression.
  return text.includes('@') ? text.replace(USERINFO, `$1${REDACTED}@`) : text;
}

/** A scheme and the slashes or backslashes after it, which URL parsers accept in any number. */
const SCHEME_PREFIX = /^[a-z][a-z0-9+.-]*:[/\\]*/i;

/**
 * Returns a server URL fit to show: its userinfo, whatever it contains, becomes `<redacted>`. Unlike
 * `redactUrl`, this reads one value, not free text, so it also catches spellings that URL parsers
 * accept or that a configuration may hold by mistake: `http:/user:pw@host`, a password with a
 * space or a slash, or no scheme at all. An `@` that the URL parser places in the path or query
 * is not userinfo and is kept.
 */
export function redactServerUrl(value: string): string {
  if (!value.includes('@')) return value;
  const prefix = SCHEME_PREFIX.exec(value)?.[0] ?? '';
  // `user:pw@host` parses too, as the scheme `user:` with an opaque path, so only a URL with a host counts.
  const parsed = URL.canParse(value) ? new URL(value) : undefined;
  if (parsed !== undefined && parsed.host !== '') {
    if (parsed.username === '' && parsed.password === '') return value;
    // The userinfo ends at the `@` before the host; the rest is kept as written.
    const at = value.toLowerCase().lastIndexOf(`@${parsed.host.toLowerCase()}`);
    if (at !== -1) return `${prefix}${REDACTED}${value.slice(at)}`;
    return `${parsed.protocol}//${REDACTED}@${parsed.host}${parsed.pathname}${parsed.search}${parsed.hash}`;
  }
  // Not a URL with a host: everything before the last `@`, after any scheme, may be a password.
  return `${prefix}${REDACTED}${value.slice(value.lastIndexOf('@'))}`;
}
