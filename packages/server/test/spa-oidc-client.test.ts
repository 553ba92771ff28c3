import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createServer, type Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort, postForm, serviceClient, startServer, type Running } from './helpers.ts';
import { users } from './oidc-helpers.ts';

/**
 * Issue 12 item 5: a single-page app on another origin, using oidc-client-ts (its browser bundle, as an
 * SPA would load it) configured with nothing but `authority`, in chromium: discovery and JWKS across
 * origins, login through Tessera's own login and consent pages, code exchange, userinfo, silent renew
 * by refresh token, revocation, RP-initiated sign-out. A page on an origin no client allows cannot
 * read the token or revocation endpoints.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PACKAGE = dirname(createRequire(import.meta.url).resolve('oidc-client-ts/package.json'));
const BUNDLE = readFileSync(join(PACKAGE, 'dist/browser/oidc-client-ts.min.js'), 'utf8');

let s: Running;
let browser: Browser;
let spa: Server;
let other: Server;
let SPA = '';
let OTHER = '';

/** The SPA: every page loads the bundle and makes a UserManager from `authority` and its own URLs only. */
function spaPage(body: string): string {
  return `<!doctype html><meta charset="utf-8"><title>spa</title>
<script src="/oidc-client-ts.js"></script>
<script>
  window.mgr = new oidc.UserManager({
    authority: ${JSON.stringify(s.url)},
    client_id: 'spa-app',
    redirect_uri: location.origin + '/cb',
    post_logout_redirect_uri: location.origin + '/bye',
    scope: 'openid profile',
    loadUserInfo: true,
    userStore: new oidc.WebStorageStateStore({ store: window.localStorage }),
  });
</script>
<script>${body}</script><p>spa</p>`;
}

function pageServer(pages: Record<string, () => string>): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/oidc-client-ts.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(BUNDLE);
    const html = pages[path];
    if (html === undefined) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(html());
  });
}

async function listen(server: Server): Promise<string> {
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return `http://127.0.0.1:${port}`;
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `chromium not found at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH`);
  spa = pageServer({
    '/': () => spaPage(''),
    '/cb': () => spaPage("mgr.signinCallback().then((u) => { window.signedIn = u.profile.sub; }, (e) => { window.failed = String(e); });"),
    '/bye': () => spaPage("mgr.signoutCallback().then(() => { window.signedOut = true; }, (e) => { window.failed = String(e); });"),
  });
  other = pageServer({ '/': () => '<!doctype html><title>other</title><p>other</p>' });
  SPA = await listen(spa);
  OTHER = await listen(other);
  s = await startServer({
    clients: [
      serviceClient,
      {
        id: 'spa-app',
        name: 'Example SPA',
        type: 'public',
        grants: ['authorization_code', 'refresh_token'],
        scopes: ['openid', 'profile'],
        redirectUris: [`${SPA}/cb`],
        postLogoutRedirectUris: [`${SPA}/bye`],
      },
    ],
    users,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--no-first-run'] });
});
after(async () => {
  await browser?.close();
  await s?.dispose();
  await Promise.all([spa, other].map((x) => new Promise((r) => (x ? x.close(r) : r(undefined)))));
});

/** Starts `mgr.signinRedirect()` and waits for Tessera's login page (or reports why the SPA failed). */
async function startLogin(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = globalThis as unknown as { mgr: { signinRedirect(): Promise<void> }; failed?: string };
    w.mgr.signinRedirect().catch((e: unknown) => { w.failed = String(e); });
  });
  await Promise.race([
    page.waitForURL((u) => u.href.startsWith(`${s.url}/login?iid=`)),
    page.waitForFunction(() => (globalThis as unknown as { failed?: string }).failed).then(async () => {
      throw new Error(`signinRedirect failed: ${await page.evaluate(() => (globalThis as unknown as { failed: string }).failed)}`);
    }),
  ]);
}

interface SpaUser { access_token: string; refresh_token?: string; id_token?: string; profile: Record<string, unknown> }

test('oidc-client-ts with only `authority`: login, userinfo, silent renew by refresh token, revokeTokens, signoutRedirect', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const tesseraRequests: string[] = [];
  page.on('request', (r) => {
    if (r.url().startsWith(s.url)) tesseraRequests.push(`${r.method()} ${new URL(r.url()).pathname} ${r.postData() ?? ''}`);
  });
  try {
    await page.goto(`${SPA}/`);
    // Discovery across origins (the issue: no CORS on discovery, so this never left the SPA).
    await startLogin(page);
    await page.getByLabel('Username or e-mail').fill('alice');
    await page.getByLabel('Password').fill('alice-password-1');
    await page.getByLabel('Password').press('Enter');
    await page.waitForURL(/\/consent\?iid=/);
    assert.ok(await page.getByText('Example SPA').first().isVisible());
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${SPA}/cb`));
    await page.waitForFunction(() => (globalThis as unknown as { signedIn?: string; failed?: string }).signedIn ?? (globalThis as unknown as { failed?: string }).failed);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { failed?: string }).failed), undefined);

    type Mgr = {
      getUser(): Promise<SpaUser | null>;
      signinSilent(): Promise<SpaUser | null>;
      revokeTokens(): Promise<void>;
      signoutRedirect(): Promise<void>;
      metadataService: { getSigningKeys(): Promise<{ kid?: string; alg?: string }[] | null>; getMetadata(): Promise<Record<string, unknown>> };
    };
    const first = (await page.evaluate(() => (globalThis as unknown as { mgr: Mgr }).mgr.getUser()))!;
    assert.match(String(first.profile.sub), /^usr_/);
    // `name` is not in Tessera's ID token: it came from /userinfo (loadUserInfo), read across origins.
    assert.equal(first.profile.name, 'Alice Liddell');
    assert.ok(first.refresh_token, 'a refresh token for the SPA');
    assert.ok(tesseraRequests.some((r) => r.startsWith('GET /userinfo')));

    // The JWKS, read by oidc-client-ts's own metadata service from the SPA's origin.
    const keys = await page.evaluate(() => (globalThis as unknown as { mgr: Mgr }).mgr.metadataService.getSigningKeys());
    assert.ok(keys && keys.some((k) => k.alg === 'RS256'));

    // Silent renew with the refresh token: a POST /token from the page, no iframe to /authorize.
    const before = tesseraRequests.length;
    const renewed = (await page.evaluate(() => (globalThis as unknown as { mgr: Mgr }).mgr.signinSilent()))!;
    const renewRequests = tesseraRequests.slice(before);
    assert.ok(renewRequests.some((r) => r.startsWith('POST /token') && r.includes('grant_type=refresh_token')), renewRequests.join('\n'));
    assert.ok(!renewRequests.some((r) => r.includes('/authorize')));
    assert.notEqual(renewed.access_token, first.access_token);
    assert.notEqual(renewed.refresh_token, first.refresh_token, 'rotated');
    assert.equal(renewed.profile.sub, first.profile.sub);
    const info = await fetch(`${s.url}/userinfo`, { headers: { authorization: `Bearer ${renewed.access_token}` } });
    assert.equal(info.status, 200);

    // revokeTokens(): both tokens, at /revoke from the SPA's origin; they stop working.
    await page.evaluate(() => (globalThis as unknown as { mgr: Mgr }).mgr.revokeTokens());
    assert.equal(tesseraRequests.filter((r) => r.startsWith('POST /revoke')).length, 2);
    const refresh = await postForm(`${s.url}/token`, { grant_type: 'refresh_token', refresh_token: renewed.refresh_token!, client_id: 'spa-app' });
    assert.equal(refresh.status, 400);
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
    assert.equal((await fetch(`${s.url}/userinfo`, { headers: { authorization: `Bearer ${renewed.access_token}` } })).status, 401);

    // signoutRedirect(): the id_token_hint names the session, so Tessera ends it and returns to the SPA.
    await page.evaluate(() => { void (globalThis as unknown as { mgr: Mgr }).mgr.signoutRedirect(); });
    await page.waitForURL((u) => u.href.startsWith(`${SPA}/bye`));
    await page.waitForFunction(() => (globalThis as unknown as { signedOut?: boolean; failed?: string }).signedOut ?? (globalThis as unknown as { failed?: string }).failed);
    assert.equal(await page.evaluate(() => (globalThis as unknown as { failed?: string }).failed), undefined);
    // The Tessera session is gone: a new sign-in asks for the password again.
    await startLogin(page);
    assert.ok(await page.getByLabel('Password').isVisible());
  } finally {
    await context.close();
  }
});

test('a page on an origin no client allows reads discovery and the JWKS, but not /token or /revoke', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(`${OTHER}/`);
    // A string, not a function: tsx would wrap named inner functions in a helper the page lacks.
    const result = await page.evaluate(`(async () => {
      const issuer = ${JSON.stringify(s.url)};
      const form = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      const out = {};
      for (const [name, url, init] of [
        ['discovery', issuer + '/.well-known/openid-configuration'],
        ['jwks', issuer + '/jwks.json'],
        ['token', issuer + '/token', { ...form, body: 'grant_type=refresh_token&refresh_token=x&client_id=spa-app' }],
        ['revoke', issuer + '/revoke', { ...form, body: 'client_id=spa-app&token=x' }],
        ['userinfo', issuer + '/userinfo', { headers: { authorization: 'Bearer x' } }],
      ]) {
        try {
          out[name] = 'read ' + (await fetch(url, init)).status;
        } catch {
          out[name] = 'blocked';
        }
      }
      return out;
    })()`);
    assert.deepEqual(result, { discovery: 'read 200', jwks: 'read 200', token: 'blocked', revoke: 'blocked', userinfo: 'blocked' });
  } finally {
    await context.close();
  }
});
