import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { Running } from './helpers.ts';
import { basic, serviceClient, SERVICE_SECRET } from './helpers.ts';
import { Agent, alice, authParams, authorize, pkce, REDIRECT, spaClient, startOidcServer, tokenRequest, users, WEB_SECRET, webClient } from './oidc-helpers.ts';
import { sha256 } from '../src/engine/sessions/secrets.ts';

/** Issue 3 §6–7, §9: /token with grant_type=authorization_code (SECURITY-CHECKLIST B, F). */
let s: Running;
/** The web app again, also allowed refresh tokens. */
const webRt = { ...webClient, id: 'webrt', grants: ['authorization_code', 'refresh_token'] };
before(async () => {
  s = await startOidcServer({ clients: [serviceClient, webClient, spaClient, webRt], users });
});
after(() => s.dispose());

const spa = { client_id: 'spa', redirect_uri: 'https://spa.example/callback', scope: 'openid profile' };

/** A fresh code for the web app (or `extra` client), with its verifier. */
async function code(extra: Record<string, string | undefined> = {}, user = alice): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const cb = await authorize(new Agent(s.url), authParams(challenge, extra), user);
  return { code: cb.searchParams.get('code')!, verifier };
}

function redeem(c: { code: string; verifier: string }, extra: Record<string, string> = {}) {
  return tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier, ...extra });
}

async function assertInvalidGrant(res: Response) {
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await res.json() as { error: string };
  assert.equal(body.error, 'invalid_grant');
}

async function userinfoStatus(accessToken: string): Promise<number> {
  return (await fetch(`${s.url}/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } })).status;
}

describe('a successful exchange', () => {
  test('returns tokens with no-store headers; access token per RFC 9068 with sub, roles, auth_time', async () => {
    const c = await code({ scope: 'openid profile email orders:read' }, { username: 'admin', password: 'admin-password-1' });
    const res = await redeem(c);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('pragma'), 'no-cache');
    assert.match(res.headers.get('content-type')!, /^application\/json/);
    const body = await res.json() as Record<string, string | number>;
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 900);
    assert.equal(body.scope, 'openid profile email orders:read');
    assert.equal(body.refresh_token, undefined);

    const jwks = createRemoteJWKSet(new URL(`${s.url}/jwks.json`));
    const at = await jwtVerify(body.access_token as string, jwks, { typ: 'at+jwt', issuer: s.url, audience: 'https://orders.example' });
    assert.match(at.payload.sub!, /^usr_[A-Za-z0-9_-]{22}$/);
    assert.deepEqual(at.payload.roles, ['user', 'admin']);
    assert.equal(at.payload.client_id, 'webapp');
    assert.deepEqual(at.payload.aud, ['https://orders.example', s.url]);
    assert.equal(typeof at.payload.auth_time, 'number');
    assert.equal(typeof at.payload.sid, 'string');

    // ID token: OIDC Core §2 claims, typ JWT (not at+jwt), aud = client id (F5).
    assert.equal(decodeProtectedHeader(body.id_token as string).typ, 'JWT');
    const id = await jwtVerify(body.id_token as string, jwks, { issuer: s.url, audience: 'webapp', typ: 'JWT' });
    assert.equal(id.payload.sub, at.payload.sub);
    assert.equal(id.payload.nonce, 'n-456');
    assert.equal(id.payload.auth_time, at.payload.auth_time);
    assert.equal(id.payload.sid, at.payload.sid);
    const digest = createHash('sha256').update(body.access_token as string).digest();
    assert.equal(id.payload.at_hash, digest.subarray(0, 16).toString('base64url'));
    assert.ok(id.payload.exp! - id.payload.iat! <= 600);
    assert.equal(id.payload.roles, undefined);
  });
  test('without openid there is no ID token, and the access token is only for the API', async () => {
    const res = await redeem(await code({ scope: 'orders:read' }));
    const body = await res.json() as Record<string, string>;
    assert.equal(res.status, 200);
    assert.equal(body.id_token, undefined);
    const payload = JSON.parse(Buffer.from(body.access_token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload.aud, 'https://orders.example');
  });
  test('a public client redeems with PKCE and no secret (auth method none)', async () => {
    const c = await code(spa);
    const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: spa.redirect_uri, code_verifier: c.verifier }, null, 'spa');
    assert.equal(res.status, 200);
    const body = await res.json() as Record<string, string>;
    assert.ok(body.id_token);
    const payload = JSON.parse(Buffer.from(body.access_token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(payload.aud, s.url);
  });
  test('redirect_uri may be omitted at /token when the authorization request omitted it', async () => {
    const c = await code({ ...spa, redirect_uri: undefined });
    const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier }, null, 'spa');
    assert.equal(res.status, 200);
  });
});

describe('every binding of the code is checked (B4, B5, B11, B12, B15)', () => {
  test('missing code_verifier → invalid_grant', async () => {
    const c = await code();
    await assertInvalidGrant(await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT }));
  });
  test('wrong code_verifier → invalid_grant; malformed verifiers → invalid_grant', async () => {
    const c = await code();
    for (const v of [pkce().verifier, 'a'.repeat(42), 'a'.repeat(129), `${c.verifier.slice(0, -1)}!`]) {
      await assertInvalidGrant(await redeem({ ...c, verifier: v }));
    }
    // B10: the failures neither burned the code nor revoked anything.
    assert.equal((await redeem(c)).status, 200);
  });
  test("another client's code → invalid_grant", async () => {
    const c = await code(spa);
    await assertInvalidGrant(await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: spa.redirect_uri, code_verifier: c.verifier }));
    const viaService = await fetch(`${s.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(serviceClient.id, SERVICE_SECRET) }, body: new URLSearchParams({ grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier }) });
    assert.equal(viaService.status, 400);
    assert.equal((await viaService.json() as { error: string }).error, 'unauthorized_client');
  });
  test('a different or missing redirect_uri → invalid_grant', async () => {
    const c = await code();
    await assertInvalidGrant(await redeem(c, { redirect_uri: 'https://app.example/other' }));
    await assertInvalidGrant(await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier }));
  });
  test('unknown, malformed or other-artifact values as code → invalid_grant', async () => {
    for (const v of ['x'.repeat(43), 'abc', "' OR 1=1 --", 'st-123']) {
      await assertInvalidGrant(await redeem({ code: v, verifier: pkce().verifier }));
    }
  });
  test('missing code → invalid_request', async () => {
    const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code_verifier: pkce().verifier });
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { error: string }).error, 'invalid_request');
  });
  test('a confidential client without its secret → 401 invalid_client; a public client with a secret → invalid_client', async () => {
    const c = await code();
    const res = await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, null, 'webapp');
    assert.equal(res.status, 401);
    assert.equal((await res.json() as { error: string }).error, 'invalid_client');
    const p = await code(spa);
    const withSecret = await tokenRequest(s.url, { grant_type: 'authorization_code', code: p.code, code_verifier: p.verifier }, 'some-secret-value-123', 'spa');
    assert.equal(withSecret.status, 401);
    // The legitimate exchange still works afterwards.
    assert.equal((await redeem(c)).status, 200);
  });
  test('the code is stored only as a hash (D9)', async () => {
    const c = await code();
    const rows = await s.tessera.db.kysely.selectFrom('authorization_codes').select('code_hash').execute();
    assert.ok(rows.some((r) => r.code_hash === sha256(c.code)));
    assert.ok(!rows.some((r) => r.code_hash === c.code));
  });
});

describe('expiry, single use and replay (B8, B9, B10)', () => {
  test('an expired code → invalid_grant', async () => {
    const t = await startOidcServer({ tokens: { accessTokenTtl: 900, maxAccessTokenTtl: 3600, codeTtl: 1 } });
    try {
      const { verifier, challenge } = pkce();
      const cb = await authorize(new Agent(t.url), authParams(challenge), alice);
      await new Promise((r) => setTimeout(r, 2100));
      await assertInvalidGrant(await tokenRequest(t.url, { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier }));
    } finally {
      await t.dispose();
    }
  });
  test('the code lives 60 s by default', async () => {
    const c = await code();
    const row = await s.tessera.db.kysely.selectFrom('authorization_codes').selectAll().where('code_hash', '=', sha256(c.code)).executeTakeFirstOrThrow();
    assert.equal(Number(row.expires_at) - Number(row.created_at), 60);
  });
  test('a second redemption → invalid_grant and revokes what the first one issued', async () => {
    const c = await code();
    const first = await (await redeem(c)).json() as { access_token: string };
    assert.equal(await userinfoStatus(first.access_token), 200);
    await assertInvalidGrant(await redeem(c));
    // The grant is marked revoked and the first access token's jti is recorded for the denylist.
    const row = await s.tessera.db.kysely.selectFrom('authorization_codes').selectAll().where('code_hash', '=', sha256(c.code)).executeTakeFirstOrThrow();
    assert.notEqual(row.revoked_at, null);
    const jti = JSON.parse(Buffer.from(first.access_token.split('.')[1]!, 'base64url').toString()).jti as string;
    const issued = await s.tessera.db.kysely.selectFrom('code_issued_tokens').selectAll().where('code_hash', '=', sha256(c.code)).execute();
    assert.deepEqual(issued.map((r) => r.jti), [jti]);
    // Tessera's own resource endpoint already refuses it.
    assert.equal(await userinfoStatus(first.access_token), 401);
  });
  test('a replay with a wrong verifier or another client does not revoke (no DoS, B10)', async () => {
    const c = await code();
    const first = await (await redeem(c)).json() as { access_token: string };
    await assertInvalidGrant(await redeem({ ...c, verifier: pkce().verifier }));
    await assertInvalidGrant(await tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier }, null, 'spa'));
    assert.equal(await userinfoStatus(first.access_token), 200);
  });
  test('20 concurrent redemptions of one code → exactly one 200', async () => {
    const c = await code();
    const results = await Promise.all(Array.from({ length: 20 }, () => redeem(c)));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 200).length, 1, statuses.join(','));
    assert.equal(statuses.filter((x) => x === 400).length, 19);
    for (const r of results.filter((x) => x.status === 400)) assert.equal((await r.json() as { error: string }).error, 'invalid_grant');
  });
  test('a code survives a restart until it expires, and stays single use', async () => {
    const first = await startOidcServer();
    const { verifier, challenge } = pkce();
    const cb = await authorize(new Agent(first.url), authParams(challenge), alice);
    await first.stop();
    const second = await startOidcServer({ port: Number(new URL(first.url).port) }, first.dataDir);
    try {
      const form = { grant_type: 'authorization_code', code: cb.searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier };
      assert.equal((await tokenRequest(second.url, form, WEB_SECRET)).status, 200);
      await assertInvalidGrant(await tokenRequest(second.url, form, WEB_SECRET));
    } finally {
      await second.dispose();
    }
  });
});

describe('with refresh tokens (issue 4 infrastructure)', () => {
  const redeemRt = (c: { code: string; verifier: string }) =>
    tokenRequest(s.url, { grant_type: 'authorization_code', code: c.code, redirect_uri: REDIRECT, code_verifier: c.verifier }, WEB_SECRET, 'webrt');
  const refresh = (token: string) => tokenRequest(s.url, { grant_type: 'refresh_token', refresh_token: token }, WEB_SECRET, 'webrt');
  const denied = async (accessToken: string) => {
    const jti = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).jti as string;
    return (await s.tessera.db.kysely.selectFrom('revoked_tokens').select('jti').where('jti', '=', jti).executeTakeFirst()) !== undefined;
  };
  test('a client allowed refresh_token gets one; a replay ends its family and denylists the access token', async () => {
    const c = await code({ client_id: 'webrt' });
    const first = await (await redeemRt(c)).json() as { access_token: string; refresh_token: string };
    assert.match(first.refresh_token, /^[A-Za-z0-9_-]{43}$/);
    await assertInvalidGrant(await redeemRt(c));
    assert.equal(await denied(first.access_token), true);
    await assertInvalidGrant(await refresh(first.refresh_token));
    assert.equal(await userinfoStatus(first.access_token), 401);
  });
  test('20 concurrent redemptions: one 200, and its tokens end up revoked whichever order the race took', async () => {
    const c = await code({ client_id: 'webrt' });
    const results = await Promise.all(Array.from({ length: 20 }, () => redeemRt(c)));
    const ok = results.filter((r) => r.status === 200);
    assert.equal(ok.length, 1);
    const winner = await ok[0]!.json() as { access_token: string; refresh_token: string };
    assert.equal(await denied(winner.access_token), true);
    await assertInvalidGrant(await refresh(winner.refresh_token));
  });
  test('without a replay the refresh token works and the access token is live', async () => {
    const first = await (await redeemRt(await code({ client_id: 'webrt' }))).json() as { access_token: string; refresh_token: string };
    assert.equal((await refresh(first.refresh_token)).status, 200);
    assert.equal(await userinfoStatus(first.access_token), 200);
  });
});

describe('discovery lists the flow (RFC 8414, OIDC Discovery)', () => {
  test('metadata fields', async () => {
    const m = await (await fetch(`${s.url}/.well-known/openid-configuration`)).json() as Record<string, unknown>;
    assert.equal(m.authorization_endpoint, `${s.url}/authorize`);
    assert.equal(m.userinfo_endpoint, `${s.url}/userinfo`);
    assert.equal(m.end_session_endpoint, `${s.url}/logout`);
    assert.deepEqual(m.response_types_supported, ['code']);
    assert.deepEqual(m.code_challenge_methods_supported, ['S256']);
    assert.equal(m.authorization_response_iss_parameter_supported, true);
    assert.deepEqual(m.subject_types_supported, ['public']);
    assert.deepEqual(m.id_token_signing_alg_values_supported, ['RS256']);
    assert.ok((m.grant_types_supported as string[]).includes('authorization_code'));
    assert.ok((m.token_endpoint_auth_methods_supported as string[]).includes('none'));
    assert.ok((m.scopes_supported as string[]).includes('openid'));
    assert.deepEqual(await (await fetch(`${s.url}/.well-known/oauth-authorization-server`)).json(), m);
  });
});
