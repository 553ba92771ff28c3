import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { basic, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';

const LEGACY_SECRET = 'legacy-app-secret-0123456789ab';
const RS_SECRET = 'orders-rs-secret-0123456789abc';
const OTHER_SECRET = 'other-app-secret-0123456789abc';

const legacy = { id: 'legacy', secret: LEGACY_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read', 'orders:write', 'profile'], audience: 'https://orders.example' };
const other = { id: 'other', secret: OTHER_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const graceful = { id: 'graceful', secret: 'graceful-secret-0123456789abcd', grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const ordersRs = { id: 'orders-rs', secret: RS_SECRET, grants: ['client_credentials'], scopes: [], audience: 'https://orders.example', permissions: ['introspect' as const] };
const users = [
  { username: 'alice', password: 'alice-password-1', roles: ['user'] },
  { username: 'bob', password: 'bob-password-123', roles: ['user'] },
];

interface Tokens { access_token: string; refresh_token: string; scope: string }

describe('refresh tokens, revocation, introspection, feed (issue 4)', () => {
  let s: Running;
  let g: Running;
  let strict: Running;
  before(async () => {
    s = await startServer({ clients: [serviceClient, legacy, other, ordersRs], users });
    g = await startServer({ clients: [graceful], users, refreshTokens: { graceSeconds: 10 } });
    strict = await startServer({ clients: [legacy], users, refreshTokens: { graceSeconds: 0 } });
  });
  after(async () => {
    await s.dispose();
    await g.dispose();
    await strict.dispose();
  });

  const as = (id: string, secret: string) => ({ authorization: basic(id, secret) });
  const L = () => as('legacy', LEGACY_SECRET);
  const RS = () => as('orders-rs', RS_SECRET);

  async function login(username = 'alice', client = L(), scope?: string, server = s): Promise<Tokens> {
    const res = await postForm(`${server.url}/token`, { grant_type: 'password', username, password: users.find((u) => u.username === username)!.password, ...(scope ? { scope } : {}) }, client);
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as Tokens;
  }
  const refresh = (rt: string, client = L(), extra: Record<string, string> = {}, server = s) => postForm(`${server.url}/token`, { grant_type: 'refresh_token', refresh_token: rt, ...extra }, client);
  const introspect = async (token: string, client = RS()) => {
    const res = await postForm(`${s.url}/introspect`, { token }, client);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    return (await res.json()) as Record<string, unknown>;
  };
  const revoke = (token: string, client = L(), hint?: string) => postForm(`${s.url}/revoke`, { token, ...(hint ? { token_type_hint: hint } : {}) }, client);
  const errorOf = async (res: Response) => ((await res.json()) as { error: string }).error;

  test('rotation: RT_n gives RT_n+1 and stops working; the new one carries the original scope', async () => {
    const t0 = await login();
    assert.match(t0.refresh_token, /^[\w-]{43}$/);
    const r1 = await refresh(t0.refresh_token, L(), { scope: 'orders:read' });
    assert.equal(r1.status, 200);
    assert.equal(r1.headers.get('cache-control'), 'no-store');
    const t1 = (await r1.json()) as Tokens;
    assert.equal(t1.scope, 'orders:read', 'a narrower scope for the access token');
    assert.notEqual(t1.refresh_token, t0.refresh_token);
    const t2 = (await (await refresh(t1.refresh_token)).json()) as Tokens;
    assert.equal(t2.scope, 'orders:read orders:write profile', 'the rotated RT kept the full original scope (C12)');
  });

  test('a wider scope on refresh is invalid_scope', async () => {
    const t0 = await login('alice', L(), 'orders:read');
    const res = await refresh(t0.refresh_token, L(), { scope: 'orders:read orders:write' });
    assert.equal(res.status, 400);
    assert.equal(await errorOf(res), 'invalid_scope');
    assert.equal((await refresh(t0.refresh_token)).status, 200, 'the failed attempt did not burn the token');
  });

  test('reuse of a rotated token revokes the whole family, newest RT and its access tokens included', async () => {
    const t0 = await login();
    const t1 = (await (await refresh(t0.refresh_token)).json()) as Tokens;
    const t2 = (await (await refresh(t1.refresh_token)).json()) as Tokens;
    assert.equal((await introspect(t2.access_token)).active, true);
    const reuse = await refresh(t0.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(await errorOf(reuse), 'invalid_grant');
    const newest = await refresh(t2.refresh_token);
    assert.equal(await errorOf(newest), 'invalid_grant', 'the newest RT died too');
    assert.deepEqual(await introspect(t2.access_token), { active: false });
    assert.deepEqual(await introspect(t1.access_token), { active: false });
  });

  test('retry window: a retry within it gets the same successor, which stays valid; after the successor is used it is reuse', async () => {
    const G = () => as('graceful', graceful.secret);
    const t0 = await login('alice', G(), undefined, g);
    const lost = (await (await refresh(t0.refresh_token, G(), {}, g)).json()) as Tokens;
    const retry = await refresh(t0.refresh_token, G(), {}, g);
    assert.equal(retry.status, 200, 'the retry inside the window succeeds');
    const t1 = (await retry.json()) as Tokens;
    assert.equal(t1.refresh_token, lost.refresh_token, 'the same successor: no second branch');
    const t2 = (await (await refresh(t1.refresh_token, G(), {}, g)).json()) as Tokens;
    const again = await refresh(t0.refresh_token, G(), {}, g);
    assert.equal(await errorOf(again), 'invalid_grant', 'once the successor moved on, a retry is reuse');
    assert.equal(await errorOf(await refresh(t2.refresh_token, G(), {}, g)), 'invalid_grant', 'and reuse revoked the family');
  });

  test('no grace for a token whose successor was already used', async () => {
    const G = () => as('graceful', graceful.secret);
    const t0 = await login('alice', G(), undefined, g);
    const t1 = (await (await refresh(t0.refresh_token, G(), {}, g)).json()) as Tokens;
    const t2 = (await (await refresh(t1.refresh_token, G(), {}, g)).json()) as Tokens;
    assert.equal(await errorOf(await refresh(t0.refresh_token, G(), {}, g)), 'invalid_grant');
    assert.equal(await errorOf(await refresh(t2.refresh_token, G(), {}, g)), 'invalid_grant', 'reuse revoked the family');
  });

  test('concurrent refreshes of one token with graceSeconds 0 (strict): at most one success', async () => {
    const t0 = await login('alice', L(), undefined, strict);
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(t0.refresh_token, L(), {}, strict)));
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length <= 1, `${ok.length} successes`);
    for (const r of results) if (r.status !== 200) assert.equal(await errorOf(r), 'invalid_grant');
  });

  test('with the default retry window, concurrent refreshes all get the one successor', async () => {
    const t0 = await login();
    const results = await Promise.all(Array.from({ length: 10 }, () => refresh(t0.refresh_token)));
    assert.deepEqual(results.map((r) => r.status), Array(10).fill(200));
    const successors = new Set(((await Promise.all(results.map((r) => r.json()))) as Tokens[]).map((t) => t.refresh_token));
    assert.equal(successors.size, 1);
  });

  test('another client\'s refresh token: invalid_grant, and it stays valid for its owner', async () => {
    const t0 = await login();
    const res = await refresh(t0.refresh_token, as('other', OTHER_SECRET));
    assert.equal(await errorOf(res), 'invalid_grant');
    assert.equal((await refresh(t0.refresh_token)).status, 200);
  });

  test('malformed, unknown and access tokens given as refresh_token: invalid_grant', async () => {
    const t0 = await login();
    for (const bad of ['x', 'A'.repeat(43), t0.access_token, `${t0.refresh_token}'--`]) {
      assert.equal(await errorOf(await refresh(bad)), 'invalid_grant');
    }
    assert.equal(await errorOf(await postForm(`${s.url}/token`, { grant_type: 'refresh_token' }, L())), 'invalid_request');
  });

  test('revoke a refresh token (any hint, wrong hint, no hint): refresh fails, its access token is inactive', async () => {
    for (const hint of [undefined, 'refresh_token', 'access_token', 'bogus_hint']) {
      const t = await login();
      const res = await revoke(t.refresh_token, L(), hint);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(await errorOf(await refresh(t.refresh_token)), 'invalid_grant');
      assert.deepEqual(await introspect(t.access_token), { active: false });
      assert.deepEqual(await introspect(t.refresh_token, L()), { active: false });
    }
  });

  test('revoke an access token: denylisted until exp; the refresh token lives on', async () => {
    const t = await login();
    assert.equal((await revoke(t.access_token, L(), 'refresh_token')).status, 200);
    assert.deepEqual(await introspect(t.access_token), { active: false });
    assert.equal((await refresh(t.refresh_token)).status, 200);
  });

  test('revoke: unknown tokens get 200; another client\'s token is refused and not revoked; client auth required', async () => {
    assert.equal((await revoke('not-a-token')).status, 200);
    assert.equal((await revoke('A'.repeat(43))).status, 200);
    const t = await login();
    // RFC 7009 §2.1: "the request is refused and the client is informed of the error".
    const foreignRt = await revoke(t.refresh_token, as('other', OTHER_SECRET));
    assert.equal(foreignRt.status, 400);
    assert.equal(await errorOf(foreignRt), 'unauthorized_client');
    const foreignAt = await revoke(t.access_token, as('other', OTHER_SECRET));
    assert.equal(foreignAt.status, 400);
    assert.equal(await errorOf(foreignAt), 'unauthorized_client');
    assert.equal((await refresh(t.refresh_token)).status, 200, 'still valid');
    assert.equal((await introspect(t.access_token)).active, true);
    const noAuth = await postForm(`${s.url}/revoke`, { token: t.access_token });
    assert.equal(noAuth.status, 401);
    assert.equal(await errorOf(noAuth), 'invalid_client');
    const wrong = await revoke(t.access_token, as('legacy', 'wrong-secret-xxxxxxxx'));
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic/);
    assert.equal(await errorOf(await postForm(`${s.url}/revoke`, {}, L())), 'invalid_request');
    const json = await fetch(`${s.url}/revoke`, { method: 'POST', headers: { ...L(), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(json.status, 400);
  });

  test('introspection: authentication required; active tokens show their claims; others exactly {active:false}', async () => {
    const t = await login();
    const noAuth = await postForm(`${s.url}/introspect`, { token: t.access_token });
    assert.equal(noAuth.status, 401);
    const publicCaller = await postForm(`${s.url}/introspect`, { token: t.access_token, client_id: 'orders-rs' });
    assert.equal(publicCaller.status, 401);
    const info = await introspect(t.access_token);
    assert.equal(info.active, true);
    for (const k of ['scope', 'client_id', 'sub', 'exp', 'iat', 'iss', 'aud', 'token_type', 'jti']) assert.ok(k in info, k);
    assert.equal(info.client_id, 'legacy');
    assert.equal(info.token_type, 'Bearer');
    assert.deepEqual(info.roles, ['user']);
    const rt = await introspect(t.refresh_token, L());
    assert.equal(rt.active, true);
    assert.equal(rt.token_type, 'refresh_token');
    assert.deepEqual(await introspect(t.refresh_token), { active: false }, 'a refresh token is only for its own client');
    assert.deepEqual(await introspect(t.access_token, as('other', OTHER_SECRET)), { active: false }, 'not for this caller');
    for (const junk of ['garbage', 'a.b.c', `${t.access_token.slice(0, -4)}AAAA`]) assert.deepEqual(await introspect(junk), { active: false });
    assert.equal(await errorOf(await postForm(`${s.url}/introspect`, {}, RS())), 'invalid_request');
  });

  test('revocation feed: resource servers only; a revocation arrives on the stream within 1 s', async () => {
    assert.equal((await fetch(`${s.url}/revocations`)).status, 401);
    assert.equal((await fetch(`${s.url}/revocations`, { headers: L() })).status, 403, 'a client without the introspect permission');
    assert.equal((await fetch(`${s.url}/revocations?since=abc`, { headers: RS() })).status, 400);
    const list = await fetch(`${s.url}/revocations`, { headers: RS() });
    assert.equal(list.status, 200);
    const page = (await list.json()) as { revocations: { jti: string; exp: number }[]; cursor: string };
    assert.match(page.cursor, /^\d+$/);

    const controller = new AbortController();
    const stream = await fetch(`${s.url}/revocations/stream`, { headers: { ...RS(), accept: 'text/event-stream' }, signal: controller.signal });
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = stream.body!.getReader();
    const t = await login();
    const jti = JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()).jti as string;
    const started = Date.now();
    assert.equal((await revoke(t.access_token)).status, 200);
    let text = '';
    while (!text.includes(jti) && Date.now() - started < 1000) {
      const chunk = await Promise.race([reader.read(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 1000 - (Date.now() - started)))]);
      if (!chunk || chunk.done) break;
      text += new TextDecoder().decode(chunk.value);
    }
    controller.abort();
    assert.ok(text.includes(jti), 'the revocation arrived within 1 s');
    assert.match(text, /event: revoked\nid: \d+|id: \d+\nevent: revoked/);
    const after = (await (await fetch(`${s.url}/revocations?since=${page.cursor}`, { headers: RS() })).json()) as { revocations: { jti: string }[] };
    assert.ok(after.revocations.some((r) => r.jti === jti), 'and the resumable list has it');
  });

  test('revocation stream: at most 32 open streams per client on one instance', async () => {
    const controllers = Array.from({ length: 33 }, () => new AbortController());
    try {
      const opened = [];
      for (const c of controllers.slice(0, 32)) {
        opened.push(await fetch(`${s.url}/revocations/stream`, { headers: { ...RS(), accept: 'text/event-stream' }, signal: c.signal }));
      }
      assert.ok(opened.every((r) => r.status === 200));
      const extra = await fetch(`${s.url}/revocations/stream`, { headers: { ...RS(), accept: 'text/event-stream' }, signal: controllers[32]!.signal });
      assert.equal(extra.status, 429);
      assert.ok(Number(extra.headers.get('retry-after')) > 0);
      controllers[0]!.abort();
      let again = 429;
      for (let i = 0; i < 20 && again === 429; i++) {
        await new Promise((r) => setTimeout(r, 50));
        const r = await fetch(`${s.url}/revocations/stream`, { headers: { ...RS(), accept: 'text/event-stream' }, signal: controllers[32]!.signal });
        again = r.status;
      }
      assert.equal(again, 200, 'a closed stream frees its place');
    } finally {
      for (const c of controllers) c.abort();
    }
  });

  test('the legacy password grant: same invalid_grant for unknown user and wrong password; Deprecation header', async () => {
    const ok = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, L());
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('deprecation') ?? '', /^@\d+$/);
    const wrong = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'bob', password: 'nope-nope-nope' }, L());
    const unknown = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'nobody', password: 'nope-nope-nope' }, L());
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), await unknown.json());
    const blank = await postForm(`${s.url}/token`, { grant_type: 'password', username: '   ', password: 'x' }, L());
    assert.equal(await errorOf(blank), 'invalid_request');
    const long = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'a'.repeat(5000), password: 'x' }, L());
    assert.equal(long.status, 400);
    assert.equal(await errorOf(long), 'invalid_grant');
    const scope = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1', scope: 'admin' }, L());
    assert.equal(await errorOf(scope), 'invalid_scope');
    const notAllowed = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, as('svc', SERVICE_SECRET));
    assert.equal(await errorOf(notAllowed), 'unauthorized_client');
    const md = (await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    assert.ok((md.grant_types_supported as string[]).includes('password'), 'listed while a client has it');
    assert.equal(md.revocation_endpoint, `${s.url}/revoke`);
    assert.equal(md.introspection_endpoint, `${s.url}/introspect`);
  });
});

describe('brute-force throttling', () => {
  test('password grant: per account, 429 with Retry-After, even with the right password', async () => {
    const s = await startServer({ clients: [legacy], users, login: { maxFailuresPerAccount: 3, maxFailuresPerIp: 100, window: 60 } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'bob', password: 'wrong-password' }, { authorization: basic('legacy', LEGACY_SECRET) });
        assert.equal(r.status, 400);
      }
      const blocked = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'bob', password: 'bob-password-123' }, { authorization: basic('legacy', LEGACY_SECRET) });
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      const aliceOk = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'alice', password: 'alice-password-1' }, { authorization: basic('legacy', LEGACY_SECRET) });
      assert.equal(aliceOk.status, 200, 'other accounts are unaffected');
    } finally {
      await s.dispose();
    }
  });

  test('introspection: a caller presenting many unknown tokens (token scanning, H7) is throttled', async () => {
    const s = await startServer({ clients: [serviceClient, ordersRs], clientAuth: { maxUnknownIntrospections: 3, window: 60 } });
    try {
      const rs = { authorization: basic('orders-rs', RS_SECRET) };
      for (let i = 0; i < 3; i++) {
        const r = await postForm(`${s.url}/introspect`, { token: `guess-${i}-${'x'.repeat(30)}` }, rs);
        assert.equal(r.status, 200);
        assert.deepEqual(await r.json(), { active: false });
      }
      const blocked = await postForm(`${s.url}/introspect`, { token: 'guess-4' }, rs);
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      const svcToken = ((await (await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) })).json()) as { access_token: string }).access_token;
      const own = await postForm(`${s.url}/introspect`, { token: svcToken }, { authorization: basic('svc', SERVICE_SECRET) });
      assert.equal(((await own.json()) as { active: boolean }).active, true, 'other callers are unaffected');
    } finally {
      await s.dispose();
    }
  });

  test('client secrets: failures per client id throttle with 429 + Retry-After', async () => {
    const s = await startServer({ clientAuth: { maxFailuresPerClient: 3, maxFailuresPerIp: 1000, window: 60 } });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', 'wrong-secret-xxxxxxxx') });
        assert.equal(r.status, 401);
      }
      const blocked = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) > 0);
      assert.equal(((await blocked.json()) as { error: string }).error, 'temporarily_unavailable');
    } finally {
      await s.dispose();
    }
  });
});
