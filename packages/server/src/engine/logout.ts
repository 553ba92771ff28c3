import { compactVerify, decodeProtectedHeader } from 'jose';
import { InvalidRequest } from '@tessera/protocol';
import type { EngineContext } from './context.js';
import type { Client } from '../storage/stores.js';
import { singleValued, type RawParams } from './params.js';
import { SIGNING_ALGORITHMS } from './keys/algorithms.js';

/** A validated RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2). */
export interface LogoutRequest {
  client: Client | undefined;
  /** Registered for `client` (exact match) — the only place we ever redirect to (A6). */
  postLogoutRedirectUri: string | undefined;
  state: string | undefined;
  /** Claims of a valid `id_token_hint`. */
  hint: { sub: string; sid: string | undefined } | undefined;
  /** The raw parameters, echoed into the confirmation form. */
  params: { id_token_hint?: string; client_id?: string; post_logout_redirect_uri?: string; state?: string };
}

const MAX_STATE = 1024;

/**
 * Validates a logout request. `id_token_hint` must be an ID token this server signed for the named
 * client (expired ones are accepted, §2: the RP may hold an old one); `post_logout_redirect_uri` must be
 * registered for the client identified by the hint or `client_id`. Errors are shown, never redirected.
 */
export async function parseLogoutRequest(raw: RawParams, ctx: EngineContext): Promise<LogoutRequest> {
  const { params } = singleValued(raw);
  const { id_token_hint: hintToken, client_id: clientId, post_logout_redirect_uri: uri, state } = params;
  if (state !== undefined && state.length > MAX_STATE) throw new InvalidRequest('state is too long');

  const hint = hintToken === undefined ? undefined : await verifyHint(hintToken, ctx);
  if (hint && clientId !== undefined && hint.aud !== clientId) throw new InvalidRequest('client_id does not match id_token_hint');
  const id = hint?.aud ?? clientId;
  const client = id !== undefined && id.length <= 128 ? await ctx.stores.clients.get(id) : undefined;
  if (id !== undefined && !client) throw new InvalidRequest('unknown client');
  if (uri !== undefined) {
    if (!client) throw new InvalidRequest('post_logout_redirect_uri needs id_token_hint or client_id');
    if (!(client.postLogoutRedirectUris ?? []).includes(uri)) throw new InvalidRequest('post_logout_redirect_uri is not registered for this client');
  }
  return {
    client,
    postLogoutRedirectUri: uri,
    state: uri === undefined ? undefined : state,
    hint: hint && { sub: hint.sub, sid: hint.sid },
    params: { id_token_hint: hintToken, client_id: clientId, post_logout_redirect_uri: uri, state },
  };
}

async function verifyHint(token: string, ctx: EngineContext): Promise<{ sub: string; aud: string; sid: string | undefined }> {
  const invalid = () => new InvalidRequest('id_token_hint is not a valid ID token from this server');
  try {
    if (token.length > 8192 || decodeProtectedHeader(token).typ !== 'JWT') throw invalid();
    const { payload } = await compactVerify(token, ctx.keyring.verificationKeys(), { algorithms: [...SIGNING_ALGORITHMS] });
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    if (claims.iss !== ctx.config.issuer || typeof claims.sub !== 'string' || typeof claims.aud !== 'string') throw invalid();
    return { sub: claims.sub, aud: claims.aud, sid: typeof claims.sid === 'string' ? claims.sid : undefined };
  } catch (e) {
    if (e instanceof InvalidRequest) throw e;
    throw invalid();
  }
}
