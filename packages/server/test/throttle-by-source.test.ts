import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createVerifier } from '@tessera/resource-server';
import { basic, freePort, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';
import { Agent, authParams, hidden, pkce, webClient } from './oidc-helpers.ts';
import { backends, postgres, type TestDatabase } from './support/backends.ts';
import { clusterSecret, startInstance, waitFor } from './support/cluster.ts';

/**
 * Issue 12 §1: an attacker's failures cost the attacker, not the victim. Client ids are public and
 * usernames guessable, so no counter may lock a client, a resource server's revocation feed or a user
 * out from everywhere. Source addresses are simulated with X-Forwarded-For from a trusted proxy
 * (trustProxy: 127.0.0.1, the test's own peer address), as a deployment behind a load balancer sees them.
 */
const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password'], scopes: ['orders:read'], audience: 'https://orders.example' };
const ordersRs = { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect' as const] };
const users = [
  { username: 'alice', password: 'alice-password-1', roles: ['user'] },
  { username: 'admin', password: 'admin-password-1', roles: ['user', 'admin'] },
  { username: 'carol', password: 'carol-password-1', roles: ['user'] },
  { username: 'dave', password: 'dave-password-12', roles: ['user'] },
];
const pw = (u: string) => users.find((x) => x.username === u)!.password;
const from = (ip: string) => ({ 'x-forwarded-for': ip });
const { challenge } = pkce();

async function assertThrottled(res: Response): Promise<void> {
  assert.equal(res.status, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry > 0 && retry <= 60, `Retry-After ${retry}`);
}

/** A browser at one source address: cookies kept, every request with that X-Forwarded-For. */
class Browser {
  readonly agent: Agent;
  /** `origin`: the issuer's (instances behind one issuer each check it). */
  constructor(base: string, readonly ip: string, readonly origin = base) {
    this.agent = new Agent(base);
  }

  /** Opens a login page for a new authorization request (prompt=login: also when signed in) and submits it. */
  async signIn(username: string, password: string): Promise<Response> {
    const start = await this.agent.get(`/authorize?${authParams(challenge, { prompt: 'login' })}`, from(this.ip));
    assert.match(start.headers.get('location') ?? '', /^\/login\?/);
    const page = await (await this.agent.get(start.headers.get('location')!, from(this.ip))).text();
    return this.agent.post('/login', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, username, password }, { ...from(this.ip), origin: this.origin });
  }
}

for (const backend of backends) {
  describe(`throttling by source (${backend.name})`, () => {
    let db: TestDatabase;
    let s: Running;
    before(async () => {
      db = await backend.create();
      s = await startServer({
        databaseUrl: db.url,
        trustProxy: ['127.0.0.1'],
        clients: [serviceClient, webClient, legacy, ordersRs],
        users,
        clientAuth: { maxFailuresPerClient: 3, maxFailuresPerIp: 40, window: 60 },
        login: { maxFailuresPerAccount: 3, maxFailuresPerIp: 40, window: 60, slowDownAfter: 4, maxDelay: 1 },
      });
    });
    after(async () => {
      await s?.dispose();
      await db?.drop();
    });

    const svcToken = (ip: string, secret = SERVICE_SECRET) => postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret), ...from(ip) });

    test('client secrets at /token, /revoke, /introspect: the attacker is throttled, the client still works from its own address', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await svcToken('203.0.113.10', `wrong-secret-${i}-xxxxxxxxxx`)).status, 401);
      await assertThrottled(await svcToken('203.0.113.10'));
      assert.equal(((await (await svcToken('203.0.113.10')).json()) as { error: string }).error, 'temporarily_unavailable');
      // Wrong secrets from many addresses: each address is throttled on its own, the client never.
      for (const ip of ['203.0.113.11', '203.0.113.12', '203.0.113.13']) {
        for (let i = 0; i < 3; i++) await svcToken(ip, 'wrong-secret-xxxxxxxxxxxxx');
        await assertThrottled(await svcToken(ip));
      }
      const ok = await svcToken('198.51.100.7');
      assert.equal(ok.status, 200, 'the right secret from the client\'s address');
      const token = ((await ok.json()) as { access_token: string }).access_token;
      const svc = { authorization: basic('svc', SERVICE_SECRET), ...from('198.51.100.7') };
      const intro = await postForm(`${s.url}/introspect`, { token }, svc);
      assert.equal(((await intro.json()) as { active: boolean }).active, true);
      await assertThrottled(await postForm(`${s.url}/introspect`, { token }, { ...svc, ...from('203.0.113.10') }));
      await assertThrottled(await postForm(`${s.url}/revoke`, { token }, { ...svc, ...from('203.0.113.10') }));
      assert.equal((await postForm(`${s.url}/revoke`, { token }, svc)).status, 200);
    });

    test('the revocation feed: wrong secrets as the resource server throttle the attacker; the resource server keeps reading it', async () => {
      const wrong = { authorization: basic('orders-rs', 'wrong-secret-xxxxxxxxxxxxx'), ...from('203.0.113.30') };
      for (let i = 0; i < 3; i++) assert.equal((await fetch(`${s.url}/revocations`, { headers: wrong })).status, 401);
      await assertThrottled(await fetch(`${s.url}/revocations`, { headers: { ...wrong, authorization: basic('orders-rs', RS_SECRET) } }));
      await assertThrottled(await fetch(`${s.url}/revocations/stream`, { headers: { ...wrong, accept: 'text/event-stream' } }));

      // The resource server, at its own address, connects after the attack and keeps working.
      const rsFetch: typeof fetch = (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...from('198.51.100.20') } });
      const errors: string[] = [];
      const rs = createVerifier({
        issuer: s.url,
        audience: 'https://orders.example',
        revocation: { feed: { clientId: 'orders-rs', clientSecret: RS_SECRET } },
        fetch: rsFetch,
        onError: (e) => errors.push(String(e)),
      });
      try {
        const token = ((await (await svcToken('198.51.100.7')).json()) as { access_token: string }).access_token;
        const auth = await rs.verify(token);
        assert.equal(auth.clientId, 'svc', 'the feed synchronised: no fail-closed 503');
        assert.equal((await postForm(`${s.url}/revoke`, { token }, { authorization: basic('svc', SERVICE_SECRET), ...from('198.51.100.7') })).status, 200);
        const refused = await waitFor(() => rs.verify(token).then(() => false, () => true), 3000);
        assert.ok(refused.ok, 'the revocation reached the resource server through the feed');
        assert.deepEqual(errors, [], 'the feed never failed');
      } finally {
        await rs.close();
      }
    });

    test('users at /login: the attacker\'s address is throttled, the owner signs in from another', async () => {
      const attacker = new Browser(s.url, '203.0.113.40');
      for (let i = 0; i < 3; i++) assert.equal((await attacker.signIn('alice', `bad-${i}-password`)).status, 401);
      const blocked = await attacker.signIn('alice', pw('alice'));
      await assertThrottled(blocked);
      assert.match(await blocked.text(), /Too many failed attempts/);
      const owner = await new Browser(s.url, '198.51.100.8').signIn('alice', pw('alice'));
      assert.equal(owner.status, 303, 'the right password from another address');
      assert.match(owner.headers.get('location') ?? '', /^\/authorize\/resume/);
    });

    test('the password grant: the attacker\'s address is throttled, the owner gets tokens from another', async () => {
      const grant = (ip: string, password: string) => postForm(`${s.url}/token`, { grant_type: 'password', username: 'carol', password }, { authorization: basic('legacy', LEGACY_SECRET), ...from(ip) });
      for (let i = 0; i < 3; i++) assert.equal((await grant('203.0.113.50', `bad-${i}-password`)).status, 400);
      const blocked = await grant('203.0.113.50', pw('carol'));
      await assertThrottled(blocked);
      assert.equal(((await blocked.json()) as { error: string }).error, 'temporarily_unavailable');
      assert.equal((await grant('198.51.100.9', pw('carol'))).status, 200);
    });

    test('guessing one account from many addresses only slows it down: the owner still signs in', async () => {
      // 2 addresses × 3 failures = 6 for dave, over slowDownAfter (4): strangers to dave are now delayed.
      for (const ip of ['203.0.113.60', '203.0.113.61']) {
        const b = new Browser(s.url, ip);
        for (let i = 0; i < 3; i++) assert.equal((await b.signIn('dave', `bad-${i}-password`)).status, 401);
        await assertThrottled(await b.signIn('dave', pw('dave')));
      }
      assert.equal((await new Browser(s.url, '198.51.100.10').signIn('dave', pw('dave'))).status, 303, 'slowed, never refused');
      await assertThrottled(await new Browser(s.url, '203.0.113.61').signIn('dave', pw('dave')));
    });

    test('a device cookie lets a browser that signed in before pass the account\'s limit (OWASP device cookies)', async () => {
      // The owner and the attacker share one address (one NAT): the account+address counter is the attacker's.
      const nat = '192.0.2.9';
      const owner = new Browser(s.url, nat);
      assert.equal((await owner.signIn('admin', pw('admin'))).status, 303);
      assert.ok(owner.agent.cookies.get('tessera-device'), 'a device cookie was set');
      const attacker = new Browser(s.url, nat);
      for (let i = 0; i < 3; i++) assert.equal((await attacker.signIn('admin', `bad-${i}-password`)).status, 401);
      await assertThrottled(await attacker.signIn('admin', pw('admin')));
      await assertThrottled(await new Browser(s.url, nat).signIn('admin', pw('admin')));

      assert.equal((await owner.signIn('admin', pw('admin'))).status, 303, 'the known browser gets in');

      // The cookie is bound to its account, signed, and guesses with it are counted on the cookie itself.
      for (let i = 0; i < 3; i++) await attacker.signIn('alice', `bad-${i}-password`);
      await assertThrottled(await owner.signIn('alice', pw('alice')));
      const forged = new Browser(s.url, nat);
      forged.agent.cookies.set('tessera-device', owner.agent.cookies.get('tessera-device')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
      await assertThrottled(await forged.signIn('admin', pw('admin')));
      const thief = new Browser(s.url, nat);
      thief.agent.cookies.set('tessera-device', owner.agent.cookies.get('tessera-device')!);
      for (let i = 0; i < 3; i++) assert.equal((await thief.signIn('admin', `bad-${i}-password`)).status, 401);
      await assertThrottled(await thief.signIn('admin', pw('admin')));
    });
  });
}

test('the device cookie on an https issuer: __Host-, Secure, HttpOnly, SameSite=Lax, a lifetime; never the password', async () => {
  const port = await freePort();
  const issuer = `https://localhost:${port}`;
  const t = await startServer({ port, issuer, clients: [serviceClient, webClient], users });
  try {
    const agent = new Agent(t.url);
    const start = await agent.get(`/authorize?${authParams(challenge)}`);
    const page = await (await agent.get(start.headers.get('location')!)).text();
    const res = await agent.post('/login', { iid: hidden(page, 'iid')!, csrf: hidden(page, 'csrf')!, username: 'alice', password: pw('alice') }, { origin: issuer });
    assert.equal(res.status, 303);
    const device = res.headers.getSetCookie().find((c) => c.startsWith('__Host-tessera-device='));
    assert.ok(device, res.headers.getSetCookie().join(' | '));
    for (const attr of [/; Secure/, /; HttpOnly/, /; SameSite=Lax/, /; Path=\//, /; Max-Age=2592000/]) assert.match(device, attr);
    assert.doesNotMatch(device, /Domain=|alice|usr_/);
  } finally {
    await t.dispose();
  }
});

test('two instances on one PostgreSQL share the counters and recognise each other\'s device cookies', async () => {
  const db = await postgres.create();
  const port = await freePort();
  const common = {
    databaseUrl: db.url, secret: clusterSecret(), issuer: `http://127.0.0.1:${port}`,
    overrides: { trustProxy: ['127.0.0.1'], clients: [serviceClient, webClient], users, clientAuth: { maxFailuresPerClient: 3, window: 60 }, login: { maxFailuresPerAccount: 3, window: 60 } },
  };
  const A = await startInstance({ ...common, port });
  const B = await startInstance(common);
  try {
    const svc = (node: { url: string }, ip: string, secret: string) => postForm(`${node.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', secret), ...from(ip) });
    for (let i = 0; i < 3; i++) assert.equal((await svc(A, '203.0.113.70', 'wrong-secret-xxxxxxxxxxxxx')).status, 401);
    await waitFor(async () => (await svc(B, '203.0.113.70', SERVICE_SECRET)).status === 429, 3000, 100);
    await assertThrottled(await svc(B, '203.0.113.70', SERVICE_SECRET));
    assert.equal((await svc(B, '198.51.100.70', SERVICE_SECRET)).status, 200);

    // Signed in on A; the attacker at the same address exhausts the account's limit on B; B lets the browser in.
    const owner = new Browser(A.url, '192.0.2.70');
    assert.equal((await owner.signIn('alice', pw('alice'))).status, 303);
    const attacker = new Browser(B.url, '192.0.2.70', A.url);
    for (let i = 0; i < 3; i++) assert.equal((await attacker.signIn('alice', `bad-${i}-password`)).status, 401);
    await assertThrottled(await new Browser(A.url, '192.0.2.70').signIn('alice', pw('alice')));
    const onB = new Browser(B.url, '192.0.2.70', A.url);
    onB.agent.cookies.set('tessera-device', owner.agent.cookies.get('tessera-device')!);
    assert.equal((await onB.signIn('alice', pw('alice'))).status, 303);
  } finally {
    await A.stop();
    await B.stop();
    await db.drop();
  }
});
