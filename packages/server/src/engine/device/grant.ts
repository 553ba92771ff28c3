import { InvalidGrant, InvalidRequest, InvalidTarget } from '@tessera/protocol';
import type { GrantHandler } from '../grants/types.js';
import { audienceFor } from '../scope-policy.js';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import { idTokenAlg, mintIdToken } from '../tokens/id-token.js';
import { startRefreshFamily } from '../tokens/refresh-token.js';
import { issueUserAccessToken } from '../tokens/user-access-token.js';
import { DEVICE_GRANT } from './authorization.js';
import { AuthorizationPending, DeviceAccessDenied, ExpiredToken, SlowDown } from './errors.js';
import type { DeviceCodeStore } from './store.js';

const INVALID = 'the device code is invalid or was already used';
/** Clients that wait exactly `interval` may arrive a little early after network and timer jitter. */
const POLL_TOLERANCE_MS = 250;

/**
 * `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4, §3.5): while the user has
 * not decided, `authorization_pending`, or `slow_down` (interval +5 s) for a poll that came too soon;
 * `access_denied` once denied, `expired_token` after `expires_in`; an approved code is redeemed once
 * (one conditional UPDATE decides between racing instances). A device code is only ever looked up in
 * its own table (B15) and only by the client it was issued to.
 */
export function deviceCodeGrant(store: DeviceCodeStore): GrantHandler {
  return {
    grantType: DEVICE_GRANT,
    parameters: ['device_code'],
    publicClients: true,
    async handle(req, ctx) {
      const value = req.params.device_code;
      if (value === undefined) throw new InvalidRequest('missing parameter: device_code');
      const hash = isRandomToken(value) ? sha256(value) : undefined;
      let code = hash ? await store.byDeviceCode(hash) : undefined;
      if (!hash || !code) throw new InvalidGrant(INVALID, { debug: 'unknown device code' });
      if (code.clientId !== req.client.id) throw new InvalidGrant(INVALID, { debug: `device code of ${code.clientId} presented by ${req.client.id}` });
      const now = ctx.now();
      if (code.expiresAt <= now) throw new ExpiredToken('the device code has expired; start again');
      if (code.resources.length && req.resources.some((r) => !code!.resources.includes(r))) {
        throw new InvalidTarget('resource was not part of the device authorization request');
      }

      if (code.status === 'pending') {
        const outcome = await store.poll(hash, Date.now(), POLL_TOLERANCE_MS);
        if (outcome === 'pending') throw new AuthorizationPending('the user has not yet completed the authorization');
        if (outcome === 'slow_down') throw new SlowDown('polling too often; add 5 seconds to the interval');
        // Decided between our read and the poll: act on the new state.
        code = await store.byDeviceCode(hash);
        if (!code) throw new InvalidGrant(INVALID, { debug: 'device code purged' });
      }
      if (code.status === 'denied') throw new DeviceAccessDenied('the user denied the authorization request');
      // Before the code is spent: a client whose ID token alg has no key fails without losing it.
      const idAlg = code.scopes.includes('openid') ? idTokenAlg(req.client, ctx.keyring) : undefined;
      if (code.status !== 'approved' || code.sub === undefined || !(await store.consume(hash, now))) {
        throw new InvalidGrant(INVALID, { debug: `device code in state ${code.status} presented by ${req.client.id}` });
      }
      const user = await ctx.stores.users.get(code.sub);
      if (!user) throw new InvalidGrant(INVALID, { debug: 'the user no longer exists' });

      const resources = req.resources.length ? req.resources : code.resources;
      const audience = audienceFor(req.client, resources, ctx.config.issuer);
      const openid = code.scopes.includes('openid');
      // OIDC Core §5.3: usable at /userinfo, whose audience is the issuer.
      if (openid && !audience.includes(ctx.config.issuer)) audience.push(ctx.config.issuer);
      const authTime = code.authTime ?? now;
      // The grant belongs to the device, not to the browser session that approved it: no `sid`, so
      // signing out on the phone does not end the television's access.
      const refresh = req.client.grantTypes.includes('refresh_token')
        ? await startRefreshFamily(ctx, { clientId: req.client.id, sub: user.sub, sid: undefined, scopes: code.scopes, resources, authTime })
        : undefined;
      const ttl = req.client.accessTokenTtl ?? ctx.config.tokens.accessTokenTtl;
      const at = await issueUserAccessToken(
        ctx,
        { subject: user.sub, clientId: req.client.id, audience, scopes: code.scopes, ttl, roles: user.roles, authTime, sid: undefined },
        refresh?.familyId,
      );
      const idToken = openid && idAlg
        ? await mintIdToken(ctx.keyring, {
          alg: idAlg,
          issuer: ctx.config.issuer,
          subject: user.sub,
          clientId: req.client.id,
          authTime,
          nonce: undefined,
          accessToken: at.token,
          sid: undefined,
          ttl: ctx.config.tokens.idTokenTtl,
          now,
        })
        : undefined;
      return {
        access_token: at.token,
        token_type: 'Bearer',
        expires_in: ttl,
        ...(refresh ? { refresh_token: refresh.token } : {}),
        ...(code.scopes.length ? { scope: code.scopes.join(' ') } : {}),
        ...(idToken ? { id_token: idToken } : {}),
      };
    },
  };
}
