import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import * as oidc from 'openid-client';
import { freePort, serviceClient, type Running } from './helpers.ts';
import { spaClient, startOidcServer, users, WEB_SECRET, webClient } from './oidc-helpers.ts';

/**
 * Issue 3 "Done when": the authorization code + PKCE flow in a real browser (Debian chromium via
 * playwright-core), with openid-client as the relying party validating the ID token. No skipping:
 * without chromium this suite fails (CI installs it).
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let s: Running;
let browser: Browser;
/** The client applications: a real HTTP server on loopback that records every request it gets. */
let app: Server;
let appHits: string[] = [];
let APP = '';
let REDIRECT = '';
let SPA_REDIRECT = '';
let LOGOUT_REDIRECT = '';

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  const appPort = await freePort();
  APP = `http://127.0.0.1:${appPort}`;
  [REDIRECT, SPA_REDIRECT, LOGOUT_REDIRECT] = [`${APP}/web/cb`, `${APP}/spa/cb`, `${APP}/web/bye`];
  app = createServer((req, res) => {
    appHits.push(`${APP}${req.url}`);
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title><p>callback</p>');
  });
  await new Promise<void>((r) => app.listen(appPort, '127.0.0.1', r));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
  s = await startOidcServer({
    clients: [
      serviceClient,
      { ...webClient, redirectUris: [REDIRECT], postLogoutRedirectUris: [LOGOUT_REDIRECT] },
      { ...spaClient, redirectUris: [SPA_REDIRECT] },
    ],
    users,
  });
});
after(async () => {
  await browser?.close();
  await s?.dispose();
  await new Promise((r) => app?.close(r));
});

/** A fresh browser profile (no cookies). */
async function newBrowser(): Promise<{ context: BrowserContext; page: Page; appHits: string[] }> {
  appHits = [];
  const context = await browser.newContext();
  return { context, page: await context.newPage(), get appHits() { return appHits; } };
}

async function relyingParty(clientId: string, secret?: string): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(s.url), clientId, undefined, secret ? oidc.ClientSecretBasic(secret) : oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

async function startFlow(config: oidc.Configuration, redirectUri: string, scope: string) {
  const verifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
  });
  return { url, verifier, nonce, state };
}

async function signIn(page: Page, username: string, password: string) {
  await page.getByLabel('Username or e-mail').fill(username);
  await page.getByLabel('Password').fill(password);
  // Keyboard only: Enter submits (usable without a mouse, and without JavaScript).
  await page.getByLabel('Password').press('Enter');
}

describe('authorization code + PKCE in chromium, exchanged by openid-client', () => {
  test('confidential client: authorize → login → consent → redirect → tokens, ID token validated; userinfo; logout', async () => {
    const config = await relyingParty('webapp', WEB_SECRET);
    const flow = await startFlow(config, REDIRECT, 'openid profile email');
    const { context, page } = await newBrowser();
    try {
      const login = await page.goto(flow.url.href);
      assert.equal(login!.status(), 200);
      assert.match(page.url(), /\/login\?iid=/);
      await assert.doesNotReject(page.getByRole('heading', { name: 'Sign in' }).waitFor());
      await signIn(page, 'alice', 'alice-password-1');

      await page.waitForURL(/\/consent\?iid=/);
      assert.ok(await page.getByText('Example Web App').first().isVisible());
      assert.ok(await page.getByText('See your e-mail address').isVisible());
      await page.getByRole('button', { name: 'Allow' }).click();

      await page.waitForURL((u) => u.href.startsWith(REDIRECT));
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('iss'), s.url);

      const tokens = await oidc.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedNonce: flow.nonce,
        expectedState: flow.state,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      assert.match(claims.sub, /^usr_/);
      assert.equal(claims.aud, 'webapp');
      assert.equal(claims.nonce, flow.nonce);
      assert.equal(typeof claims.auth_time, 'number');
      assert.equal(tokens.scope, 'openid profile email');

      const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
      assert.equal(info.email, 'alice@example.com');
      assert.equal(info.name, 'Alice Liddell');

      // RP-initiated logout with the ID token as hint: straight back to the registered URI.
      const end = oidc.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: LOGOUT_REDIRECT, state: 'bye' });
      await page.goto(end.href);
      await page.waitForURL((u) => u.href.startsWith(LOGOUT_REDIRECT));
      assert.equal(new URL(page.url()).searchParams.get('state'), 'bye');
      assert.equal((await context.cookies()).some((c) => c.name === 'tessera-session'), false);
    } finally {
      await context.close();
    }
  });

  test('public client (SPA, auth method none, first-party: no consent screen)', async () => {
    const config = await relyingParty('spa');
    const flow = await startFlow(config, SPA_REDIRECT, 'openid profile');
    const { context, page } = await newBrowser();
    try {
      await page.goto(flow.url.href);
      await signIn(page, 'admin', 'admin-password-1');
      await page.waitForURL((u) => u.href.startsWith(SPA_REDIRECT));
      const tokens = await oidc.authorizationCodeGrant(config, new URL(page.url()), {
        pkceCodeVerifier: flow.verifier,
        expectedNonce: flow.nonce,
        expectedState: flow.state,
        idTokenExpected: true,
      });
      assert.match(tokens.claims()!.sub, /^usr_/);
      const at = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
      assert.deepEqual(at.roles, ['user', 'admin']);
      // The session is now established: a second request needs no password.
      const again = await startFlow(config, SPA_REDIRECT, 'openid');
      await page.goto(again.url.href);
      await page.waitForURL((u) => u.href.startsWith(SPA_REDIRECT) && u.searchParams.get('state') === again.state);
    } finally {
      await context.close();
    }
  });

  test('wrong password: the form again with one message, no session, no redirect', async () => {
    const config = await relyingParty('webapp', WEB_SECRET);
    const flow = await startFlow(config, REDIRECT, 'openid');
    const { context, page, appHits } = await newBrowser();
    try {
      await page.goto(flow.url.href);
      const response = page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST');
      await signIn(page, 'alice', 'not-her-password');
      assert.equal((await response).status(), 401);
      await page.getByRole('alert').waitFor();
      assert.equal(await page.getByRole('alert').textContent(), 'Incorrect username or password.');
      assert.equal(await page.getByLabel('Username or e-mail').inputValue(), 'alice');
      assert.equal((await context.cookies()).some((c) => c.name === 'tessera-session'), false);
      assert.deepEqual(appHits, []);
      // And the right password still works from the same page (consent may be remembered already).
      await signIn(page, 'alice', 'alice-password-1');
      await page.waitForURL((u) => u.pathname === '/consent' || u.href.startsWith(REDIRECT));
    } finally {
      await context.close();
    }
  });

  test('Deny → the client receives access_denied (openid-client reports it)', async () => {
    const config = await relyingParty('webapp', WEB_SECRET);
    const flow = await startFlow(config, REDIRECT, 'openid profile');
    const { context, page } = await newBrowser();
    try {
      await page.goto(flow.url.href);
      // admin has not approved this client before, so the consent screen appears.
      await signIn(page, 'admin', 'admin-password-1');
      await page.waitForURL(/\/consent\?iid=/);
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.waitForURL((u) => u.href.startsWith(REDIRECT));
      const callback = new URL(page.url());
      assert.equal(callback.searchParams.get('error'), 'access_denied');
      await assert.rejects(
        oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state }),
        (e: Error & { error?: string }) => e.error === 'access_denied',
      );
    } finally {
      await context.close();
    }
  });

  test('a login form without its CSRF token → 403 page, no session', async () => {
    const config = await relyingParty('webapp', WEB_SECRET);
    const flow = await startFlow(config, REDIRECT, 'openid');
    const { context, page, appHits } = await newBrowser();
    try {
      await page.goto(flow.url.href);
      await page.locator('input[name="csrf"]').evaluate((el) => el.remove());
      const response = page.waitForResponse((r) => r.url().endsWith('/login') && r.request().method() === 'POST');
      await signIn(page, 'alice', 'alice-password-1');
      assert.equal((await response).status(), 403);
      await page.getByRole('heading', { name: 'This form has expired' }).waitFor();
      assert.equal((await context.cookies()).some((c) => c.name === 'tessera-session'), false);
      assert.deepEqual(appHits, []);
    } finally {
      await context.close();
    }
  });

  test('an unregistered redirect URI is never redirected to', async () => {
    const config = await relyingParty('webapp', WEB_SECRET);
    const flow = await startFlow(config, `${APP}/evil/cb`, 'openid');
    const { context, page, appHits } = await newBrowser();
    try {
      const res = await page.goto(flow.url.href);
      assert.equal(res!.status(), 400);
      assert.ok(page.url().startsWith(s.url));
      await page.getByRole('heading', { name: 'The request could not be completed' }).waitFor();
      assert.match((await page.getByRole('alert').textContent())!, /redirect_uri is not registered/);
      assert.deepEqual(appHits, []);
    } finally {
      await context.close();
    }
  });
});
