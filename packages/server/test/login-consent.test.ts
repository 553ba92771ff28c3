import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Running } from './helpers.ts';
import { Agent, alice, authParams, authorize, hidden, pkce, REDIRECT, startOidcServer } from './oidc-helpers.ts';

/** Issue 3 §3–5: login and consent pages, CSRF, sessions, throttling (SECURITY-CHECKLIST A12–A19, E2). */
let s: Running;
const { challenge } = pkce();
before(async () => {
  s = await startOidcServer();
});
after(() => s.dispose());

/** Starts an authorization request and opens the login page; returns the form fields. */
async function loginPage(agent: Agent, params = authParams(challenge)) {
  const res = await agent.get(`/authorize?${params}`);
  const page = await agent.get(res.headers.get('location')!);
  const html = await page.text();
  return { page, html, iid: hidden(html, 'iid')!, csrf: hidden(html, 'csrf')! };
}

function assertPageHeaders(res: Response) {
  const csp = res.headers.get('content-security-policy') ?? '';
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /default-src 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(res.headers.get('x-frame-options'), 'DENY');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(res.headers.get('content-type') ?? '', /^text\/html; charset=utf-8/);
}

describe('login page', () => {
  test('is a form with labels, autocomplete, the client name, and the page headers (A13, A14)', async () => {
    const { page, html } = await loginPage(new Agent(s.url));
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    assert.match(html, /<label for="username">/);
    assert.match(html, /<label for="password">/);
    assert.match(html, /autocomplete="current-password"/);
    assert.match(html, /Example Web App/);
    assert.match(html, /<html lang="en">/);
    assert.doesNotMatch(html, /<script/);
    assert.doesNotMatch(html, /https?:\/\/(?!app\.example)[a-z]/i, 'no third-party resources');
    // form-action lets the final redirect reach the registered URI only.
    assert.match(page.headers.get('content-security-policy')!, /form-action 'self' https:\/\/app\.example;/);
  });
  test('the stylesheet is served from our origin', async () => {
    const res = await fetch(`${s.url}/assets/tessera.css`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /^text\/css/);
    assert.match(await res.text(), /:focus-visible/);
  });
  test('an unknown or expired interaction → error page', async () => {
    const a = new Agent(s.url);
    const res = await a.get(`/login?iid=${'x'.repeat(43)}`);
    assert.equal(res.status, 400);
    assertPageHeaders(res);
    assert.equal(res.headers.get('location'), null);
  });
  test('an interaction from another browser → error page (bound to the browser)', async () => {
    const { iid } = await loginPage(new Agent(s.url));
    const other = new Agent(s.url);
    await other.get('/assets/tessera.css');
    assert.equal((await other.get(`/login?iid=${iid}`)).status, 400);
  });
});

describe('CSRF protection of the login form (A16)', () => {
  test('missing token → 403', async () => {
    const a = new Agent(s.url);
    const { iid } = await loginPage(a);
    const res = await a.post('/login', { iid, ...alice });
    assert.equal(res.status, 403);
    assertPageHeaders(res);
    assert.equal(res.headers.getSetCookie().some((c) => c.startsWith('tessera-session=')), false);
  });
  test('wrong token → 403', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await loginPage(a);
    assert.equal((await a.post('/login', { iid, csrf: `${csrf.slice(0, -2)}AA`, ...alice })).status, 403);
  });
  test("another browser's token and interaction → 403 / 400, never a session", async () => {
    const victim = new Agent(s.url);
    const attacker = new Agent(s.url);
    const { iid, csrf } = await loginPage(attacker);
    await loginPage(victim);
    const res = await victim.post('/login', { iid, csrf, ...alice });
    assert.ok(res.status === 403 || res.status === 400, String(res.status));
    assert.equal(victim.cookies.has('tessera-session'), false);
  });
  test('a cross-site POST (no cookies, foreign Origin, Sec-Fetch-Site) → 403', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await loginPage(a);
    const noCookies = await fetch(`${s.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ iid, csrf, ...alice }) });
    assert.equal(noCookies.status, 403);
    assert.equal((await a.post('/login', { iid, csrf, ...alice }, { origin: 'https://evil.example' })).status, 403);
    assert.equal((await a.post('/login', { iid, csrf, ...alice }, { 'sec-fetch-site': 'cross-site' })).status, 403);
    assert.equal((await a.post('/login', { iid, csrf, ...alice }, { 'sec-fetch-site': 'same-site' })).status, 403);
    // Origin: null (our no-referrer pages make browsers send it) is left to the token, which passes here.
    assert.equal((await a.post('/login', { iid, csrf, ...alice }, { origin: 'null', 'sec-fetch-site': 'same-origin' })).status, 303);
  });
  test('the login token is useless on the consent form', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await loginPage(a);
    await a.post('/login', { iid, csrf, ...alice });
    assert.equal((await a.post('/consent', { iid, csrf, decision: 'allow' })).status, 403);
  });
});

describe('signing in', () => {
  test('success → 303 to the flow, a new HttpOnly SameSite=Lax session cookie (A12)', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await loginPage(a);
    const res = await a.post('/login', { iid, csrf, ...alice });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get('location'), `/authorize/resume?iid=${iid}`);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('tessera-session='))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Max-Age=\d+/);
    assert.match(cookie, /^tessera-session=[A-Za-z0-9_-]{43};/);
  });
  test('login by e-mail address and case-insensitive username', async () => {
    for (const username of ['alice@example.com', 'ALICE']) {
      const cb = await authorize(new Agent(s.url), authParams(challenge), { username, password: alice.password });
      assert.ok(cb.searchParams.get('code'), username);
    }
  });
  test('the session id is rotated at every login, and the old one stops working', async () => {
    const a = new Agent(s.url);
    await authorize(a, authParams(challenge), alice);
    const first = a.cookies.get('tessera-session')!;
    await authorize(a, authParams(challenge, { prompt: 'login' }), alice);
    const second = a.cookies.get('tessera-session')!;
    assert.notEqual(first, second);
    const old = new Agent(s.url);
    old.cookies.set('tessera-session', first);
    const res = await old.get(`/authorize?${authParams(challenge, { prompt: 'none' })}`);
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'login_required');
  });
  test('wrong password and unknown user look the same: 401, same message, similar time (E2)', async () => {
    const bodies: string[] = [];
    const times: number[][] = [[], []];
    for (let i = 0; i < 3; i++) {
      for (const [j, username] of ['admin', 'nobody-here'].entries()) {
        const a = new Agent(s.url);
        const { iid, csrf } = await loginPage(a);
        const t = performance.now();
        const res = await a.post('/login', { iid, csrf, username, password: 'wrong-password' });
        times[j]!.push(performance.now() - t);
        assert.equal(res.status, 401);
        assertPageHeaders(res);
        const html = await res.text();
        bodies.push(/role="alert"[^>]*>([^<]*)</.exec(html)![1]!);
        assert.equal(a.cookies.has('tessera-session'), false);
      }
    }
    assert.deepEqual(new Set(bodies), new Set(['Incorrect username or password.']));
    const median = (xs: number[]) => xs.sort((x, y) => x - y)[1]!;
    const [known, unknown] = [median(times[0]!), median(times[1]!)];
    assert.ok(Math.max(known, unknown) / Math.min(known, unknown) < 3, `known ${known} ms vs unknown ${unknown} ms`);
  });
  test('missing password → 400 with the form again', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await loginPage(a);
    const res = await a.post('/login', { iid, csrf, username: 'alice' });
    assert.equal(res.status, 400);
    assert.match(await res.text(), /Enter your username and password/);
  });
});

describe('consent page (A18, issue 3 §3)', () => {
  async function toConsent(agent: Agent, params = authParams(challenge, { scope: 'openid profile email orders:read' })) {
    const { iid, csrf } = await loginPage(agent, params);
    const res = await agent.post('/login', { iid, csrf, username: 'admin', password: 'admin-password-1' });
    const resume = await agent.get(res.headers.get('location')!);
    assert.match(resume.headers.get('location')!, /^\/consent\?iid=/);
    const page = await agent.get(resume.headers.get('location')!);
    const html = await page.text();
    return { page, html, iid: hidden(html, 'iid')!, csrf: hidden(html, 'csrf')! };
  }
  test('shows the client, the scopes in words and the redirect host; Allow/Deny; page headers', async () => {
    const { page, html } = await toConsent(new Agent(s.url));
    assert.equal(page.status, 200);
    assertPageHeaders(page);
    assert.match(html, /Example Web App/);
    assert.match(html, /See your e-mail address/);
    assert.match(html, /See your name and username/);
    assert.match(html, /<code>orders:read<\/code>/);
    assert.match(html, /sent to <strong>app\.example<\/strong>/);
    assert.match(html, /value="allow"/);
    assert.match(html, /value="deny"/);
  });
  test('Deny → 303 to the registered URI with access_denied, state and iss', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await toConsent(a);
    const res = await a.post('/consent', { iid, csrf, decision: 'deny' });
    assert.equal(res.status, 303);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(`${loc.origin}${loc.pathname}`, REDIRECT);
    assert.equal(loc.searchParams.get('error'), 'access_denied');
    assert.equal(loc.searchParams.get('state'), 'st-123');
    assert.equal(loc.searchParams.get('iss'), s.url);
    // The interaction is spent: replaying the form cannot produce a code.
    assert.equal((await a.post('/consent', { iid, csrf, decision: 'allow' })).status, 400);
  });
  test('missing CSRF token → 403; no decision → 400', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await toConsent(a);
    assert.equal((await a.post('/consent', { iid, decision: 'allow' })).status, 403);
    assert.equal((await a.post('/consent', { iid, csrf })).status, 400);
  });
  test('Allow → code; consent is remembered per user, client and scope', async () => {
    const a = new Agent(s.url);
    const { iid, csrf } = await toConsent(a, authParams(challenge, { scope: 'openid profile' }));
    const res = await a.post('/consent', { iid, csrf, decision: 'allow' });
    assert.equal(res.status, 303);
    assert.match(res.headers.get('location')!, /^https:\/\/app\.example\/cb\?code=/);
    // Same or fewer scopes: no consent page.
    const again = await a.get(`/authorize?${authParams(challenge, { scope: 'openid' })}`);
    assert.match(again.headers.get('location')!, /^https:\/\/app\.example\/cb\?code=/);
    // A new scope, or prompt=consent: asked again.
    assert.match((await a.get(`/authorize?${authParams(challenge, { scope: 'openid email' })}`)).headers.get('location')!, /^\/consent/);
    assert.match((await a.get(`/authorize?${authParams(challenge, { scope: 'openid', prompt: 'consent' })}`)).headers.get('location')!, /^\/consent/);
  });
  test('a first-party client skips consent', async () => {
    const cb = await authorize(new Agent(s.url), authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid profile' }), alice, 'deny');
    assert.ok(cb.searchParams.get('code'));
  });
});

describe('login throttling (issue 3 §5)', () => {
  test('after 5 failures for one account → 429 with Retry-After, even with the right password', async () => {
    const t = await startOidcServer();
    try {
      for (let i = 0; i < 5; i++) {
        const a = new Agent(t.url);
        const { iid, csrf } = await loginPage(a);
        assert.equal((await a.post('/login', { iid, csrf, username: 'admin', password: `bad-${i}` })).status, 401);
      }
      const a = new Agent(t.url);
      const { iid, csrf } = await loginPage(a);
      const res = await a.post('/login', { iid, csrf, username: 'ADMIN', password: 'admin-password-1' });
      assert.equal(res.status, 429);
      const retry = Number(res.headers.get('retry-after'));
      assert.ok(retry > 800 && retry <= 900, String(retry));
      assertPageHeaders(res);
      assert.match(await res.text(), /Too many failed attempts/);
      assert.equal(a.cookies.has('tessera-session'), false);
      // Another account from the same address is not locked by it.
      assert.ok((await authorize(new Agent(t.url), authParams(challenge), alice)).searchParams.get('code'));
    } finally {
      await t.dispose();
    }
  });
  test('per IP: failures across many usernames → 429', async () => {
    const t = await startOidcServer({ login: { maxFailuresPerIp: 3 } });
    try {
      for (let i = 0; i < 3; i++) {
        const a = new Agent(t.url);
        const { iid, csrf } = await loginPage(a);
        assert.equal((await a.post('/login', { iid, csrf, username: `user${i}`, password: 'x-password' })).status, 401);
      }
      const a = new Agent(t.url);
      const { iid, csrf } = await loginPage(a);
      const res = await a.post('/login', { iid, csrf, ...alice });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    } finally {
      await t.dispose();
    }
  });
  test('counters are in the database: a restart does not reset them', async () => {
    const first = await startOidcServer({ login: { maxFailuresPerAccount: 2 } });
    const dataDir = first.dataDir;
    for (let i = 0; i < 2; i++) {
      const a = new Agent(first.url);
      const { iid, csrf } = await loginPage(a);
      await a.post('/login', { iid, csrf, username: 'alice', password: 'nope-nope' });
    }
    await first.stop();
    const second = await startOidcServer({ login: { maxFailuresPerAccount: 2 } }, dataDir);
    try {
      const a = new Agent(second.url);
      const { iid, csrf } = await loginPage(a);
      assert.equal((await a.post('/login', { iid, csrf, ...alice })).status, 429);
    } finally {
      await second.dispose();
    }
  });
});

describe('sessions are stored server-side (issue 3 §4)', () => {
  test('a session survives a restart', async () => {
    const first = await startOidcServer();
    const a = new Agent(first.url);
    await authorize(a, authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), alice);
    await first.stop();
    const second = await startOidcServer({ port: Number(new URL(first.url).port) }, first.dataDir);
    try {
      const res = await a.get(`/authorize?${authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid', prompt: 'none' })}`);
      assert.match(res.headers.get('location')!, /^https:\/\/spa\.example\/callback\?code=/);
    } finally {
      await second.dispose();
    }
  });
  test('an idle session expires', async () => {
    const t = await startOidcServer({ sessions: { ttl: '1h', idleTtl: 1 } });
    try {
      const a = new Agent(t.url);
      await authorize(a, authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid' }), alice);
      await new Promise((r) => setTimeout(r, 2100));
      const res = await a.get(`/authorize?${authParams(challenge, { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid', prompt: 'none' })}`);
      assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'login_required');
    } finally {
      await t.dispose();
    }
  });
});
