import { createHash, randomBytes } from 'node:crypto';
import { serviceClient, startServer, type Running } from './helpers.ts';
import type { RawConfig } from '../src/config/schema.ts';

/** Shared fixtures for the issue-3 suites: an OIDC web app, a public SPA, and two users. */
export const WEB_SECRET = 'web-app-secret-0123456789abcdef';
export const REDIRECT = 'https://app.example/cb';
export const LOGOUT_REDIRECT = 'https://app.example/bye';

export const webClient = {
  id: 'webapp',
  name: 'Example Web App',
  type: 'confidential' as const,
  secret: WEB_SECRET,
  grants: ['authorization_code'],
  scopes: ['openid', 'profile', 'email', 'orders:read'],
  redirectUris: [REDIRECT, 'https://app.example/other', 'http://127.0.0.1/loop'],
  postLogoutRedirectUris: [LOGOUT_REDIRECT],
  audience: 'https://orders.example',
};

export const spaClient = {
  id: 'spa',
  name: 'Example SPA',
  type: 'public' as const,
  grants: ['authorization_code'],
  scopes: ['openid', 'profile'],
  redirectUris: ['https://spa.example/callback'],
  firstParty: true,
};

export const users = [
  { username: 'alice', password: 'alice-password-1', name: 'Alice Liddell', email: 'alice@example.com', emailVerified: true, roles: ['user'] },
  { username: 'admin', password: 'admin-password-1', name: 'Ada Admin', roles: ['user', 'admin'] },
];

export function startOidcServer(overrides: Partial<RawConfig> = {}, dataDir?: string): Promise<Running> {
  return startServer({ clients: [serviceClient, webClient, spaClient], users, ...overrides }, dataDir);
}

export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** Authorization request parameters for the web app, with PKCE; `extra` overrides or (undefined) removes. */
export function authParams(challenge: string, extra: Record<string, string | undefined> = {}): URLSearchParams {
  const base: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: webClient.id,
    redirect_uri: REDIRECT,
    scope: 'openid profile email',
    state: 'st-123',
    nonce: 'n-456',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...extra,
  };
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(base)) if (v !== undefined) p.append(k, v);
  return p;
}

/** A cookie-keeping HTTP client that never follows redirects (so every hop can be asserted). */
export class Agent {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.#send(path, { method: 'GET', headers });
  }

  async post(path: string, form: Record<string, string> | string, headers: Record<string, string> = {}): Promise<Response> {
    const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    return this.#send(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', origin: this.base, ...headers } });
  }

  async #send(path: string, init: RequestInit): Promise<Response> {
    const url = path.startsWith('http') ? path : `${this.base}${path}`;
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
}

export function hidden(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}

export function location(res: Response): string {
  const l = res.headers.get('location');
  if (!l) throw new Error(`expected a redirect, got ${res.status}`);
  return l;
}

/**
 * Drives authorize → login → (consent) → redirect with plain HTTP. Returns the final redirect URL to
 * the client. `consent` chooses the consent button when the page appears.
 */
export async function authorize(agent: Agent, params: URLSearchParams, login?: { username: string; password: string }, consent: 'allow' | 'deny' = 'allow'): Promise<URL> {
  let res = await agent.get(`/authorize?${params}`);
  for (let hop = 0; hop < 10; hop++) {
    if (res.status !== 303) throw new Error(`unexpected ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const loc = location(res);
    if (!loc.startsWith('/')) return new URL(loc);
    if (loc.startsWith('/login')) {
      if (!login) throw new Error('login required but no credentials given');
      const page = await (await agent.get(loc)).text();
      res = await agent.post('/login', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, username: login.username, password: login.password });
    } else if (loc.startsWith('/consent')) {
      const page = await (await agent.get(loc)).text();
      res = await agent.post('/consent', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, decision: consent });
    } else {
      res = await agent.get(loc);
    }
  }
  throw new Error('too many redirects');
}

/** POST /token as `clientId`: Basic auth with `clientSecret`, or `null` for a public client (client_id in the body). */
export function tokenRequest(base: string, form: Record<string, string>, clientSecret: string | null = WEB_SECRET, clientId = webClient.id): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (clientSecret !== null) headers.authorization = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  const body = new URLSearchParams(clientSecret === null ? { ...form, client_id: clientId } : form);
  return fetch(`${base}/token`, { method: 'POST', headers, body });
}

export const alice = { username: 'alice', password: 'alice-password-1' };
