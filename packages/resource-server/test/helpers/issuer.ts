// A stand-in authorization server for tests: RFC 8414 / OIDC metadata and a JWKS on 127.0.0.1:0,
// plus helpers that sign Tessera-shaped RFC 9068 access tokens (and malformed ones) with test keys.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSign, KeyObject, randomUUID, type webcrypto } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, base64url, type CryptoKey, type JWK } from 'jose';

export const AUDIENCE = 'https://orders.test';

export interface TestKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

export async function makeKey(alg: TestKey['alg'], kid = `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicKey, jwk };
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** Starts a node:http server on 127.0.0.1:0 that records every request path. */
export async function listen(handler: Handler): Promise<{ url: string; server: Server; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r())));
  return { url, server, requests, close };
}

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export interface TestIssuer {
  url: string;
  keys: { rs: TestKey; es: TestKey; ed: TestKey };
  /** The JWKS served at /jwks.json; replace to rotate. */
  jwks: { keys: JWK[] };
  /** When true, /jwks.json answers 503. */
  jwksDown: boolean;
  /** Paths requested so far. */
  requests: string[];
  jwksFetches(): number;
  /** Extra routes (revocation feed, introspection) tried before the built-in ones. */
  extra: Handler | undefined;
  claims(overrides?: Record<string, unknown>): Record<string, unknown>;
  /** Signs claims (base claims + overrides; `undefined` deletes) with key and header overrides. */
  sign(overrides?: Record<string, unknown>, opts?: { key?: TestKey; header?: Record<string, unknown> }): Promise<string>;
  close(): Promise<void>;
}

const now = () => Math.floor(Date.now() / 1000);

export async function startIssuer(): Promise<TestIssuer> {
  const keys = { rs: await makeKey('RS256'), es: await makeKey('ES256'), ed: await makeKey('EdDSA') };
  const state: Partial<TestIssuer> & { jwks: { keys: JWK[] }; jwksDown: boolean; extra: Handler | undefined } = {
    jwks: { keys: [keys.rs.jwk, keys.es.jwk, keys.ed.jwk] },
    jwksDown: false,
    extra: undefined,
  };
  const srv = await listen((req, res, body) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/.well-known/oauth-authorization-server' || path === '/.well-known/openid-configuration') {
      return json(res, 200, { issuer: srv.url, jwks_uri: `${srv.url}/jwks.json`, introspection_endpoint: `${srv.url}/introspect` });
    }
    if (path === '/jwks.json') return state.jwksDown ? json(res, 503, {}) : json(res, 200, state.jwks);
    if (state.extra) return state.extra(req, res, body);
    json(res, 404, {});
  });
  const issuer = Object.assign(state, {
    url: srv.url,
    keys,
    requests: srv.requests,
    jwksFetches: () => srv.requests.filter((p) => p === '/jwks.json').length,
    claims(overrides: Record<string, unknown> = {}) {
      const t = now();
      const base: Record<string, unknown> = {
        iss: srv.url, sub: 'user-1', aud: AUDIENCE, exp: t + 600, iat: t, nbf: t, jti: randomUUID(),
        client_id: 'web-app', scope: 'openid orders:read', roles: ['user'],
      };
      for (const [k, v] of Object.entries(overrides)) {
        if (v === undefined) delete base[k];
        else base[k] = v;
      }
      return base;
    },
    async sign(overrides: Record<string, unknown> = {}, opts: { key?: TestKey; header?: Record<string, unknown> } = {}) {
      const key = opts.key ?? keys.rs;
      const header: Record<string, unknown> = { alg: key.alg, kid: key.kid, typ: 'at+jwt', ...opts.header };
      for (const [k, v] of Object.entries(header)) if (v === undefined) delete header[k];
      return new SignJWT(issuer.claims(overrides)).setProtectedHeader(header as { alg: string }).sign(key.privateKey);
    },
    close: srv.close,
  });
  return issuer as TestIssuer;
}

const b64 = (s: string | Uint8Array) => base64url.encode(s);

/** Signs raw header and payload *text* (so duplicates and arrays survive) with an RS256 test key. */
export function signRawRs256(headerText: string, payloadText: string, key: TestKey): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  const sig = createSign('sha256').update(input).sign(KeyObject.from(key.privateKey as unknown as webcrypto.CryptoKey));
  return `${input}.${b64(sig)}`;
}

/** Builds a compact token from arbitrary parts (no signing). */
export function rawToken(header: unknown, payload: unknown, signature = ''): string {
  const enc = (v: unknown) => b64(typeof v === 'string' ? v : JSON.stringify(v));
  return `${enc(header)}.${enc(payload)}.${signature}`;
}
