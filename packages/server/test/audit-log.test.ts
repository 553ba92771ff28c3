import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { basic, postForm, startServer, type Running } from './helpers.ts';
import { Agent, authParams, hidden, location, pkce, startOidcServer, webClient, users } from './oidc-helpers.ts';
import { backends, type TestDatabase } from './support/backends.ts';
import { waitFor } from './support/cluster.ts';
import { createAuditStores } from '../src/storage/index.ts';
import type { AuditEvent } from '../src/engine/audit/store.ts';
import { buildEvent, newId, webhookPayload } from '../src/engine/audit/recorder.ts';

const BIN = fileURLToPath(new URL('../bin/tessera.mjs', import.meta.url));
const LEGACY_SECRET = 'legacy-audit-secret-0123456789ab';
const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const ALICE_PASSWORD = users[0]!.password;
const L = { authorization: basic('legacy', LEGACY_SECRET) };

for (const backend of backends) {
  describe(`audit log on ${backend.name} (issue 16 §4)`, () => {
    let db: TestDatabase;
    let s: Running;
    let events: (q: { type?: string; user?: string; client?: string }) => Promise<AuditEvent[]>;
    before(async () => {
      db = await backend.create();
      s = await startOidcServer({ databaseUrl: db.url, clients: [webClient, legacy], refreshTokens: { graceSeconds: 0 } });
      const store = createAuditStores(s.tessera.db).audit;
      events = async (q) => {
        await s.tessera.audit.flush();
        return store.query(q);
      };
    });
    after(async () => {
      await s.dispose();
      await db.drop();
    });

    const password = async () => {
      const r = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'alice', password: ALICE_PASSWORD }, L);
      assert.equal(r.status, 200);
      return (await r.json()) as { access_token: string; refresh_token: string };
    };
    const noSecrets = (e: AuditEvent, ...secrets: string[]) => {
      const text = JSON.stringify(e);
      for (const x of [...secrets, LEGACY_SECRET, ALICE_PASSWORD]) assert.ok(!text.includes(x), `the event holds no secret: ${text}`);
    };

    test('a refresh-token reuse: one refresh_token_reuse event with subject, client, IP, outcome; no token in it', async () => {
      const t0 = await password();
      const r1 = await postForm(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: t0.refresh_token }, L);
      assert.equal(r1.status, 200);
      const t1 = (await r1.json()) as { access_token: string; refresh_token: string };
      const reuse = await postForm(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: t0.refresh_token }, L);
      assert.equal(reuse.status, 400);
      const found = await events({ type: 'refresh_token_reuse' });
      assert.equal(found.length, 1);
      const e = found[0]!;
      const sub = (await s.tessera.ctx.stores.users.findByLogin('alice'))!.sub;
      assert.equal(e.subject, sub);
      assert.equal(e.clientId, 'legacy');
      assert.equal(e.ip, '127.0.0.1');
      assert.equal(e.outcome, 'failure');
      assert.equal(typeof e.details.familyId, 'string');
      assert.ok(Math.abs(e.time - Date.now()) < 5 * 60_000, 'time is epoch milliseconds of now');
      noSecrets(e, t0.refresh_token, t1.refresh_token, t0.access_token, t1.access_token);
      // The revocation that followed is its own event type, not a second reuse.
      assert.equal((await events({ type: 'refresh_token_reuse', user: sub })).length, 1);
    });

    test('a failed login at the login page: one login_failed event with client, IP, user agent; never the password', async () => {
      const agent = new Agent(s.url);
      const res = await agent.get(`/authorize?${authParams(pkce().challenge)}`);
      const page = await (await agent.get(location(res))).text();
      const wrong = 'wrong-password-for-audit-test';
      const failed = await agent.post('/login', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, username: 'alice', password: wrong }, { 'user-agent': 'AuditTest/1.0' });
      assert.equal(failed.status, 401);
      const found = (await events({ type: 'login_failed', client: webClient.id })).filter((e) => e.userAgent === 'AuditTest/1.0');
      assert.equal(found.length, 1);
      const e = found[0]!;
      assert.equal(e.outcome, 'failure');
      assert.equal(e.ip, '127.0.0.1');
      assert.equal(e.details.username, 'alice');
      assert.equal(e.details.via, 'login_page');
      noSecrets(e, wrong);
    });

    test('a failed client authentication and a revocation each leave one event with the actor', async () => {
      const bad = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('legacy', 'not-the-secret-xxxxxxxxxxxx') });
      assert.equal(bad.status, 401);
      const failedAuth = await events({ type: 'client_auth_failed', client: 'legacy' });
      assert.equal(failedAuth.length, 1);
      noSecrets(failedAuth[0]!, 'not-the-secret-xxxxxxxxxxxx');

      const t = await password();
      assert.equal((await postForm(`${s.url}/revoke`, { token: t.access_token }, L)).status, 200);
      const revoked = (await events({ type: 'token_revoked', client: 'legacy' })).filter((e) => e.details.kind === 'access_token');
      assert.equal(revoked.length, 1);
      const e = revoked[0]!;
      assert.equal(e.actor, 'legacy');
      assert.equal(e.subject, (await s.tessera.ctx.stores.users.findByLogin('alice'))!.sub);
      noSecrets(e, t.access_token, t.refresh_token);
    });

    test('an admin change through the CLI: one client_created event with the CLI actor, queryable by `tessera audit list`; JSON line without the secret', async () => {
      const cfg = join(s.dataDir, 'cli.json');
      writeFileSync(cfg, JSON.stringify({ dataDir: s.dataDir, databaseUrl: db.url, logLevel: 'info' }));
      const run = (...args: string[]) => spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_ENV: 'test', TESSERA_SECRET: '', DATABASE_URL: '', TESSERA_CONFIG: '' } });
      const created = run('clients', 'create', '--id', 'audited', '--scope', 'a');
      assert.equal(created.status, 0, created.stderr);
      const secret = /client_secret: (\S+)/.exec(created.stdout)?.[1];
      assert.ok(secret);
      const line = created.stderr.split('\n').find((l) => l.includes('"audit event: client_created"'));
      assert.ok(line, `a JSON log line on stderr: ${created.stderr}`);
      assert.equal((JSON.parse(line) as { audit: AuditEvent }).audit.clientId, 'audited');
      assert.ok(!created.stderr.includes(secret), 'the log line holds no secret');

      const listed = run('audit', 'list', '--type', 'client_created', '--client', 'audited', '--since', '1h', '--json');
      assert.equal(listed.status, 0, listed.stderr);
      const found = JSON.parse(listed.stdout) as AuditEvent[];
      assert.equal(found.length, 1);
      assert.match(found[0]!.actor ?? '', /^cli:/);
      assert.equal(found[0]!.outcome, 'success');
      assert.ok(!listed.stdout.includes(secret));
      assert.equal((await events({ type: 'client_created', client: 'audited' })).length, 1, 'the server sees the same store');
      assert.equal(run('audit', 'list', '--limit', '0').status, 2, 'a bad --limit is refused');
      assert.equal(run('audit', 'list', '--since', 'yesterday-ish').status, 2, 'a bad --since is refused');
    });

    test('retention: events older than audit.retention are pruned in the background, newer ones stay', async () => {
      const store = createAuditStores(s.tessera.db).audit;
      const old = { ...buildEvent('retention_probe', { outcome: 'success' }, Date.now() - 91 * 86400_000) };
      const recent = { ...buildEvent('retention_probe', { outcome: 'success' }, Date.now() - 89 * 86400_000) };
      for (const e of [old, recent]) await store.append(e, () => webhookPayload(e), newId);
      assert.equal((await store.query({ type: 'retention_probe' })).length, 2);
      // A second instance on the same database prunes when it starts (and hourly); the first is unaffected.
      const second = await startServer({ databaseUrl: db.url, clients: [legacy] }, s.dataDir);
      try {
        const pruned = await waitFor(async () => (await store.query({ type: 'retention_probe' })).length === 1, 30_000, 100);
        assert.ok(pruned.ok, 'the old event was pruned');
        assert.deepEqual((await store.query({ type: 'retention_probe' })).map((e) => e.id), [recent.id]);
      } finally {
        await second.stop();
      }
    });
  });
}
