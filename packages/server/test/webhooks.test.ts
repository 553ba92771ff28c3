import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { basic, freePort, postForm, startServer, type Running } from './helpers.ts';
import { postgres, sqlite, type TestDatabase } from './support/backends.ts';
import { startChild, type ChildServer } from './support/child.ts';
import { clusterSecret, waitFor } from './support/cluster.ts';
import { createAuditStores, openDatabase, migrate, type Db } from '../src/storage/index.ts';
import { SecretBox } from '../src/engine/keys/secret-box.ts';
import { addSubscription, checkWebhookUrl, signWebhook } from '../src/engine/audit/webhooks.ts';
import { buildEvent, newId, webhookPayload } from '../src/engine/audit/recorder.ts';
import type { WebhookDelivery } from '../src/engine/audit/store.ts';

const BIN = fileURLToPath(new URL('../bin/tessera.mjs', import.meta.url));
/** Retries after 1 s, 2 s, 2 s …: the tests wait for deliveries, never for a fixed time. */
const FAST = { retryBase: 1, maxBackoff: 2, timeout: 5 };

interface Received { path: string; headers: IncomingHttpHeaders; body: string }

/** A local webhook receiver: records every request; can be taken down and brought back on the same port. */
class Receiver {
  readonly received: Received[] = [];
  #server: Server | undefined;
  /** What to answer (status, headers). */
  answer: { status: number; headers?: Record<string, string> } = { status: 204 };
  constructor(readonly port: number) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
  async up(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString('utf8')));
      req.on('end', () => {
        this.received.push({ path: req.url ?? '', headers: req.headers, body });
        res.writeHead(this.answer.status, this.answer.headers ?? {}).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.#server = server;
  }
  async down(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  /** Verified with the `standardwebhooks` library; throws on a bad signature. */
  verified(secret: string): { id: string; payload: { type: string; timestamp: string; data: Record<string, unknown> } }[] {
    const wh = new Webhook(secret);
    return this.received.map((r) => ({
      id: String(r.headers['webhook-id']),
      payload: wh.verify(r.body, { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) }) as never,
    }));
  }
}

const failClientAuth = (base: string) => postForm(`${base}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', 'not-the-service-secret-xxxxxxxx') });

test('signature: the Standard Webhooks scheme, checked against the library; URL rules', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const body = '{"type":"x"}';
  const ts = Math.floor(Date.now() / 1000);
  const sig = signWebhook(secret, 'msg_1', ts, body);
  assert.match(sig, /^v1,[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(new Webhook(secret).verify(body, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig }), { type: 'x' });
  assert.throws(() => new Webhook(secret).verify(body, { 'webhook-id': 'msg_2', 'webhook-timestamp': String(ts), 'webhook-signature': sig }), 'another id does not verify');
  assert.equal(checkWebhookUrl('https://hooks.example/x', true), 'https://hooks.example/x');
  assert.throws(() => checkWebhookUrl('http://127.0.0.1:9/x', true), /https in production/);
  assert.equal(checkWebhookUrl('http://127.0.0.1:9/x', false), 'http://127.0.0.1:9/x');
  assert.throws(() => checkWebhookUrl('http://hooks.example/x', false), /http only to 127\.0\.0\.1/);
  assert.throws(() => checkWebhookUrl('https://u:p@hooks.example/x', false), /credentials/);
  assert.throws(() => checkWebhookUrl('ftp://hooks.example/x', false));
});

describe('webhooks on SQLite (issue 16 §5)', () => {
  let s: Running;
  let receiver: Receiver;
  let secret: string;
  let subId: string;
  const cfgFile = () => join(s.dataDir, 'cli.json');
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, '--config', cfgFile(), ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_ENV: 'test', TESSERA_SECRET: '', DATABASE_URL: '', TESSERA_CONFIG: '' } });
  const deliveries = () => {
    const r = cli('webhooks', 'deliveries', '--webhook', subId, '--json');
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as WebhookDelivery[];
  };

  before(async () => {
    receiver = new Receiver(await freePort());
    await receiver.up();
    s = await startServer({ webhooks: FAST });
    writeFileSync(cfgFile(), JSON.stringify({ dataDir: s.dataDir, databaseUrl: s.tessera.ctx.config.databaseUrl }));
  });
  after(async () => {
    await s.dispose();
    await receiver.down();
  });

  test('tessera webhooks add|list|remove; a refused URL; the secret is shown once and stored encrypted', async () => {
    const refused = cli('webhooks', 'add', 'http://hooks.example/x', '--event', '*');
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /https/);
    const added = cli('webhooks', 'add', receiver.url, '--event', 'client_auth_failed', 'token_revoked');
    assert.equal(added.status, 0, added.stderr);
    secret = /signing secret: (whsec_\S+)/.exec(added.stdout)![1]!;
    subId = /webhook (wh_\S+) added/.exec(added.stdout)![1]!;
    const listed = cli('webhooks', 'list');
    assert.match(listed.stdout, new RegExp(`${subId}\\s+${receiver.url.replace(/[.]/g, '\\.')}\\s+client_auth_failed,token_revoked`));
    assert.ok(!listed.stdout.includes(secret));
    const stored = await createAuditStores(s.tessera.db).webhooks.get(subId);
    assert.ok(stored && !stored.secretEnc.includes(secret.slice(6)), 'the secret is encrypted at rest');
    const extra = cli('webhooks', 'add', receiver.url, '--event', '*');
    const extraId = /webhook (wh_\S+) added/.exec(extra.stdout)![1]!;
    assert.equal(cli('webhooks', 'remove', extraId).status, 0);
    assert.equal(cli('webhooks', 'remove', extraId).status, 2, 'already gone');
    assert.doesNotMatch(cli('webhooks', 'list').stdout, new RegExp(extraId));
  });

  test('an event is delivered signed (verified with standardwebhooks); the delivery records its status', async () => {
    assert.equal((await failClientAuth(s.url)).status, 401);
    assert.ok((await waitFor(() => receiver.received.length === 1, 30_000)).ok, 'delivered');
    const [got] = receiver.verified(secret);
    assert.equal(got!.payload.type, 'client_auth_failed');
    assert.equal(got!.payload.data.clientId, 'svc');
    assert.equal(got!.payload.data.outcome, 'failure');
    assert.ok(!receiver.received[0]!.body.includes('not-the-service-secret'));
    assert.equal(receiver.received[0]!.headers['content-type'], 'application/json');
    const d = deliveries();
    assert.equal(d.length, 1);
    assert.equal(d[0]!.id, got!.id);
    assert.equal(d[0]!.status, 'delivered');
    assert.equal(d[0]!.attempts, 1);
    assert.equal(d[0]!.lastStatus, 204);
  });

  test('receiver down: retried with backoff, delivered once it is back (same webhook-id)', async () => {
    receiver.received.length = 0;
    await receiver.down();
    assert.equal((await failClientAuth(s.url)).status, 401);
    const retried = await waitFor(() => deliveries().some((d) => d.status === 'pending' && d.attempts >= 2 && d.lastError !== undefined), 60_000, 250);
    assert.ok(retried.ok, 'failed attempts are recorded and retried');
    await receiver.up();
    assert.ok((await waitFor(() => receiver.received.length === 1, 60_000)).ok, 'delivered after the receiver came back');
    const [got] = receiver.verified(secret);
    const row = deliveries().find((d) => d.id === got!.id)!;
    assert.equal(row.status, 'delivered');
    assert.ok(row.attempts >= 3);
  });

  test('a redirect is not followed and counts as a failed attempt', async () => {
    receiver.received.length = 0;
    receiver.answer = { status: 302, headers: { location: `http://127.0.0.1:${receiver.port}/elsewhere` } };
    try {
      assert.equal((await failClientAuth(s.url)).status, 401);
      const failed = await waitFor(() => deliveries().some((d) => d.status === 'pending' && d.lastStatus === 302), 30_000, 250);
      assert.ok(failed.ok);
      assert.ok(receiver.received.length >= 1);
      assert.ok(receiver.received.every((r) => r.path === '/hook'), 'the Location was never requested');
    } finally {
      receiver.answer = { status: 204 };
    }
    assert.ok((await waitFor(() => deliveries().every((d) => d.status === 'delivered'), 60_000, 250)).ok, 'delivered once the receiver answers 2xx');
  });
});

describe('webhooks survive a SIGKILL (issue 16 §5)', () => {
  test('queued deliveries of a killed server are delivered after the restart', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-wh-crash-'));
    const receiver = new Receiver(await freePort());
    const db: TestDatabase = await sqlite.create();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const file = join(dir, 'tessera.json');
    const secret = clusterSecret();
    writeFileSync(file, JSON.stringify({
      issuer: url, port, host: '127.0.0.1', dataDir: dir, databaseUrl: db.url, logLevel: 'warn', webhooks: FAST,
      clients: [{ id: 'svc', secret: 'service-secret-0123456789abcdef', grants: ['client_credentials'], scopes: ['a'] }],
    }));
    let child: ChildServer | undefined;
    let handle: Db | undefined;
    try {
      child = await startChild(file, url, secret);
      handle = openDatabase(db.url);
      await migrate(handle);
      const stores = createAuditStores(handle);
      const sub = await addSubscription(stores.webhooks, new SecretBox(secret), { url: receiver.url, eventTypes: ['client_auth_failed'], production: false });
      // The receiver is down: three events are queued and fail their first attempts.
      for (let i = 0; i < 3; i++) assert.equal((await failClientAuth(url)).status, 401);
      const queued = await waitFor(async () => {
        const d = await stores.webhooks.deliveries({ subscriptionId: sub.subscription.id });
        return d.length === 3 && d.every((x) => x.attempts >= 1 && x.status === 'pending');
      }, 60_000, 100);
      assert.ok(queued.ok, 'three deliveries queued and attempted');
      await child.kill9();
      child = undefined;
      await receiver.up();
      child = await startChild(file, url, secret);
      assert.ok((await waitFor(() => receiver.received.length >= 3, 60_000)).ok, `delivered after the restart:\n${child.output().slice(-2000)}`);
      const got = receiver.verified(sub.secret);
      const ids = new Set(got.map((g) => g.id));
      const rows = await stores.webhooks.deliveries({ subscriptionId: sub.subscription.id });
      assert.deepEqual([...ids].sort(), rows.map((r) => r.id).sort(), 'every queued delivery arrived');
      assert.ok((await waitFor(async () => (await stores.webhooks.deliveries({ subscriptionId: sub.subscription.id, status: 'delivered' })).length === 3, 30_000, 100)).ok);
    } finally {
      await child?.stop();
      await handle?.close();
      await receiver.down();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('webhooks with two instances on PostgreSQL (issue 16 §5)', () => {
  test('two instances share the outbox and never deliver the same row twice', { timeout: 180_000 }, async () => {
    const db = await postgres.create();
    const receiver = new Receiver(await freePort());
    await receiver.up();
    const a = await startServer({ databaseUrl: db.url, webhooks: FAST });
    // Same data dir: the same deployment secret, so both decrypt the subscription's secret.
    const b = await startServer({ databaseUrl: db.url, webhooks: FAST }, a.dataDir);
    try {
      const box = a.tessera.ctx.box;
      const stores = createAuditStores(a.tessera.db);
      const sub = await addSubscription(stores.webhooks, box, { url: receiver.url, eventTypes: ['*'], production: false });
      // 60 events written straight into the shared outbox: both workers race for them.
      const n = 60;
      for (let i = 0; i < n; i++) {
        const e = buildEvent('load_probe', { n: i }, Date.now());
        await stores.audit.append(e, () => webhookPayload(e), newId);
      }
      // And some through each instance's HTTP side.
      for (const base of [a.url, b.url, a.url, b.url]) assert.equal((await failClientAuth(base)).status, 401);
      await a.tessera.audit.flush();
      await b.tessera.audit.flush();
      const total = n + 4;
      const done = await waitFor(async () => (await stores.webhooks.deliveries({ status: 'delivered', limit: 1000 })).length === total, 120_000, 200);
      assert.ok(done.ok, `all ${total} delivered`);
      const ids = receiver.received.map((r) => String(r.headers['webhook-id']));
      assert.equal(ids.length, total, 'one request per delivery');
      assert.equal(new Set(ids).size, total, 'no delivery was sent twice');
      const verified = receiver.verified(sub.secret);
      assert.equal(verified.filter((v) => v.payload.type === 'load_probe').length, n);
    } finally {
      await b.stop();
      await a.dispose();
      await receiver.down();
      await db.drop();
    }
  });
});

for (const backend of [sqlite, postgres]) {
  test(`outbox claim on ${backend.name}: two handles claiming at once never get the same row`, async () => {
    const db = await backend.create();
    const one = openDatabase(db.url);
    const two = openDatabase(db.url);
    try {
      await migrate(one);
      const box = new SecretBox(clusterSecret());
      const a = createAuditStores(one);
      const b = createAuditStores(two);
      await addSubscription(a.webhooks, box, { url: 'http://127.0.0.1:9/x', eventTypes: ['*'], production: false });
      for (let i = 0; i < 30; i++) {
        const e = buildEvent('claim_probe', { n: i }, Date.now() - 1000);
        await a.audit.append(e, () => webhookPayload(e), newId);
      }
      const now = Date.now();
      const [x, y] = await Promise.all([a.webhooks.claim('owner-a', now, now + 60_000, 30), b.webhooks.claim('owner-b', now, now + 60_000, 30)]);
      const ids = [...x, ...y].map((d) => d.id);
      assert.equal(ids.length, 30, 'every due row was claimed by one of them');
      assert.equal(new Set(ids).size, 30, 'no row was claimed twice');
      assert.deepEqual(await a.webhooks.claim('owner-c', now, now + 60_000, 30), [], 'leased rows are not claimable');
      const later = now + 61_000;
      assert.equal((await a.webhooks.claim('owner-c', later, later + 60_000, 30)).length, 30, 'an expired lease (a dead instance) is taken over');
      assert.equal(await a.webhooks.finish(x[0]?.id ?? y[0]!.id, 'owner-a', { status: 'delivered', httpStatus: 200, error: undefined, nextAttemptAt: later, nowMs: later }), false, 'a lost lease cannot record an outcome');
    } finally {
      await one.close();
      await two.close();
      await db.drop();
    }
  });
}
