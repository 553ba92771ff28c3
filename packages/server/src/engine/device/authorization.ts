import { InvalidRequest, TemporarilyUnavailable, UnauthorizedClient } from '@tessera/protocol';
import { authenticateClientThrottled } from '../client-auth/index.js';
import type { EngineContext } from '../context.js';
import { singleValued, type RawParams } from '../params.js';
import { audienceFor, grantedScopes } from '../scope-policy.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import type { DeviceSettings } from './settings.js';
import type { DeviceCodeStore } from './store.js';
import { formatUserCode, newUserCode } from './user-code.js';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/** RFC 8628 §3.2 device authorization response. */
export interface DeviceAuthorizationResponse {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

export interface DeviceAuthorizationRequest {
  authorization: string | undefined;
  body: RawParams;
  ip: string;
}

const INSERT_ATTEMPTS = 5;

/**
 * POST /device_authorization (RFC 8628 §3.1) as ordered steps: parameters, client authentication (as
 * at /token: confidential clients authenticate, public ones send `client_id`), grant permission, scope
 * and resources (as at /authorize), then a fresh device code and user code.
 */
export async function deviceAuthorization(
  req: DeviceAuthorizationRequest,
  ctx: EngineContext,
  store: DeviceCodeStore,
  settings: DeviceSettings,
  hashUserCode: (code: string) => string,
): Promise<DeviceAuthorizationResponse> {
  const { params, multi } = singleValued(req.body);
  const { client } = await authenticateClientThrottled({ authorization: req.authorization, params }, req.ip, ctx);
  if (!client.grantTypes.includes(DEVICE_GRANT)) throw new UnauthorizedClient('this client may not use the device authorization grant');
  const scopes = grantedScopes(client, params.scope);
  const resources = multi.resource ?? [];
  if (resources.length > 10) throw new InvalidRequest('too many resource parameters');
  // RFC 8707: checked now (invalid_target), the audience itself is decided at /token.
  if (resources.length) audienceFor(client, resources, ctx.config.issuer);

  const deviceCode = randomToken();
  const now = ctx.now();
  for (let attempt = 0; attempt < INSERT_ATTEMPTS; attempt++) {
    const userCode = newUserCode();
    const inserted = await store.insert({
      deviceCodeHash: sha256(deviceCode),
      userCodeHash: hashUserCode(userCode),
      clientId: client.id,
      scopes,
      resources: [...new Set(resources)],
      status: 'pending',
      sub: undefined,
      authTime: undefined,
      interval: settings.interval,
      lastPollMs: undefined,
      createdAt: now,
      expiresAt: now + settings.codeTtl,
    });
    if (!inserted) continue;
    const verificationUri = `${ctx.config.issuer}/device`;
    const shown = formatUserCode(userCode);
    return {
      device_code: deviceCode,
      user_code: shown,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${shown}`,
      expires_in: settings.codeTtl,
      interval: settings.interval,
    };
  }
  // Only with an absurd number of live codes: the user-code space is (nearly) exhausted.
  throw new TemporarilyUnavailable('too many pending device authorizations; try again later', { retryAfter: 30 });
}
