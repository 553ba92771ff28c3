import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { basic, postForm, SERVICE_SECRET, serviceClient, startServer, type Running } from './helpers.ts';
import { Agent, alice, authParams, hidden, pkce, spaClient, users, webClient } from './oidc-helpers.ts';
import pg from 'pg';
import { toOAuthError } from '../src/http/errors.ts';
import { isCleanText } from '../src/engine/params.ts';
import { parseForm, parseFormBytes } from '../src/http/form.ts';
import { backends, PG_URL, type TestDatabase } from './support/backends.ts';

/**
 * Issue 12 items 2, 3 and 8 at the HTTP surface, on SQLite and PostgreSQL: ill-formed text (NUL,
 * invalid UTF-8) is refused at the boundary (PostgreSQL used to answer 500), revoking another client's
 * token is refused (RFC 7009 §2.1), `Origin: null` and non-UTF-8 form charsets are refused, and a
 * client without the `introspect` permission gets 403 at the revocation feed.
 */
const APP_SECRET = 'boundary-app-secret-0123456789';
const OTHER_SECRET = 'boundary-other-secret-01234567';
const RS_SECRET = 'boundary-rs-secret-0123456789a';
const app = { id: 'app', secret: APP_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const other = { id: 'other', secret: OTHER_SECRET, grants: ['password', 'refresh_token'], scopes: ['orders:read'], audience: 'https://orders.example' };
const rs = { id: 'rs', secret: RS_SECRET, grants: ['client_credentials'], audience: 'https://orders.example', permissions: ['introspect' as const] };

const b64 = (bytes: Buffer | string) => `Basic ${Buffer.from(bytes).toString('base64')}`;
const APP = { authorization: basic('app', APP_SECRET) };
const OTHER = { authorization: basic('other', OTHER_SECRET) };
const RS = { authorization: basic('rs', RS_SECRET) };

async function expectJsonError(res: Response, status: number, error: string): Promise<void> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal((JSON.parse(text) as { error: string }).error, error, text);
  assert.equal(res.headers.get('cache-control'), 'no-store');
}

async function expectErrorPage(res: Response, status = 400): Promise<void> {
  const html = await res.text();
  assert.equal(res.status, status, html.slice(0, 300));
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(res.headers.get('location'), null);
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
}

for (const backend of backends) {
  describe(`input boundary and refusals [${backend.name}]`, () => {
    let s: Running;
    let db: TestDatabase;
    const { challenge } = pkce();
    before(async () => {
      db = await backend.create();
      s = await startServer({ databaseUrl: db.url, clients: [serviceClient, webClient, spaClient, app, other, rs], users });
    });
    after(async () => {
      await s?.dispose();
      await db?.drop();
    });

    const signIn = async (client = APP) => {
      const res = await postForm(`${s.url}/token`, { grant_type: 'password', ...alice }, client);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as { access_token: string; refresh_token: string };
    };
    const introspect = async (token: string) =>
      (await (await postForm(`${s.url}/introspect`, { token }, RS)).json()) as { active: boolean };

    describe('NUL, invalid UTF-8 and unpaired surrogates are refused at the boundary (item 2)', () => {
      const badBasics = [
        b64('a%00b:whatever-secret'), // percent-encoded per RFC 6749 §2.3.1
        b64('a\0b:whatever-secret'), // raw NUL in the decoded credential
        b64(`svc:${encodeURIComponent(SERVICE_SECRET)}%00`), // NUL in the secret of a real client
        b64(Buffer.concat([Buffer.from('sv'), Buffer.from([0xff, 0xfe]), Buffer.from(':whatever-secret')])), // not UTF-8
        b64('%ED%A0%80:whatever-secret'), // an encoded lone surrogate
      ];

      test('a Basic credential holding them: 401 invalid_client at /token, /revoke, /introspect and the feed', async () => {
        for (const authorization of badBasics) {
          await expectJsonError(await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization }), 401, 'invalid_client');
          await expectJsonError(await postForm(`${s.url}/revoke`, { token: 'x' }, { authorization }), 401, 'invalid_client');
          await expectJsonError(await postForm(`${s.url}/introspect`, { token: 'x' }, { authorization }), 401, 'invalid_client');
          await expectJsonError(await fetch(`${s.url}/revocations`, { headers: { authorization } }), 401, 'invalid_client');
        }
      });

      test('a form field holding them: 400 invalid_request', async () => {
        const cases: [string, string, Record<string, string>][] = [
          ['/token', 'grant_type=client_credentials&client_id=a%00b&client_secret=whatever-secret', {}],
          ['/token', `grant_type=password&username=alice%00&password=${alice.password}`, APP],
          ['/token', 'grant_type=refresh_token&refresh_token=a%00b', APP],
          ['/token', 'grant_type=authorization_code&code=a%00b&code_verifier=x', APP],
          ['/revoke', 'token=a%00b', APP],
          ['/revoke', 'token=x&client_id=a%00b', {}],
          ['/introspect', 'token=a%00b', RS],
          ['/token', 'grant_type=client_credentials&scope=a%ED%A0%80', { authorization: basic('svc', SERVICE_SECRET) }],
        ];
        for (const [path, body, headers] of cases) await expectJsonError(await postForm(`${s.url}${path}`, body, headers), 400, 'invalid_request');
        // Raw bytes that are not UTF-8 (not percent-encoded) are refused too, not replaced by U+FFFD.
        const raw = Buffer.concat([Buffer.from('grant_type=client_credentials&client_id=sv'), Buffer.from([0xc3, 0x28]), Buffer.from('&client_secret=whatever-secret')]);
        await expectJsonError(await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: raw }), 400, 'invalid_request');
      });

      test('/userinfo and the revocation feed: 400 invalid_request', async () => {
        const userinfo = await postForm(`${s.url}/userinfo`, 'access_token=a%00b');
        assert.match(userinfo.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_request"/, 'RFC 6750 §3');
        await expectJsonError(userinfo, 400, 'invalid_request');
        await expectJsonError(await fetch(`${s.url}/userinfo?x=%00`, { headers: { authorization: 'Bearer abc' } }), 400, 'invalid_request');
        await expectJsonError(await fetch(`${s.url}/revocations?since=1%00`, { headers: RS }), 400, 'invalid_request');
        await expectJsonError(await fetch(`${s.url}/revocations?client_id=a%00b`, { headers: RS }), 400, 'invalid_request');
        await expectJsonError(await fetch(`${s.url}/revocations/stream?since=%00`, { headers: RS }), 400, 'invalid_request');
      });

      test('browser endpoints: the HTML error page, 400, never a redirect', async () => {
        const agent = new Agent(s.url);
        const paths = [
          `/authorize?${authParams(challenge, { client_id: 'a\0b' })}`,
          `/authorize?${authParams(challenge, { state: 'st\0' })}`,
          `/authorize?${authParams(challenge, { login_hint: 'alice\0' })}`,
          '/authorize/resume?iid=a%00b',
          '/login?iid=a%00b',
          '/consent?iid=a%00b',
          '/logout?client_id=a%00b',
          '/logout?id_token_hint=a%00b',
        ];
        for (const path of paths) await expectErrorPage(await agent.get(path));
        await expectErrorPage(await agent.post('/authorize', authParams(challenge, { client_id: 'a\0b' }).toString()));
        await expectErrorPage(await agent.post('/login', 'iid=a%00b&csrf=x&username=alice&password=x'));
        await expectErrorPage(await agent.post('/consent', 'iid=a%00b&csrf=x&decision=allow'));
        await expectErrorPage(await agent.post('/logout', 'client_id=a%00b'));
      });

      test('a Tessera cookie holding NUL: the error page', async () => {
        for (const cookie of ['tessera-browser=a%00b', 'tessera-session=a%00b']) {
          await expectErrorPage(await fetch(`${s.url}/authorize?${authParams(challenge)}`, { redirect: 'manual', headers: { cookie } }));
        }
        // Other applications' cookies on the same host are not ours to judge.
        const res = await fetch(`${s.url}/authorize?${authParams(challenge)}`, { redirect: 'manual', headers: { cookie: 'someone-else=a%00b' } });
        assert.equal(res.status, 303);
      });

      test('raw NUL and non-ASCII bytes in credential headers: a 4xx from the HTTP layer or us, never a 500', async () => {
        const u = new URL(s.url);
        const send = (head: Buffer) => new Promise<number>((resolve, reject) => {
          // No half-close: the server answers (Connection: close) and then ends the connection itself.
          const sock = connect(Number(u.port), u.hostname, () => sock.write(Buffer.concat([head, Buffer.from('\r\n\r\n')])));
          let got = '';
          sock.on('data', (d) => (got += d.toString('latin1')));
          sock.on('end', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0)));
          sock.on('error', reject);
        });
        const heads = [
          ['POST /token HTTP/1.1', 'Authorization: Basic ', [0xff, 0xfe]],
          ['POST /token HTTP/1.1', 'Authorization: Basic abc', [0x00]],
          ['GET /userinfo HTTP/1.1', 'Authorization: Bearer abc', [0xff]],
          ['GET /userinfo HTTP/1.1', 'Authorization: Bearer abc', [0x00]],
          ['GET /revocations HTTP/1.1', 'Authorization: Basic ', [0xc3, 0x28]],
          ['GET /authorize?client_id=webapp HTTP/1.1', 'Cookie: tessera-browser=', [0xff]],
        ] as const;
        for (const [line, header, bytes] of heads) {
          const head = Buffer.concat([Buffer.from(`${line}\r\nHost: ${u.host}\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 0\r\n${header}`), Buffer.from(bytes)]);
          const status = await send(head);
          assert.ok(status >= 400 && status < 500, `${line} ${header}…: ${status}`);
        }
      });

      test('the server is unharmed afterwards', async () => {
        const res = await postForm(`${s.url}/token`, { grant_type: 'client_credentials' }, { authorization: basic('svc', SERVICE_SECRET) });
        assert.equal(res.status, 200);
        assert.equal((await fetch(`${s.url}/readyz`)).status, 200);
      });
    });

    describe('RFC 7009 §2.1: a token of another client is refused and left untouched (item 3)', () => {
      test('refresh token: 400 unauthorized_client, and it still refreshes for its owner', async () => {
        const t = await signIn();
        await expectJsonError(await postForm(`${s.url}/revoke`, { token: t.refresh_token }, OTHER), 400, 'unauthorized_client');
        await expectJsonError(await postForm(`${s.url}/revoke`, { token: t.refresh_token, token_type_hint: 'refresh_token' }, OTHER), 400, 'unauthorized_client');
        assert.equal((await introspect(t.access_token)).active, true, 'its access tokens live on');
        const refreshed = await postForm(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: t.refresh_token }, APP);
        assert.equal(refreshed.status, 200, await refreshed.clone().text());
      });

      test('access token: 400 unauthorized_client, and it stays active', async () => {
        const t = await signIn();
        await expectJsonError(await postForm(`${s.url}/revoke`, { token: t.access_token }, OTHER), 400, 'unauthorized_client');
        await expectJsonError(await postForm(`${s.url}/revoke`, { token: t.access_token, token_type_hint: 'access_token' }, RS), 400, 'unauthorized_client');
        assert.equal((await introspect(t.access_token)).active, true);
        const feed = (await (await fetch(`${s.url}/revocations`, { headers: RS })).json()) as { revocations: { jti: string }[] };
        const jti = (JSON.parse(Buffer.from(t.access_token.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
        assert.equal(feed.revocations.some((r) => r.jti === jti), false, 'not on the feed');
      });

      test('the owner still revokes its own tokens; unknown tokens are still 200 (§2.2)', async () => {
        const t = await signIn();
        assert.equal((await postForm(`${s.url}/revoke`, { token: 'not-a-token' }, OTHER)).status, 200);
        assert.equal((await postForm(`${s.url}/revoke`, { token: t.access_token }, APP)).status, 200);
        assert.equal((await introspect(t.access_token)).active, false);
      });
    });

    describe('Origin: null, form charsets, feed permission (item 8)', () => {
      async function loginPage(agent: Agent) {
        const res = await agent.get(`/authorize?${authParams(challenge)}`);
        const html = await (await agent.get(res.headers.get('location')!)).text();
        return { iid: hidden(html, 'iid')!, csrf: hidden(html, 'csrf')! };
      }

      test('POST /login with Origin: null and no Sec-Fetch-Site: 403; a browser\'s same-origin post passes', async () => {
        const agent = new Agent(s.url);
        const { iid, csrf } = await loginPage(agent);
        const refused = await agent.post('/login', { iid, csrf, ...alice }, { origin: 'null' });
        await expectErrorPage(refused, 403);
        assert.equal(agent.cookies.has('tessera-session'), false);
        await expectErrorPage(await agent.post('/login', { iid, csrf, ...alice }, { origin: 'null', 'sec-fetch-site': 'cross-site' }), 403);
        // Chromium sends Origin: null with Sec-Fetch-Site: same-origin from our Referrer-Policy: no-referrer pages.
        assert.equal((await agent.post('/login', { iid, csrf, ...alice }, { origin: 'null', 'sec-fetch-site': 'same-origin' })).status, 303);
      });

      test('POST /consent and the logout confirmation with Origin: null: 403', async () => {
        const agent = new Agent(s.url);
        const { iid, csrf } = await loginPage(agent);
        assert.equal((await agent.post('/login', { iid, csrf, ...alice })).status, 303);
        const consent = await (await agent.get(`/consent?iid=${iid}`)).text();
        const consentCsrf = hidden(consent, 'csrf')!;
        await expectErrorPage(await agent.post('/consent', { iid, csrf: consentCsrf, decision: 'allow' }, { origin: 'null' }), 403);
        const logout = await (await agent.get('/logout')).text();
        const logoutCsrf = hidden(logout, 'csrf')!;
        await expectErrorPage(await agent.post('/logout', { confirm: '1', csrf: logoutCsrf }, { origin: 'null' }), 403);
        assert.equal(agent.cookies.has('tessera-session'), true, 'still signed in');
        assert.equal((await agent.post('/consent', { iid, csrf: consentCsrf, decision: 'allow' })).status, 303);
      });

      test('a form body in another charset: 400 invalid_request (UTF-8 and US-ASCII accepted)', async () => {
        const cc = 'grant_type=client_credentials';
        const auth = { authorization: basic('svc', SERVICE_SECRET) };
        const post = (contentType: string, body: string | Buffer = cc) => fetch(`${s.url}/token`, { method: 'POST', headers: { ...auth, 'content-type': contentType }, body });
        for (const ct of ['application/x-www-form-urlencoded; charset=utf-16', 'application/x-www-form-urlencoded;charset="UTF-16LE"', 'application/x-www-form-urlencoded; charset=iso-8859-1', 'application/x-www-form-urlencoded; charset=windows-1252']) {
          await expectJsonError(await post(ct), 400, 'invalid_request');
        }
        await expectJsonError(await post('application/x-www-form-urlencoded; charset=utf-16', Buffer.from(cc, 'utf16le')), 400, 'invalid_request');
        for (const ct of ['application/x-www-form-urlencoded; charset=UTF-8', 'application/x-www-form-urlencoded; charset="utf-8"', 'application/x-www-form-urlencoded; charset=us-ascii', 'application/x-www-form-urlencoded']) {
          assert.equal((await post(ct)).status, 200, ct);
        }
        const agent = new Agent(s.url);
        const { iid, csrf } = await loginPage(agent);
        await expectErrorPage(await agent.post('/login', new URLSearchParams({ iid, csrf, ...alice }).toString(), { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }));
      });

      test('the revocation feed: valid credentials without the introspect permission get 403, wrong ones 401', async () => {
        for (const path of ['/revocations', '/revocations/stream']) {
          const res = await fetch(`${s.url}${path}`, { headers: APP });
          await expectJsonError(res, 403, 'unauthorized_client');
          assert.equal(res.headers.get('www-authenticate'), null);
          await expectJsonError(await fetch(`${s.url}${path}`, { headers: { authorization: basic('app', 'wrong-secret-0123456789') } }), 401, 'invalid_client');
        }
      });
    });
  });
}

test('defence in depth: PostgreSQL\'s own encoding error (22021) translates to 400 invalid_request, not 500', async () => {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  let err: unknown;
  try {
    await c.query('select $1::text as v', ['a\0b']);
  } catch (e) {
    err = e;
  } finally {
    await c.end();
  }
  assert.equal((err as { code?: string }).code, '22021', 'PostgreSQL refuses NUL in text');
  const e = toOAuthError(err);
  assert.equal(e.status, 400);
  assert.equal(e.error, 'invalid_request');
});

test('isCleanText and the form parser: NUL and unpaired surrogates out, everything else in', () => {
  for (const ok of ['', 'abc', 'ü€😀', 'a\u0001b', '\uD83D\uDE00']) assert.equal(isCleanText(ok), true, JSON.stringify(ok));
  for (const bad of ['\0', 'a\0', '\uD800', 'a\uDC00b', '\uDE00\uD83D', '\uD83D']) assert.equal(isCleanText(bad), false, JSON.stringify(bad));
  assert.deepEqual({ ...parseForm('a=%C3%BC&b=%F0%9F%98%80') }, { a: 'ü', b: '😀' });
  assert.throws(() => parseForm('a=%00'), /NUL/);
  assert.throws(() => parseForm('a=%ED%A0%80'), /not valid UTF-8/);
  assert.throws(() => parseForm('q=%00', 'the query string'), /the query string/);
  assert.deepEqual({ ...parseFormBytes(Buffer.from('a=\u00fc'), 'application/x-www-form-urlencoded') }, { a: 'ü' }, 'raw UTF-8 bytes');
  assert.throws(() => parseFormBytes(Buffer.from([0x61, 0x3d, 0xed, 0xa0, 0x80]), undefined), /not valid UTF-8/, 'raw encoded surrogate');
  assert.throws(() => parseFormBytes(Buffer.from('a=\u00fc'), 'application/x-www-form-urlencoded; charset=us-ascii'), /US-ASCII/);
  assert.throws(() => parseFormBytes(Buffer.from('a=b'), 'application/x-www-form-urlencoded; charset=Shift_JIS'), /UTF-8/);
});
