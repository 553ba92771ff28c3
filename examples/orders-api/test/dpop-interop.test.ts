// Issue 13 interop: real clients (oauth4webapi, openid-client) run code + PKCE + DPoP against a real
// Tessera over HTTP (login and consent as form posts), refresh with the same DPoP key, call /userinfo,
// and call the orders API (the toolkit) with the DPoP-bound access token.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import * as oauth from 'oauth4webapi';
import * as oidc from 'openid-client';
import { serviceClient, startServer, type Running } from '../../../packages/server/test/helpers.ts';
import { Agent, alice, authorize, users } from '../../../packages/server/test/oidc-helpers.ts';
import { buildOrdersApi } from '../src/app.ts';

const AUDIENCE = 'https://orders.example';
const REDIRECT = 'https://spa.example/callback';
const spa = { id: 'dpop-spa', type: 'public' as const, grants: ['authorization_code', 'refresh_token'], scopes: ['openid', 'profile', 'orders:read'], audience: AUDIENCE, redirectUris: [REDIRECT], firstParty: true, dpopBoundAccessTokens: true };
const insecure = { [oauth.allowInsecureRequests]: true } as const;

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

for (const requireNonce of [false, true]) {
  describe(`DPoP end to end${requireNonce ? ' with server nonces' : ''}`, () => {
    let tessera: Running;
    let api: FastifyInstance;
    let apiUrl: string;
    const dir = mkdtempSync(join(tmpdir(), 'orders-dpop-'));

    before(async () => {
      tessera = await startServer({ clients: [serviceClient, spa], users, dpop: { requireNonce } });
      api = await buildOrdersApi({ issuer: tessera.url, audience: AUDIENCE, dbFile: join(dir, 'orders.db'), jwksCooldown: 1 });
      apiUrl = await api.listen({ port: 0, host: '127.0.0.1' });
    });
    after(async () => {
      await api?.close();
      await tessera?.dispose();
      rmSync(dir, { recursive: true, force: true });
    });

    test('oauth4webapi: dpop_jkt + code + PKCE + DPoP, refresh with the same key, /userinfo, the orders API', async () => {
      const issuer = new URL(tessera.url);
      const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, insecure));
      assert.ok(as.dpop_signing_alg_values_supported?.includes('ES256'));
      const client: oauth.Client = { client_id: spa.id };
      const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      // oauth4webapi leaves the use_dpop_nonce retry to the application (RFC 9449 §8).
      let retries = 0;
      const withNonceRetry = async (send: () => Promise<Response>, process: (r: Response) => Promise<oauth.TokenEndpointResponse>) => {
        try {
          return await process(await send());
        } catch (e) {
          if (!oauth.isDPoPNonceError(e)) throw e;
          assert.ok(requireNonce, 'a nonce is asked for only when configured');
          retries++;
          return process(await send());
        }
      };

      const verifier = oauth.generateRandomCodeVerifier();
      const state = oauth.generateRandomState();
      const params = new URLSearchParams({
        response_type: 'code', client_id: spa.id, redirect_uri: REDIRECT, scope: 'openid profile orders:read', state,
        code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        dpop_jkt: await DPoP.calculateThumbprint(),
      });
      const callback = await authorize(new Agent(tessera.url), params, alice);
      const callbackParams = oauth.validateAuthResponse(as, client, callback, state);

      const tokens = await withNonceRetry(
        () => oauth.authorizationCodeGrantRequest(as, client, oauth.None(), callbackParams, REDIRECT, verifier, { DPoP, ...insecure }),
        (r) => oauth.processAuthorizationCodeResponse(as, client, r),
      );
      assert.equal(tokens.token_type, 'dpop');
      assert.equal(retries, requireNonce ? 1 : 0, 'the first proof lacked the nonce, the retry carried it');
      assert.deepEqual(claimsOf(tokens.access_token).cnf, { jkt: await DPoP.calculateThumbprint() });
      const sub = oauth.getValidatedIdTokenClaims(tokens)!.sub;

      const info = await oauth.processUserInfoResponse(as, client, sub, await oauth.userInfoRequest(as, client, tokens.access_token, { DPoP, ...insecure }));
      assert.equal(info.preferred_username, 'alice');

      const refreshed = await withNonceRetry(
        () => oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { DPoP, ...insecure }),
        (r) => oauth.processRefreshTokenResponse(as, client, r),
      );
      assert.equal(refreshed.token_type, 'dpop');
      assert.notEqual(refreshed.refresh_token, tokens.refresh_token);

      const orders = await oauth.protectedResourceRequest(refreshed.access_token, 'GET', new URL(`${apiUrl}/orders`), undefined, undefined, { DPoP, ...insecure });
      assert.equal(orders.status, 200);
      assert.ok(Array.isArray((await orders.json() as { orders: unknown[] }).orders));

      // The stolen token alone is useless: as Bearer at the API and at /userinfo it is refused.
      const asBearer = await fetch(`${apiUrl}/orders`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      assert.equal(asBearer.status, 401);
      assert.match(asBearer.headers.get('www-authenticate')!, /error="invalid_token"/);
      const uiBearer = await fetch(`${tessera.url}/userinfo`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
      assert.equal(uiBearer.status, 401);
      // And the refresh token with another key is refused.
      const thief = oauth.DPoP(client, await oauth.generateKeyPair('ES256'));
      const stolen = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, { DPoP: thief, ...insecure });
      if (requireNonce && stolen.status === 400 && (await stolen.clone().json() as { error: string }).error === 'use_dpop_nonce') {
        const again = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, { DPoP: thief, ...insecure });
        assert.equal((await again.json() as { error: string }).error, 'invalid_grant');
      } else {
        assert.equal((await stolen.json() as { error: string }).error, 'invalid_grant');
      }
    });

    test('openid-client: the same with its DPoP handle (it retries use_dpop_nonce by itself)', async () => {
      const config = await oidc.discovery(new URL(tessera.url), spa.id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT, scope: 'openid profile orders:read', state,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
        dpop_jkt: await DPoP.calculateThumbprint(),
      });
      const callback = await authorize(new Agent(tessera.url), url.searchParams, alice);
      const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state }, undefined, { DPoP });
      assert.equal(tokens.token_type, 'dpop');
      const info = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims()!.sub, { DPoP });
      assert.equal(info.preferred_username, 'alice');
      const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token!, undefined, { DPoP });
      assert.equal(refreshed.token_type, 'dpop');
      const orders = await oidc.fetchProtectedResource(config, refreshed.access_token, new URL(`${apiUrl}/orders`), 'GET', undefined, undefined, { DPoP });
      assert.equal(orders.status, 200);
    });

    test('the client is dpopBoundAccessTokens: without a proof no token is issued', async () => {
      const config = await oidc.discovery(new URL(tessera.url), spa.id, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
      const verifier = oidc.randomPKCECodeVerifier();
      const url = oidc.buildAuthorizationUrl(config, { redirect_uri: REDIRECT, scope: 'openid', code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', state: 's' });
      const callback = await authorize(new Agent(tessera.url), url.searchParams, alice);
      await assert.rejects(oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: 's' }), (e: { error?: string }) => e.error === 'invalid_dpop_proof');
    });
  });
}
