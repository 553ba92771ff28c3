import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { postForm, serviceClient, startServer, type Running } from './helpers.ts';
import { users } from './oidc-helpers.ts';
import { DEVICE_GRANT } from '../src/engine/device/index.ts';
import { backends } from './support/backends.ts';

/**
 * RFC 8628 end to end: openid-client's device-flow helpers on the device, headless Chromium on the
 * /device page signing in, entering or confirming the code, and approving or denying. Without
 * chromium this suite fails (CI installs it).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const tv = { id: 'tv', name: 'Living Room TV', type: 'public' as const, grants: [DEVICE_GRANT, 'refresh_token'], scopes: ['openid', 'profile', 'orders:read'], audience: 'https://orders.example' };
const bob = { username: 'bob', password: 'bob-password-1', name: 'Bob Builder', roles: ['user'] };
const carol = { username: 'carol', password: 'carol-password-1', name: 'Carol Second', roles: ['user'], mfa: 'required' as const };

let browser: Browser;
before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
});

async function device(s: Running): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(s.url), 'tv', undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

async function signIn(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username or e-mail').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Password').press('Enter');
}

async function enterCode(page: Page, code: string): Promise<void> {
  await page.getByLabel('Code').fill(code);
  await page.getByRole('button', { name: 'Continue' }).click();
}

for (const backend of backends) {
  describe(`device flow: openid-client on the device, chromium on /device (${backend.name})`, () => {
    let s: Running;
    let drop: () => Promise<void>;
    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      s = await startServer({ databaseUrl: db.url, clients: [serviceClient, tv], users: [...users, bob, carol], device: { interval: 1 } });
    });
    after(async () => {
      await s?.dispose();
      await drop?.();
    });

    test('verification_uri_complete: sign in, the code is prefilled but needs a click, client and scopes shown, Allow → tokens once', async () => {
      const config = await device(s);
      assert.equal(config.serverMetadata().device_authorization_endpoint, `${s.url}/device_authorization`);
      const auth = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile orders:read' });
      const polling = oidc.pollDeviceAuthorizationGrant(config, auth);

      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        const res = await page.goto(auth.verification_uri_complete!);
        assert.equal(res!.status(), 200);
        // Same page headers as login/consent (A13, A14).
        const headers = res!.headers();
        assert.match(headers['content-security-policy']!, /frame-ancestors 'none'/);
        assert.equal(headers['x-frame-options'], 'DENY');
        assert.equal(headers['referrer-policy'], 'no-referrer');
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await signIn(page, 'alice', 'alice-password-1');

        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        assert.equal(await page.getByLabel('Code').inputValue(), auth.user_code, 'prefilled from verification_uri_complete');
        // Nothing is approved by visiting the link (RFC 8628 §5.4).
        const stillPending = await postForm(`${s.url}/token`, { grant_type: DEVICE_GRANT, device_code: auth.device_code, client_id: 'tv' });
        assert.ok(['authorization_pending', 'slow_down'].includes(((await stillPending.json()) as { error: string }).error));
        await page.getByRole('button', { name: 'Continue' }).click();

        await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
        assert.ok(await page.getByText('Living Room TV').first().isVisible());
        assert.ok(await page.getByText(auth.user_code).first().isVisible());
        assert.ok(await page.getByText('See your name and username').isVisible());
        assert.ok(await page.getByText('orders:read').isVisible());
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.getByRole('heading', { name: 'Device connected' }).waitFor();
      } finally {
        await context.close();
      }

      const tokens = await polling;
      const claims = tokens.claims()!;
      assert.match(claims.sub, /^usr_/);
      assert.equal(claims.aud, 'tv');
      assert.equal(claims.iss, s.url);
      assert.equal(tokens.scope, 'openid profile orders:read');
      assert.ok(tokens.refresh_token);
      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.name, 'Alice Liddell');

      // Used once: polling the same device code again is invalid_grant.
      await assert.rejects(oidc.pollDeviceAuthorizationGrant(config, { ...auth, interval: 1 }), (e: unknown) => (e as { error?: string }).error === 'invalid_grant');
    });

    test('a user who must use a second factor cannot approve with a password-only session (no MFA bypass via /device)', async () => {
      const config = await device(s);
      const auth = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile' });
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(auth.verification_uri_complete!);
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        await signIn(page, 'carol', 'carol-password-1');
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
        const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Allow' }).click()]);
        assert.equal(res.status(), 403);
        assert.ok(await page.getByText('needs a second factor').isVisible());
      } finally {
        await context.close();
      }
      const poll = await postForm(`${s.url}/token`, { grant_type: DEVICE_GRANT, device_code: auth.device_code, client_id: 'tv' });
      assert.ok(['authorization_pending', 'slow_down'].includes(((await poll.json()) as { error: string }).error), 'still undecided');
    });

    test('verification_uri: typed in lower case without the dash; Deny → access_denied at the device', async () => {
      const config = await device(s);
      const auth = await oidc.initiateDeviceAuthorization(config, { scope: 'orders:read' });
      const polling = oidc.pollDeviceAuthorizationGrant(config, auth);
      const denied = assert.rejects(polling, (e: unknown) => (e as { error?: string }).error === 'access_denied');

      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(auth.verification_uri);
        await signIn(page, 'alice', 'alice-password-1');
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        assert.equal(await page.getByLabel('Code').inputValue(), '');
        await enterCode(page, auth.user_code.replace('-', '').toLowerCase());
        await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
        await page.getByRole('button', { name: 'Deny' }).click();
        await page.getByRole('heading', { name: 'Access denied' }).waitFor();
      } finally {
        await context.close();
      }
      await denied;
    });

    test('a signed-in session is reused: the page asks for the code straight away; another account can sign in', async () => {
      const config = await device(s);
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${s.url}/device`);
        await signIn(page, 'alice', 'alice-password-1');
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        assert.ok(await page.getByText('Alice Liddell').isVisible());
        // A shared computer: "Use another account" signs Alice out and asks who is there.
        await page.getByRole('button', { name: 'Use another account' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor();
        assert.ok(!(await context.cookies()).some((c) => c.name === 'tessera-session'));
        await signIn(page, 'bob', 'bob-password-1');
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        assert.ok(await page.getByText('Bob Builder').isVisible());
        const auth = await oidc.initiateDeviceAuthorization(config, { scope: 'orders:read' });
        const polling = oidc.pollDeviceAuthorizationGrant(config, auth);
        await page.goto(auth.verification_uri_complete!);
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('button', { name: 'Allow' }).click();
        await page.getByRole('heading', { name: 'Device connected' }).waitFor();
        const tokens = await polling;
        const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as { sub: string };
        assert.equal(claims.sub, (await s.tessera.ctx.stores.users.findByLogin('bob'))!.sub);
      } finally {
        await context.close();
      }
    });

    test('the Allow token is bound to the code shown; unknown steps and decisions are 400, never 500', async () => {
      const config = await device(s);
      const shown = await oidc.initiateDeviceAuthorization(config, { scope: 'orders:read' });
      const other = await oidc.initiateDeviceAuthorization(config, { scope: 'openid profile orders:read' });
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(shown.verification_uri_complete!);
        await signIn(page, 'alice', 'alice-password-1');
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
        const csrf = await page.locator('form:has(input[name=step][value=decide]) input[name=csrf]').inputValue();
        const post = (form: Record<string, string>) => page.request.post(`${s.url}/device`, { form, headers: { origin: s.url }, maxRedirects: 0 });
        assert.equal((await post({ step: 'bogus', csrf })).status(), 400);
        assert.equal((await post({ step: 'decide', csrf, user_code: shown.user_code, decision: 'maybe' })).status(), 400);
        // A page that showed one code cannot approve another (RFC 8628 §5.4: the user saw what they allow).
        assert.equal((await post({ step: 'decide', csrf, user_code: other.user_code, decision: 'allow' })).status(), 403);
        const res = await postForm(`${s.url}/token`, { grant_type: DEVICE_GRANT, device_code: other.device_code, client_id: 'tv' });
        assert.equal(((await res.json()) as { error: string }).error, 'authorization_pending');
        assert.equal((await post({ step: 'decide', csrf, user_code: shown.user_code, decision: 'allow' })).status(), 200);
      } finally {
        await context.close();
      }
    });

    test('form posts to /device without the CSRF token, or from a foreign origin, are 403', async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        await page.goto(`${s.url}/device`);
        const cookies = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
        const noToken = await postForm(`${s.url}/device`, { step: 'login', username: 'alice', password: 'alice-password-1' }, { cookie: cookies });
        assert.equal(noToken.status, 403);
        const csrf = await page.locator('input[name=csrf]').inputValue();
        const foreign = await postForm(`${s.url}/device`, { step: 'login', csrf, username: 'alice', password: 'alice-password-1' }, { cookie: cookies, origin: 'https://evil.example' });
        assert.equal(foreign.status, 403);
        const ok = await fetch(`${s.url}/device`, {
          method: 'POST',
          redirect: 'manual',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies, origin: s.url },
          body: new URLSearchParams({ step: 'login', csrf, username: 'alice', password: 'alice-password-1' }).toString(),
        });
        assert.equal(ok.status, 303);
        assert.equal(ok.headers.get('location'), '/device');
      } finally {
        await context.close();
      }
    });
  });

  describe(`device flow: wrong user codes are throttled per user and per IP (${backend.name})`, () => {
    let s: Running;
    let drop: () => Promise<void>;
    before(async () => {
      const db = await backend.create();
      drop = db.drop;
      s = await startServer({ databaseUrl: db.url, clients: [serviceClient, tv], users: [...users, bob], device: { interval: 1, maxFailuresPerUser: 3, maxFailuresPerIp: 5 } });
    });
    after(async () => {
      await s?.dispose();
      await drop?.();
    });

    test('after 3 wrong codes a user is refused even the right one (429 + Retry-After); the IP limit stops the next user too', async () => {
      const config = await device(s);
      const auth = await oidc.initiateDeviceAuthorization(config, { scope: 'orders:read' });
      const bobContext = await browser.newContext();
      const alice = await browser.newContext();
      try {
        const page = await bobContext.newPage();
        await page.goto(`${s.url}/device`);
        await signIn(page, 'bob', 'bob-password-1');
        await page.getByRole('heading', { name: 'Connect a device' }).waitFor();
        for (const wrong of ['BBBB-BBBB', 'CCCC-CCCC', 'AAAA-1111']) {
          const answer = page.waitForResponse((r) => r.url() === `${s.url}/device` && r.request().method() === 'POST');
          await enterCode(page, wrong);
          assert.equal((await answer).status(), 400);
          assert.ok(await page.getByText('That code is not valid').isVisible());
        }
        const refused = page.waitForResponse((r) => r.url() === `${s.url}/device` && r.request().method() === 'POST');
        await enterCode(page, auth.user_code);
        const r = await refused;
        assert.equal(r.status(), 429);
        assert.ok(Number(r.headers()['retry-after']) > 0);
        assert.ok(await page.getByText('Too many failed attempts').isVisible());

        // Another user from the same address: two more failures reach the IP limit of 5.
        const other = await alice.newPage();
        await other.goto(`${s.url}/device`);
        await signIn(other, 'alice', 'alice-password-1');
        await other.getByRole('heading', { name: 'Connect a device' }).waitFor();
        await enterCode(other, 'DDDD-DDDD');
        await other.getByText('That code is not valid').waitFor();
        // Alice still has her own budget, and the right code works until the IP limit is reached.
        await enterCode(other, 'FFFF-FFFF');
        await other.getByText('That code is not valid').waitFor();
        const ipRefused = other.waitForResponse((x) => x.url() === `${s.url}/device` && x.request().method() === 'POST');
        await enterCode(other, auth.user_code);
        assert.equal((await ipRefused).status(), 429);
      } finally {
        await bobContext.close();
        await alice.close();
      }
    });
  });
}
