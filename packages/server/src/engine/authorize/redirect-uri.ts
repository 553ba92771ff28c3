/** `http://127.0.0.1` or `http://[::1]`, optional port, then the rest of the URI (RFC 8252 §7.3). */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?$/s;

/**
 * Redirect URI matching (SECURITY-CHECKLIST A1, A2): simple string comparison (RFC 3986 §6.2.1, no
 * normalisation), except that a registered loopback IP redirect accepts any port in the request
 * (RFC 8252 §7.3). Scheme, host, path and query must still be identical, and a non-loopback
 * registration never matches a loopback request.
 */
export function redirectUriMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const r = LOOPBACK.exec(registered);
  const q = LOOPBACK.exec(requested);
  if (!r || !q) return false;
  if (q[2] !== undefined && (Number(q[2]) > 65535 || q[2].startsWith('0'))) return false;
  return r[1] === q[1] && (r[3] ?? '') === (q[3] ?? '');
}

/**
 * The redirect URI for a request: the requested one when it matches a registration; with none
 * requested, the single registered URI (OAuth 2.1 §2.3.2). Undefined means: show an error page and
 * never redirect (A3, A4).
 */
export function resolveRedirectUri(registered: string[], requested: string | undefined): string | undefined {
  if (requested === undefined) return registered.length === 1 ? registered[0] : undefined;
  if (requested.length > 2000) return undefined;
  return registered.some((r) => redirectUriMatches(r, requested)) ? requested : undefined;
}
