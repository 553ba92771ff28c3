import type { EngineContext } from '../context.js';
import type { Session } from '../../storage/stores.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import type { AuthorizationRequest } from './request.js';
import { responseUri } from './response.js';
import { amrOf } from '../mfa/policy.js';

/**
 * Issues an authorization code (RFC 6749 §4.1.2; DESIGN.md §3): 256 bits from the CSPRNG (B14),
 * stored only as its SHA-256, single use, `tokens.codeTtl` (60 s) long, bound to the client,
 * redirect URI, PKCE challenge, nonce, scope, resources, user, auth time, session and DPoP key
 * thumbprint (`dpop_jkt`, RFC 9449 §10). Returns the
 * redirect to the client.
 */
export async function issueCode(request: AuthorizationRequest, session: Session, ctx: EngineContext): Promise<string> {
  const code = randomToken();
  const now = ctx.now();
  // RFC 9700 §2.1.1 (B13): a client reusing its code_challenge has lost PKCE's protection; flag it.
  if (await ctx.stores.codes.challengeSeen(request.clientId, request.codeChallenge)) {
    ctx.audit('pkce_challenge_reused', { clientId: request.clientId });
  }
  await ctx.stores.codes.insert({
    codeHash: sha256(code),
    clientId: request.clientId,
    sub: session.sub,
    redirectUri: request.redirectUri,
    redirectUriSent: request.redirectUriSent,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    nonce: request.nonce,
    scopes: request.scopes,
    resources: request.resources,
    authTime: session.authTime,
    amr: amrOf(session),
    sid: session.sid,
    createdAt: now,
    expiresAt: now + ctx.config.tokens.codeTtl,
    consumedAt: undefined,
    revokedAt: undefined,
    dpopJkt: request.dpopJkt,
  });
  return responseUri(request.redirectUri, ctx.config.issuer, { code, state: request.state });
}
