import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { serviceClient, type Running } from './helpers.ts';
import { Agent, alice, authorize, REDIRECT, startOidcServer, users } from './oidc-helpers.ts';
import { clientKey, type ClientKey } from './support/assertions.ts';

/**
 * Issue 13 interop: real client libraries against a real Tessera over HTTP — oauth4webapi runs PAR +
 * authorization code + PKCE + private_key_jwt, refreshes, and calls /userinfo; openid-client does the
 * same through its own API (buildAuthorizationUrlWithPAR, authorizationCodeGrant, refreshTokenGrant,
 * fetchUserInfo). Login and consent are plain HTTP form posts. The server requires PAR for this client.
 */
let s: Running;
let esKey: ClientKey;
let edKey: ClientKey;
const insecure = { [oauth.allowInsecureRequests]: true } as const;

before(async () => {
  esKey = await clientKey('ES256');
  edKey = await clientKey('EdDSA');
  const base = {
    type: 'confidential' as const, tokenEndpointAuthMethod: 'private_key_jwt' as const, requirePushedAuthorizationRequests: true,
    grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'email'], redirectUris: [REDIRECT],
  };
  s = await startOidcServer({
    clients: [
      serviceClient,
      { ...base, id: 'o4w-app', jwks: { keys: [esKey.publicJwk as { kty: string }] } },
      // Registered as most clients publish keys: without `alg` (oauth4webapi signs Ed25519 keys with alg Ed25519).
      { ...base, id: 'oidc-app', jwks: { keys: [{ ...edKey.publicJwk, alg: undefined } as { kty: string }] }, tokenEndpointAuthSigningAlg: 'EdDSA' as const },
    ],
    users,
  });
});
after(() => s?.dispose());

describe('oauth4webapi: PAR + code + PKCE + private_key_jwt', () => {
  test('push, authorize, redeem, refresh, userinfo', async () => {
    const issuer = new URL(s.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    assert.equal(as.pushed_authorization_request_endpoint, `${s.url}/par`);
    const client: oauth.Client = { client_id: 'o4w-app' };
    const auth = oauth.PrivateKeyJwt({ key: esKey.privateKey, kid: esKey.kid });
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const nonce = oauth.generateRandomNonce();

    const parRes = await oauth.pushedAuthorizationRequest(as, client, auth, {
      redirect_uri: REDIRECT, response_type: 'code', scope: 'openid profile email', state, nonce,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }, insecure);
    const par = await oauth.processPushedAuthorizationResponse(as, client, parRes);
    assert.equal(par.expires_in, 60);

    const cb = await authorize(new Agent(s.url), new URLSearchParams({ client_id: client.client_id, request_uri: par.request_uri }), alice);
    const params = oauth.validateAuthResponse(as, client, cb, state);

    const tokenRes = await oauth.authorizationCodeGrantRequest(as, client, auth, params, REDIRECT, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenRes, { expectedNonce: nonce, requireIdToken: true });
    assert.ok(tokens.refresh_token);
    const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;

    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token, insecure));
    assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

    const info = await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, refreshed.access_token, insecure));
    assert.equal(info.sub, sub);
    assert.equal(info.email, 'alice@example.com');
  });

  test('the same client going to /authorize without PAR is refused', async () => {
    const issuer = new URL(s.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: 'o4w-app', redirect_uri: REDIRECT, response_type: 'code', scope: 'openid', code_challenge: await oauth.calculatePKCECodeChallenge(oauth.generateRandomCodeVerifier()), code_challenge_method: 'S256' }).toString();
    const res = await fetch(url, { redirect: 'manual' });
    assert.equal(new URL(res.headers.get('location')!).searchParams.get('error'), 'invalid_request');
  });
});

describe('openid-client: PAR + code + PKCE + private_key_jwt (EdDSA)', () => {
  test('buildAuthorizationUrlWithPAR, authorizationCodeGrant, refreshTokenGrant, fetchUserInfo', async () => {
    const config = await oidc.discovery(new URL(s.url), 'oidc-app', undefined, oidc.PrivateKeyJwt({ key: edKey.privateKey, kid: edKey.kid }), { execute: [oidc.allowInsecureRequests] });
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const url = await oidc.buildAuthorizationUrlWithPAR(config, {
      redirect_uri: REDIRECT, scope: 'openid profile', state, nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    });
    assert.deepEqual([...url.searchParams.keys()].sort(), ['client_id', 'request_uri']);
    const cb = await authorize(new Agent(s.url), url.searchParams, alice);
    const tokens = await oidc.authorizationCodeGrant(config, cb, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
    const sub = tokens.claims()!.sub;
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!);
    const info = await oidc.fetchUserInfo(config, refreshed.access_token, sub);
    assert.equal(info.sub, sub);
    assert.equal(info.name, 'Alice Liddell');
  });
});
