import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basic, freePort, postForm } from './helpers.ts';
import { backends } from './support/backends.ts';
import { startChild, type ChildServer } from './support/child.ts';
import { clusterSecret, waitFor } from './support/cluster.ts';

/**
 * Issue 6 §5: `kill -9` during load loses nothing that was acknowledged. Tessera runs as a real
 * process (`bin/tessera.mjs --config … serve`); workers log in, rotate refresh tokens and revoke some;
 * the process is SIGKILLed mid-load and started again on the same database. Every answer a client got
 * before the kill must still hold: refresh tokens it holds still refresh, what it revoked stays revoked,
 * the published keys are the same. (A request still in flight at the kill has no answer to hold the
 * server to; its family is left out, and counted.)
 */
const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const clients = [
  { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' },
  { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect'] },
];
const L = { authorization: basic('legacy', LEGACY_SECRET) };
const RS = { authorization: basic('orders-rs', RS_SECRET) };

interface Family {
  rt: string;
  /** Every access token issued in the family, newest last. */
  ats: string[];
  revoked: boolean;
  /** Access tokens revoked on their own (RFC 7009 with an access token). */
  deniedAts: string[];
  /** A request about this family had no answer when the process died. */
  inFlight: boolean;
}

class Load {
  readonly families: Family[] = [];
  readonly unexpected: string[] = [];
  #stopped = false;

  constructor(private readonly url: string) {}

  get counts(): { live: number; revoked: number; denied: number } {
    const settled = this.families.filter((f) => !f.inFlight);
    return {
      live: settled.filter((f) => !f.revoked).length,
      revoked: settled.filter((f) => f.revoked).length,
      denied: settled.reduce((n, f) => n + f.deniedAts.length, 0),
    };
  }

  run(workers: number): Promise<void> {
    return Promise.all(Array.from({ length: workers }, () => this.#worker())).then(() => undefined);
  }

  stop(): void {
    this.#stopped = true;
  }

  /** One acknowledged call: the JSON body of a 200, `undefined` after a network error (the process died). */
  async #call(path: string, form: Record<string, string>): Promise<Record<string, string> | undefined> {
    let res: Response;
    let text: string;
    try {
      res = await postForm(`${this.url}${path}`, form, L);
      text = await res.text();
    } catch {
      this.#stopped = true;
      return undefined;
    }
    if (res.status !== 200) {
      this.unexpected.push(`${path} ${res.status} ${(JSON.parse(text || '{}') as { error?: string }).error ?? ''}`);
      this.#stopped = true;
      return undefined;
    }
    return text ? (JSON.parse(text) as Record<string, string>) : {};
  }

  async #worker(): Promise<void> {
    while (!this.#stopped) {
      const t = await this.#call('/token', { grant_type: 'password', username: 'alice', password: 'alice-password-1' });
      if (!t) return;
      const f: Family = { rt: t.refresh_token!, ats: [t.access_token!], revoked: false, deniedAts: [], inFlight: false };
      this.families.push(f);
      for (let i = 0, n = 1 + Math.floor(Math.random() * 3); i < n; i++) {
        f.inFlight = true;
        const r = await this.#call('/token', { grant_type: 'refresh_token', refresh_token: f.rt });
        if (!r) return;
        f.rt = r.refresh_token!;
        f.ats.push(r.access_token!);
        f.inFlight = false;
      }
      const choice = Math.random();
      if (choice < 0.34) {
        f.inFlight = true;
        if (!(await this.#call('/revoke', { token: f.rt }))) return;
        f.revoked = true;
        f.inFlight = false;
      } else if (choice < 0.67) {
        const at = f.ats.at(-1)!;
        f.inFlight = true;
        if (!(await this.#call('/revoke', { token: at }))) return;
        f.deniedAts.push(at);
        f.inFlight = false;
      }
    }
  }
}

const kids = (jwks: { keys: { kid: string }[] }) => jwks.keys.map((k) => k.kid).sort();

for (const backend of backends) {
  test(`kill -9 under load on ${backend.name}: acknowledged refresh tokens still refresh, revoked stay revoked, same keys`, async () => {
    const db = await backend.create();
    const dir = mkdtempSync(join(tmpdir(), 'tessera-crash-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const file = join(dir, 'tessera.json');
    writeFileSync(file, JSON.stringify({
      issuer: url, port, host: '127.0.0.1', dataDir: dir, databaseUrl: db.url, logLevel: 'warn',
      clients, users: [{ username: 'alice', password: 'alice-password-1' }],
    }));
    const secret = clusterSecret();
    let child: ChildServer | undefined;
    try {
      child = await startChild(file, url, secret);
      const jwksBefore = (await (await fetch(`${url}/jwks.json`)).json()) as { keys: { kid: string }[] };

      const load = new Load(url);
      const running = load.run(6);
      const enough = await waitFor(() => {
        const c = load.counts;
        return c.live >= 10 && c.revoked >= 3 && c.denied >= 3;
      }, 30_000, 20);
      assert.ok(enough.ok, `not enough load before the kill: ${JSON.stringify(load.counts)} ${load.unexpected.join('; ')}`);
      await child.kill9();
      await running;
      load.stop();
      assert.deepEqual(load.unexpected, [], 'every request before the kill succeeded');

      child = await startChild(file, url, secret);
      const jwksAfter = (await (await fetch(`${url}/jwks.json`)).json()) as { keys: { kid: string }[] };
      assert.deepEqual(kids(jwksAfter), kids(jwksBefore), 'the same signing keys after the restart');
      assert.deepEqual(jwksAfter, jwksBefore);

      const introspect = async (token: string) =>
        ((await (await postForm(`${url}/introspect`, { token }, RS)).json()) as { active: boolean }).active;
      const settled = load.families.filter((f) => !f.inFlight);
      for (const [i, f] of settled.entries()) {
        const res = await postForm(`${url}/token`, { grant_type: 'refresh_token', refresh_token: f.rt }, L);
        if (f.revoked) {
          assert.equal(res.status, 400, `family ${i}: a revoked refresh token came back`);
          for (const at of f.ats) assert.equal(await introspect(at), false, `family ${i}: an access token of a revoked family is active`);
        } else {
          assert.equal(res.status, 200, `family ${i}: an acknowledged refresh token no longer refreshes`);
          assert.equal(await introspect(f.ats.at(-1)!), !f.deniedAts.includes(f.ats.at(-1)!), `family ${i}: newest access token`);
        }
        for (const at of f.deniedAts) assert.equal(await introspect(at), false, `family ${i}: a revoked access token is active`);
      }
      const c = load.counts;
      assert.ok(settled.length >= 13, `${settled.length} families checked (${JSON.stringify(c)}; ${load.families.length - settled.length} in flight at the kill)`);
    } finally {
      await child?.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
