/** Outbound HTTP helpers shared by discovery, JWKS and revocation. No redirects, bounded size and time. */
const MAX_BODY = 1 << 20;
const TIMEOUT_MS = 5000;

/** RFC 6749 §2.3.1: client_secret_basic, each part form-urlencoded before base64. */
export function basicAuth(clientId: string, clientSecret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(clientSecret)}`).toString('base64')}`;
}

/** Fetches `url` and returns its JSON body; throws on a non-2xx status, oversize body or bad JSON. */
export async function fetchJson(fetchImpl: typeof fetch, url: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetchImpl(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
    ...init,
    headers: { accept: 'application/json', ...(init.headers as Record<string, string> | undefined) },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${new URL(url).pathname} answered ${res.status}`);
  if (text.length > MAX_BODY) throw new Error(`${new URL(url).pathname} body too large`);
  return JSON.parse(text) as unknown;
}

/** A plain JSON object (not array/null), for reading members with Object.hasOwn. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
