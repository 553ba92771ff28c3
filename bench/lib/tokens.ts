import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Agent, authParams, authorize, pkce } from '../../packages/server/test/oidc-helpers.ts';
import { ALICE, CC_BODY, FORM, SVC, WEB, basic } from './fixtures.ts';

export type Metadata = Record<string, unknown> & { grant_types_supported?: string[]; introspection_endpoint?: string };

export async function discovery(issuer: string): Promise<Metadata> {
  const res = await fetch(`${issuer}/.well-known/oauth-authorization-server`);
  if (!res.ok) throw new Error(`discovery answered ${res.status}`);
  return (await res.json()) as Metadata;
}

export async function postToken(url: string, body: string, auth = basic(SVC.id, SVC.secret)): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': FORM, authorization: auth }, body });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status} ${String(json.error)}`);
  return json;
}

/** Checks one client-credentials answer: a compact JWS with the expected alg. Returns the token. */
export async function probeClientCredentials(url: string, alg: string): Promise<string> {
  const body = await postToken(url, CC_BODY);
  const token = String(body.access_token);
  const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { alg?: string; typ?: string };
  if (token.split('.').length !== 3 || header.alg !== alg) throw new Error(`expected a ${alg} JWT access token, got alg ${header.alg}`);
  return token;
}

/** `n` distinct client-credentials tokens, fetched `concurrency` at a time. */
export async function tokenPool(url: string, n: number, concurrency = 8): Promise<string[]> {
  const out: string[] = [];
  let left = n;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) out.push(String((await postToken(url, CC_BODY)).access_token));
  }));
  return out;
}

export interface CodeItem {
  code: string;
  verifier: string;
}

const s256 = (v: string) => createHash('sha256').update(v).digest('base64url');

/**
 * A pool of authorization codes for the web app. One code comes from the real browser flow
 * (authorize → login → consent); the rest are clones of its stored row with a fresh code and PKCE
 * challenge, written straight into the data directory's SQLite file, so the timed run redeems codes
 * whose rows are exactly what /authorize stores.
 */
export async function codePool(issuer: string, dataDir: string, n: number, scope: string): Promise<CodeItem[]> {
  const first = pkce();
  const cb = await authorize(new Agent(issuer), authParams(first.challenge, { scope }), ALICE);
  const code = cb.searchParams.get('code');
  if (!code) throw new Error('the code flow returned no code');
  const out: CodeItem[] = [{ code, verifier: first.verifier }];
  const db = new Database(join(dataDir, 'tessera.db'));
  try {
    db.pragma('busy_timeout = 5000');
    const template = db.prepare('SELECT * FROM authorization_codes WHERE code_hash = ?').get(s256(code)) as Record<string, unknown> | undefined;
    if (!template) throw new Error('cannot find the stored code row (schema changed?)');
    const cols = Object.keys(template);
    const insert = db.prepare(`INSERT INTO authorization_codes (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
    const now = Math.floor(Date.now() / 1000);
    db.transaction(() => {
      for (let i = 1; i < n; i++) {
        const item = { code: randomBytes(32).toString('base64url'), verifier: randomBytes(32).toString('base64url') };
        insert.run({ ...template, code_hash: s256(item.code), code_challenge: s256(item.verifier), created_at: now, expires_at: now + 600 });
        out.push(item);
      }
    })();
  } finally {
    db.close();
  }
  return out;
}

export function codeBody(c: CodeItem): string {
  return new URLSearchParams({ grant_type: 'authorization_code', code: c.code, redirect_uri: WEB.redirect, code_verifier: c.verifier }).toString();
}

export const webAuth = () => basic(WEB.id, WEB.secret);

/** One real refresh token from the browser flow and a code exchange (scope `orders:read`). */
export async function realRefreshToken(issuer: string, dataDir: string): Promise<string> {
  const [c] = await codePool(issuer, dataDir, 1, 'orders:read');
  const body = await postToken(issuer, codeBody(c!), webAuth());
  if (typeof body.refresh_token !== 'string') throw new Error('the code exchange returned no refresh token');
  return body.refresh_token;
}

/**
 * Clones the stored family and token rows of `template` (a real refresh token) `n` times, each with
 * its own family id and token hash, as if `n` users had signed in. Returns the token values when
 * `keep` (a pool for rotation), else an empty list (stored history only).
 */
export function cloneRefreshTokens(dataDir: string, template: string, n: number, keep: boolean): string[] {
  const db = new Database(join(dataDir, 'tessera.db'));
  const out: string[] = [];
  try {
    db.pragma('busy_timeout = 5000');
    const token = db.prepare('SELECT * FROM refresh_tokens WHERE token_hash = ?').get(s256(template)) as Record<string, unknown> | undefined;
    if (!token) throw new Error('cannot find the stored refresh-token row (schema changed?)');
    const family = db.prepare('SELECT * FROM refresh_families WHERE family_id = ?').get(token.family_id) as Record<string, unknown>;
    const insert = (table: string, row: Record<string, unknown>) =>
      db.prepare(`INSERT INTO ${table} (${Object.keys(row).join(', ')}) VALUES (${Object.keys(row).map((c) => `@${c}`).join(', ')})`);
    const insFamily = insert('refresh_families', family);
    const insToken = insert('refresh_tokens', token);
    const batch = 50_000;
    for (let done = 0; done < n; done += batch) {
      db.transaction(() => {
        for (let i = done; i < Math.min(n, done + batch); i++) {
          const familyId = randomBytes(16).toString('base64url');
          const value = randomBytes(32).toString('base64url');
          insFamily.run({ ...family, family_id: familyId });
          insToken.run({ ...token, family_id: familyId, token_hash: s256(value) });
          if (keep) out.push(value);
        }
      })();
    }
  } finally {
    db.close();
  }
  return out;
}
