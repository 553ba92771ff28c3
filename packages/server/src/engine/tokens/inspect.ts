import { compactVerify, decodeProtectedHeader } from 'jose';
import type { RefreshFamily, RefreshToken } from '../../storage/stores.js';
import { SIGNING_ALGORITHMS } from '../keys/algorithms.js';
import { isRandomToken, sha256 } from '../sessions/secrets.js';
import type { EngineContext } from '../context.js';

export type InspectedToken =
  | { kind: 'access'; claims: Record<string, unknown> }
  | { kind: 'id'; claims: Record<string, unknown> }
  | { kind: 'refresh'; token: RefreshToken; family: RefreshFamily }
  | { kind: 'unknown' };

const MAX_TOKEN = 8192;

/**
 * Identifies a token presented to /revoke or /introspect, whatever `token_type_hint` says (RFC 7009
 * §2.1, H2): a JWT signed by one of our published keys with our `iss` is an access token (`typ`
 * at+jwt) or an ID token (`typ` JWT); an opaque value is looked up as a refresh token by its hash.
 * Expiry is not judged here.
 */
export async function inspectToken(value: string, ctx: EngineContext): Promise<InspectedToken> {
  if (value.length > MAX_TOKEN) return { kind: 'unknown' };
  if (value.split('.').length !== 3) {
    if (!isRandomToken(value)) return { kind: 'unknown' };
    const found = await ctx.stores.refreshTokens.find(sha256(value));
    return found ? { kind: 'refresh', ...found } : { kind: 'unknown' };
  }
  try {
    const typ = String(decodeProtectedHeader(value).typ ?? '').toLowerCase();
    const { payload } = await compactVerify(value, ctx.keyring.verificationKeys(), { algorithms: [...SIGNING_ALGORITHMS] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    if (!claims || typeof claims !== 'object' || Array.isArray(claims)) return { kind: 'unknown' };
    const c = claims as Record<string, unknown>;
    if (c.iss !== ctx.config.issuer || typeof c.jti !== 'string' && typ === 'at+jwt') return { kind: 'unknown' };
    if (typ === 'at+jwt' || typ === 'application/at+jwt') return { kind: 'access', claims: c };
    if (typ === 'jwt') return { kind: 'id', claims: c };
    return { kind: 'unknown' };
  } catch {
    return { kind: 'unknown' };
  }
}
