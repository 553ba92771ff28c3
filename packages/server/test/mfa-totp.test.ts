import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generate } from 'otplib';
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { basic, postForm, serviceClient, type Running } from './helpers.ts';
import { Agent, REDIRECT, WEB_SECRET, authParams, hidden, location, pkce, spaClient, startOidcServer, tokenRequest, webClient } from './oidc-helpers.ts';
import { backends, type Backend, type TestDatabase } from './support/backends.ts';

/**
 * Issue 15 §2, §3: TOTP enrolment, password + code sign-in, replay protection, recovery codes,
 * throttling, MFA policy (user, client, acr_values), amr/acr/auth_time in tokens — over real HTTP on
 * SQLite and PostgreSQL. Codes are computed here from the secret the setup page shows, with otplib.
 */
const ACR_MFA = 'urn:tessera:acr:mfa';
const ACR_PWD = 'urn:tessera:acr:pwd';
const pw = (u: string) => `${u}-password-1`;
const mfaUsers = ['carol', 'dave', 'erin', 'gus', 'hal'].map((u) => ({ username: u, password: pw(u), roles: ['user'] }));
const frank = { username: 'frank', password: pw('frank'), roles: ['user'], mfa: 'required' as const };
const legacy = { id: 'legacy', name: 'Legacy', type: 'confidential' as const, secret: 'legacy-secret-0123456789abcdef', grants: ['password'], scopes: ['orders:read'], audience: 'https://orders.example' };
const strict = { ...webClient, id: 'strict', name: 'Strict App', requireMfa: true, firstParty: true, grants: ['authorization_code', 'refresh_token'] };
const now = () => Math.floor(Date.now() / 1000);

/** The next code this server accepts after `lastStep`: the following 30 s step (within the ±1 window). */
async function nextCode(secret: string, step: number): Promise<string> {
  return generate({ secret, epoch: (step + 1) * 30 });
}

function stepOf(t = now()): number {
  return Math.floor(t / 30);
}

async function page(agent: Agent, path: string): Promise<{ res: Response; html: string }> {
  const res = await agent.get(path);
  return { res, html: await res.text() };
}

/** Follows 303s on our own pages until the client redirect, a login page, the code page or the setup page. */
async function follow(agent: Agent, res: Response): Promise<Response> {
  for (let i = 0; i < 10 && res.status === 303; i++) {
    const loc = location(res);
    if (!loc.startsWith('/') || loc.startsWith('/login') || loc.startsWith('/consent') || loc.startsWith('/mfa/')) return res;
    res = await agent.get(loc);
  }
  return res;
}

/** authorize → login page → password; returns the response to the password POST. */
async function password(agent: Agent, params: URLSearchParams, username: string): Promise<Response> {
  const start = await follow(agent, await agent.get(`/authorize?${params}`));
  assert.equal(start.status, 303);
  const loc = location(start);
  assert.match(loc, /^\/login\?iid=/);
  const { html } = await page(agent, loc);
  return agent.post('/login', { iid: hidden(html, 'iid')!, csrf: hidden(html, 'csrf')!, username, password: pw(username) });
}

async function submitCode(agent: Agent, codePage: string, code: string): Promise<Response> {
  return agent.post('/login/mfa', { iid: hidden(codePage, 'iid')!, csrf: hidden(codePage, 'csrf')!, ticket: hidden(codePage, 'ticket')!, code });
}

/** Consent (if asked) and the final redirect to the client. */
async function finish(agent: Agent, res: Response): Promise<URL> {
  res = await follow(agent, res);
  if (res.status === 303 && location(res).startsWith('/consent')) {
    const { html } = await page(agent, location(res));
    res = await follow(agent, await agent.post('/consent', { iid: hidden(html, 'iid')!, csrf: hidden(html, 'csrf')!, decision: 'allow' }));
  }
  assert.equal(res.status, 303, 'expected the redirect to the client');
  return new URL(location(res));
}

/** Enrols TOTP on the setup page; returns the secret, the recovery codes and the step the first code used. */
async function enrol(agent: Agent, path = '/mfa/totp/setup'): Promise<{ secret: string; recovery: string[]; step: number; done: string }> {
  const { res, html } = await page(agent, path);
  assert.equal(res.status, 200, html.slice(0, 300));
  assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  assert.match(html, /<svg[^>]*viewBox/, 'the QR code is inline SVG rendered by the server');
  assert.doesNotMatch(html, /<script/i);
  const secret = /<code id="secret">([A-Z2-7]+)<\/code>/.exec(html)?.[1];
  assert.ok(secret, 'the setup page shows the key for manual entry');
  const form = { csrf: hidden(html, 'csrf')!, ...(hidden(html, 'iid') ? { iid: hidden(html, 'iid')! } : {}) };
  const wrong = await agent.post('/mfa/totp/setup', { ...form, code: (Number(await generate({ secret, epoch: now() })) ^ 1).toString().padStart(6, '0') });
  assert.equal(wrong.status, 401, 'a wrong first code does not confirm');
  const step = stepOf();
  const ok = await agent.post('/mfa/totp/setup', { ...form, code: await generate({ secret, epoch: now() }) });
  const done = await ok.text();
  assert.equal(ok.status, 200, done.slice(0, 400));
  const recovery = [...done.matchAll(/<li><code>([a-z2-9]{5}-[a-z2-9]{5})<\/code><\/li>/g)].map((m) => m[1]!);
  assert.equal(recovery.length, 10, 'ten recovery codes, shown once');
  return { secret, recovery, step: Math.max(step, stepOf() - 1), done };
}

async function codeFor(agent: Agent, params: URLSearchParams, verifier: string, clientId = webClient.id): Promise<Record<string, unknown>> {
  const cb = await finish(agent, await agent.get(`/authorize?${params}`));
  const res = await tokenRequest(agent.base, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier }, WEB_SECRET, clientId);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

function suite(backend: Backend) {
  let tdb: TestDatabase;
  let s: Running;
  before(async () => {
    tdb = await backend.create();
    s = await startOidcServer({
      databaseUrl: tdb.url,
      clients: [serviceClient, webClient, spaClient, legacy, strict],
      users: [...mfaUsers, frank],
      login: { maxFailuresPerAccount: 3 },
    });
  });
  after(async () => {
    await s?.dispose();
    await tdb?.drop();
  });

  const signedIn = async (username: string): Promise<Agent> => {
    const agent = new Agent(s.url);
    await finish(agent, await password(agent, authParams(pkce().challenge), username));
    return agent;
  };

  test('enrol, then password + code; the ID token says amr pwd otp mfa (openid-client); a replayed code and a reused recovery code are refused', async () => {
    const carol = await enrol(await signedIn('carol'));
    const row = await s.tessera.ctx.stores.mfa.getTotp((await s.tessera.ctx.stores.users.findByLogin('carol'))!.sub);
    assert.ok(row?.confirmedAt !== undefined);
    assert.doesNotMatch(row!.secretEnc, new RegExp(carol.secret), 'the secret is encrypted at rest');

    // The code exchange through openid-client, which checks the ID token (signature, nonce, at_hash).
    const config = await oidc.discovery(new URL(s.url), webClient.id, {}, oidc.ClientSecretBasic(WEB_SECRET), { execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks] });
    assert.deepEqual(config.serverMetadata().acr_values_supported, [ACR_PWD, ACR_MFA]);
    const verifier = oidc.randomPKCECodeVerifier();
    const nonce = oidc.randomNonce();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid profile', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', nonce, state: 'st' });
    const agent = new Agent(s.url);
    const afterPassword = await password(agent, url.searchParams, 'carol');
    const codePage = await afterPassword.text();
    assert.equal(afterPassword.status, 200, 'the password leads to the code page');
    assert.match(codePage, /autocomplete="one-time-code"/);
    assert.equal([...agent.cookies.keys()].some((k) => k.endsWith('tessera-session')), false, 'no session before the second factor');
    const code = await nextCode(carol.secret, carol.step);
    const signIn = await submitCode(agent, codePage, code);
    assert.equal(signIn.status, 303);
    const callback = await finish(agent, signIn);
    const before = now();
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedNonce: nonce, expectedState: 'st', idTokenExpected: true });
    const claims = tokens.claims()!;
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.acr, ACR_MFA);
    assert.ok(typeof claims.auth_time === 'number' && claims.auth_time <= before && claims.auth_time > before - 120);
    const at = decodeJwt(tokens.access_token);
    assert.deepEqual(at.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(at.acr, ACR_MFA);
    assert.equal(at.auth_time, claims.auth_time);

    // The same code again, in another browser that knows the password: refused (replay protection).
    const other = new Agent(s.url);
    const replayPage = await (await password(other, authParams(pkce().challenge), 'carol')).text();
    const replay = await submitCode(other, replayPage, code);
    assert.equal(replay.status, 401);
    assert.match(await replay.text(), /not valid/);

    // A recovery code works once (also upper case with spaces), never twice.
    const recovered = await submitCode(other, replayPage, carol.recovery[0]!.toUpperCase().replace('-', ' '));
    assert.equal(recovered.status, 303, 'a recovery code is accepted');
    const third = new Agent(s.url);
    const again = await submitCode(third, await (await password(third, authParams(pkce().challenge), 'carol')).text(), carol.recovery[0]!);
    assert.equal(again.status, 401, 'a used recovery code is refused');
    assert.equal(await s.tessera.ctx.stores.mfa.unusedRecoveryCodes(row!.sub), 9);

    // Setting up again while enrolled is refused (reset is the CLI's or the account page's).
    assert.equal((await other.get('/mfa/totp/setup')).status, 409);

    // The password grant cannot provide a second factor: a clear invalid_grant.
    const grant = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'carol', password: pw('carol') }, { authorization: basic(legacy.id, legacy.secret) });
    assert.equal(grant.status, 400);
    const body = (await grant.json()) as { error: string; error_description: string };
    assert.equal(body.error, 'invalid_grant');
    assert.match(body.error_description, /second factor/);
    // A wrong password still gets the plain answer (MFA status is not revealed to guessers).
    const guess = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'carol', password: 'nope-nope-nope' }, { authorization: basic(legacy.id, legacy.secret) });
    assert.equal(((await guess.json()) as { error_description: string }).error_description, 'invalid username or password');
  });

  test('wrong codes are throttled per account: 429 with Retry-After, even for the right code, from a new browser too', async () => {
    const dave = await enrol(await signedIn('dave'));
    const agent = new Agent(s.url);
    const codePage = await (await password(agent, authParams(pkce().challenge), 'dave')).text();
    for (let i = 0; i < 3; i++) assert.equal((await submitCode(agent, codePage, '000000')).status, 401);
    const blocked = await submitCode(agent, codePage, await nextCode(dave.secret, dave.step));
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) > 0);
    assert.match(await blocked.text(), /Too many wrong codes/);
    const fresh = new Agent(s.url);
    const other = await submitCode(fresh, await (await password(fresh, authParams(pkce().challenge), 'dave')).text(), await nextCode(dave.secret, dave.step));
    assert.equal(other.status, 429, 'the per-account limit holds across browsers');
    // Security events reach the metrics (and the audit log): enrolments, failures, throttling.
    const metrics = await (await fetch(`${s.managementUrl}/metrics`)).text();
    const count = (event: string) => Number(new RegExp(`tessera_security_events_total\\{event="${event}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
    assert.ok(count('mfa_verification_failed') >= 3);
    assert.ok(count('mfa_throttled') >= 2);
    assert.ok(count('mfa_totp_enrolled') >= 1);
  });

  test('a forged or foreign ticket is refused with 403', async () => {
    const agent = new Agent(s.url);
    const codePage = await (await password(agent, authParams(pkce().challenge), 'carol')).text();
    const ticket = hidden(codePage, 'ticket')!;
    const forged = ticket.replace(/^usr_[^.]+/, 'usr_AAAAAAAAAAAAAAAAAAAAAA');
    const res = await agent.post('/login/mfa', { iid: hidden(codePage, 'iid')!, csrf: hidden(codePage, 'csrf')!, ticket: forged, code: '123456' });
    assert.equal(res.status, 403);
  });

  test('mfa: required sends a user without a factor to enrolment inside the flow; the code then carries amr mfa', async () => {
    const agent = new Agent(s.url);
    const { verifier, challenge } = pkce();
    const params = authParams(challenge);
    const res = await follow(agent, await password(agent, params, 'frank'));
    assert.equal(res.status, 303);
    const loc = location(res);
    assert.match(loc, /^\/mfa\/totp\/setup\?iid=/);
    const { done } = await enrol(agent, loc);
    const next = /<a href="([^"]+)">Continue/.exec(done)?.[1]?.replace(/&amp;/g, '&');
    assert.ok(next?.startsWith('/authorize/resume?iid='));
    const cb = await finish(agent, await agent.get(next!));
    const tok = await tokenRequest(s.url, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier });
    const body = (await tok.json()) as { id_token: string; access_token: string };
    assert.deepEqual(decodeJwt(body.id_token).amr, ['pwd', 'otp', 'mfa']);
    assert.equal(decodeJwt(body.access_token).acr, ACR_MFA);
    // And the password grant refuses frank by policy.
    const grant = await postForm(`${s.url}/token`, { grant_type: 'password', username: 'frank', password: pw('frank') }, { authorization: basic(legacy.id, legacy.secret) });
    assert.equal(((await grant.json()) as { error: string }).error, 'invalid_grant');
  });

  test('acr_values=urn:tessera:acr:mfa steps up a password session; prompt=none cannot; a requireMfa client asks too', async () => {
    const agent = await signedIn('erin');
    // The password-only session gives acr pwd.
    const first = pkce();
    const plain = await codeFor(agent, authParams(first.challenge), first.verifier);
    assert.deepEqual(decodeJwt(plain.access_token as string).amr, ['pwd']);
    assert.equal(decodeJwt(plain.id_token as string).acr, ACR_PWD);
    // prompt=none with acr_values mfa: login_required to the client, never a page.
    const none = await follow(agent, await agent.get(`/authorize?${authParams(pkce().challenge, { prompt: 'none', acr_values: ACR_MFA })}`));
    assert.equal(new URL(location(none)).searchParams.get('error'), 'login_required');
    // acr_values mfa: the flow asks for enrolment (erin has no factor yet), then issues with acr mfa.
    const up = pkce();
    const res = await follow(agent, await agent.get(`/authorize?${authParams(up.challenge, { acr_values: `${ACR_MFA} ${ACR_PWD}` })}`));
    assert.match(location(res), /^\/mfa\/totp\/setup\?iid=/);
    const { done } = await enrol(agent, location(res));
    const next = /<a href="([^"]+)">Continue/.exec(done)![1]!.replace(/&amp;/g, '&');
    const cb = await finish(agent, await agent.get(next));
    const tok = (await (await tokenRequest(s.url, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: up.verifier })).json()) as Record<string, string>;
    assert.equal(decodeJwt(tok.access_token!).acr, ACR_MFA);

    // A client with requireMfa: gus (password session, no factor) is sent to enrolment.
    const gus = await signedIn('gus');
    const strictPkce = pkce();
    const strictParams = authParams(strictPkce.challenge, { client_id: strict.id });
    const toSetup = await follow(gus, await gus.get(`/authorize?${strictParams}`));
    assert.match(location(toSetup), /^\/mfa\/totp\/setup\?iid=/);
    const gusDone = (await enrol(gus, location(toSetup))).done;
    const cont = /<a href="([^"]+)">Continue/.exec(gusDone)![1]!.replace(/&amp;/g, '&');
    const strictCb = await finish(gus, await gus.get(cont));
    const strictTok = (await (await tokenRequest(s.url, { grant_type: 'authorization_code', code: strictCb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: strictPkce.verifier }, WEB_SECRET, strict.id)).json()) as Record<string, string>;
    assert.equal(decodeJwt(strictTok.access_token!).acr, ACR_MFA);
    // A refreshed access token keeps the sign-in's amr, acr and auth_time.
    const refreshed = (await (await tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: strictTok.refresh_token! }, WEB_SECRET, strict.id)).json()) as Record<string, string>;
    const claims = decodeJwt(refreshed.access_token!);
    assert.equal(claims.acr, ACR_MFA);
    assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);
    assert.equal(claims.auth_time, decodeJwt(strictTok.access_token!).auth_time);
  });

  test('the setup page needs a session and a valid CSRF token', async () => {
    const anon = new Agent(s.url);
    assert.equal((await anon.get('/mfa/totp/setup')).status, 403);
    const agent = await signedIn('hal');
    const { html } = await page(agent, '/mfa/totp/setup');
    assert.ok(hidden(html, 'csrf'));
    const bad = await agent.post('/mfa/totp/setup', { csrf: 'x'.repeat(43), code: '123456' });
    assert.equal(bad.status, 403);
    const foreign = await agent.post('/mfa/totp/setup', { csrf: hidden(html, 'csrf')!, code: '123456' }, { origin: 'https://evil.example' });
    assert.equal(foreign.status, 403);
  });
}

for (const backend of backends) describe(`TOTP second factor (${backend.name})`, () => suite(backend));
