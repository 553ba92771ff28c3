/** RFC 3986 §2.3 unreserved characters: percent-encoding them is equivalent to the character itself. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * The URI a DPoP `htu` is compared as (RFC 9449 §4.3 step 9): query and fragment dropped, then
 * syntax-based and scheme-based normalisation (RFC 3986 §6.2.2–6.2.3) — lower-case scheme and host,
 * default port removed, dot segments resolved, an empty path as `/`, percent-encoded unreserved
 * characters decoded and other escapes upper-cased. Undefined when it is not an http(s) URI.
 *
 * @example normaliseHtu('HTTPS://AS.example:443/a/../token?x=1') // 'https://as.example/token'
 */
export function normaliseHtu(uri: string): string | undefined {
  if (uri.length > 4096 || !URL.canParse(uri)) return undefined;
  const u = new URL(uri);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return undefined;
  if (u.username || u.password) return undefined;
  const path = u.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_m, hex: string) => {
    const c = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(c) ? c : `%${hex.toUpperCase()}`;
  });
  return `${u.protocol}//${u.host}${path}`;
}
