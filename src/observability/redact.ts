// Hides credentials in URLs before they leave the process. A server URL may carry a password
// (`http://user:password@host:8080`), and so may a forwardAuth address. The API, the dashboard,
// `berth explain`, error messages and logs show URLs through `redactUrl`, while forwarding keeps
// the real URL.

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
