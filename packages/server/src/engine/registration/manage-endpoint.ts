import { timingSafeEqual } from 'node:crypto';
import { InvalidRequest, InvalidToken } from '@tessera/protocol';
import type { Client, ClientRegistration } from '../../storage/stores.js';
import type { EngineContext } from '../context.js';
import { randomToken, sha256 } from '../sessions/secrets.js';
import { validateMetadata } from './metadata.js';
import { clientInformation, toClient } from './client-record.js';
import { InvalidClientMetadata } from './errors.js';
import { bearerToken } from './bearer.js';

export interface ManageRequest {
  clientId: string;
  authorization: string | undefined;
  body?: unknown;
}

/** Fields of the information response a client may echo back in an update; they are not metadata (RFC 7592 §2.2). */
const RESPONSE_ONLY = ['registration_access_token', 'registration_client_uri', 'client_secret_expires_at', 'client_id_issued_at'];

const same = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/**
 * RFC 7592 §2: the registration access token authorizes exactly one client. An unknown, deleted or other
 * client's id and a wrong token give the same 401 `invalid_token` (§2.1), after the same work.
 */
async function authorize(req: ManageRequest, ctx: EngineContext): Promise<{ client: Client; registration: ClientRegistration; tokenHash: string }> {
  const token = bearerToken(req.authorization, 'a registration access token is required');
  const tokenHash = sha256(token);
  const registration = req.clientId.length <= 128 ? await ctx.stores.registrations.get(req.clientId) : undefined;
  const ok = same(tokenHash, registration?.tokenHash ?? sha256('')) && registration !== undefined && registration.deletedAt === undefined;
  const client = ok ? await ctx.stores.clients.get(req.clientId) : undefined;
  if (!ok || !client || client.source !== 'registration') throw new InvalidToken('the registration access token is invalid', { debug: `client ${req.clientId.slice(0, 64)}` });
  return { client, registration: registration!, tokenHash };
}

/**
 * RFC 7592 §3: the response carries a registration access token; as only its hash is stored, each read
 * and update issues a new one (the old one stops working, one conditional write).
 */
async function rotate(clientId: string, oldHash: string, ctx: EngineContext): Promise<string> {
  const next = randomToken();
  if (!(await ctx.stores.registrations.rotateToken(clientId, oldHash, sha256(next)))) throw new InvalidToken('the registration access token is invalid');
  return next;
}

/** GET /register/:client_id (RFC 7592 §2.1). */
export async function readRegistration(req: ManageRequest, ctx: EngineContext): Promise<Record<string, unknown>> {
  const { client, tokenHash } = await authorize(req, ctx);
  return clientInformation(client, ctx.config.issuer, await rotate(client.id, tokenHash, ctx));
}

/**
 * PUT /register/:client_id (RFC 7592 §2.2), as ordered steps: authorize; `client_id` in the body must
 * equal the client's; a sent `client_secret` must be the current one; the body replaces every metadata
 * field (omitted = default), validated by the same policy as registration; a client that starts needing a
 * secret gets a new one.
 */
export async function updateRegistration(req: ManageRequest, ctx: EngineContext): Promise<Record<string, unknown>> {
  const { client, tokenHash } = await authorize(req, ctx);
  if (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body)) throw new InvalidClientMetadata('the request body must be a JSON object');
  const body = { ...(req.body as Record<string, unknown>) };
  if (body.client_id !== client.id) throw new InvalidRequest('client_id must be the client being updated');
  if (body.client_secret !== undefined && (typeof body.client_secret !== 'string' || !ctx.box.verifyClientSecret(body.client_secret, client.secretHash))) {
    throw new InvalidClientMetadata('client_secret does not match the issued secret');
  }
  for (const k of RESPONSE_ONLY) delete body[k];
  const meta = validateMetadata(body, ctx.config.registration);
  const needsSecret = meta.token_endpoint_auth_method !== 'none';
  const secret = needsSecret && !client.secretHash ? randomToken() : undefined;
  const secretHash = !needsSecret ? undefined : secret !== undefined ? ctx.box.hashClientSecret(secret) : client.secretHash;
  const updated = toClient(client.id, meta, ctx.config.registration, secretHash, client.createdAt, ctx.now(), client);
  const next = await rotate(client.id, tokenHash, ctx);
  await ctx.stores.clients.upsert(updated);
  ctx.audit('client_registration_updated', { clientId: client.id });
  return clientInformation(updated, ctx.config.issuer, next, secret);
}

/** DELETE /register/:client_id (RFC 7592 §2.3): the client is gone and can get no more tokens. */
export async function deleteRegistration(req: ManageRequest, ctx: EngineContext): Promise<void> {
  const { client } = await authorize(req, ctx);
  await ctx.stores.registrations.markDeleted(client.id, ctx.now());
  await ctx.stores.clients.delete(client.id);
  ctx.audit('client_registration_deleted', { clientId: client.id });
}
