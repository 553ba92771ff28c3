/** RFC 8252 §7.3 / RFC 9700 §4.1.3: loopback IP literals (and `localhost` for issuers only). */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/**
 * Checks a redirect URI for registration (SECURITY-CHECKLIST A5): absolute, no fragment, no wildcard,
 * https (or http only on a loopback IP), never javascript:/data:/vbscript:, private-use schemes must
 * contain a dot (RFC 8252 §7.1). Returns a problem or undefined.
 */
export function redirectUriProblem(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (uri.includes('*')) return 'must not contain a wildcard';
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  if (['javascript', 'data', 'vbscript', 'file', 'blob'].includes(scheme)) return `scheme ${scheme}: is not allowed`;
  if (scheme === 'http') return isLoopbackHost(u.hostname) || u.hostname === 'localhost' ? undefined : 'http is allowed only for loopback addresses';
  if (scheme === 'https') return u.username || u.password ? 'must not contain user information' : undefined;
  return scheme.includes('.') ? undefined : 'a private-use scheme must be a reverse domain name (contain a dot)';
}

/** RFC 8707 §2: a resource indicator is an absolute URI without a fragment. */
export function resourceUriProblem(uri: string): string | undefined {
  try {
    new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  return uri.includes('#') ? 'must not contain a fragment' : undefined;
}

/**
 * Checks a CORS origin for registration (RFC 6454 §6.1 serialisation): `scheme://host[:port]` exactly as
 * a browser sends it in `Origin`, https (or http on a loopback address), no path, no wildcard, not `null`.
 */
export function originProblem(origin: string): string | undefined {
  if (origin.includes('*')) return 'must not contain a wildcard';
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    return 'is not an origin (scheme://host[:port])';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an https (or loopback http) origin';
  if (u.origin !== origin) return `is not an origin as browsers send it (expected ${u.origin})`;
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname) && u.hostname !== 'localhost') return 'http is allowed only for loopback addresses';
  return undefined;
}
