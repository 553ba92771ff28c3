import { createHash } from 'node:crypto';

/** Parameters and JSON members whose values are credentials: never shown whole. */
const SECRET_NAMES = new Set([
  'access_token', 'refresh_token', 'id_token', 'id_token_hint', 'code', 'code_verifier', 'client_secret',
  'client_assertion', 'token', 'password', 'logout_token',
]);

const PREFIX = 8;

/**
 * A credential as the pages show it: a short prefix, the length and a 6-hex fingerprint, so two
 * tokens can be told apart (JWTs all start with `eyJhbGci`) without the value being recoverable.
 */
export function maskToken(value: string): string {
  if (value.length <= PREFIX) return '…';
  const fingerprint = createHash('sha256').update(value).digest('hex').slice(0, 6);
  return `${value.slice(0, PREFIX)}… (${value.length} chars, #${fingerprint})`;
}

export function isSecretName(name: string): boolean {
  return SECRET_NAMES.has(name.toLowerCase());
}

/** A form body or query string with credential values masked. */
export function maskParams(params: URLSearchParams): string {
  const out: string[] = [];
  for (const [k, v] of params) out.push(`${k}=${isSecretName(k) ? maskToken(v) : v}`);
  return out.join('&');
}

/** A URL with credential query parameters masked. */
export function maskUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return `${url.slice(0, q)}?${maskParams(new URLSearchParams(url.slice(q + 1)))}`;
}

/** `Authorization` values: the scheme stays, the credentials are masked. */
export function maskAuthorization(value: string): string {
  const space = value.indexOf(' ');
  if (space < 0) return maskToken(value);
  const scheme = value.slice(0, space);
  return /^basic$/i.test(scheme) ? `${scheme} …(client id and secret)` : `${scheme} ${maskToken(value.slice(space + 1))}`;
}

/** A JSON body pretty-printed with credential members masked; other text is returned truncated. */
export function maskBody(text: string, max = 4000): string {
  if (text === '') return '';
  try {
    const masked = JSON.stringify(JSON.parse(text), (key, value: unknown) => (typeof value === 'string' && isSecretName(key) ? maskToken(value) : value), 2);
    return truncate(masked, max);
  } catch {
    return truncate(text, max);
  }
}

function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length - max} more chars)` : s;
}
