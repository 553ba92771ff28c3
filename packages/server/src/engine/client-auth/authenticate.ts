import { InvalidClient, InvalidRequest } from '@tessera/protocol';
import type { Client, ClientStore } from '../../storage/stores.js';
import type { SecretBox } from '../keys/secret-box.js';
import { isCleanText } from '../params.js';

export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface AuthenticatedClient {
  client: Client;
  method: ClientAuthMethod;
}

export interface ClientAuthInput {
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined;
  /** Single-valued body parameters. */
  params: Record<string, string>;
}

const MAX_ID = 128;
const MAX_SECRET = 512;

/**
 * Client authentication at the token, revocation and introspection endpoints (RFC 6749 §2.3, §3.2.1).
 * `client_secret_basic` (credentials form-urldecoded, §2.3.1), `client_secret_post`, or `none` for
 * public clients. More than one method in a request is `invalid_request` (§2.3). An unknown client
 * and a wrong secret give the same error after the same work.
 */
export async function authenticateClient(input: ClientAuthInput, clients: ClientStore, box: SecretBox): Promise<AuthenticatedClient> {
  const basic = parseBasic(input.authorization);
  const bodyId = input.params.client_id;
  const bodySecret = input.params.client_secret;

  if (basic && bodySecret !== undefined) throw new InvalidRequest('more than one client authentication method');
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw new InvalidRequest('client_id does not match the authenticated client');

  const method: ClientAuthMethod = basic ? 'client_secret_basic' : bodySecret !== undefined ? 'client_secret_post' : 'none';
  const id = basic?.id ?? bodyId;
  if (id === undefined) throw new InvalidClient('client authentication required');
  if (id.length > MAX_ID) throw new InvalidClient('client authentication failed');
  const secret = basic?.secret ?? bodySecret;
  if (secret !== undefined && secret.length > MAX_SECRET) throw new InvalidClient('client authentication failed');

  const client = await clients.get(id);
  if (method === 'none') {
    if (client?.type === 'public') return { client, method };
    throw new InvalidClient('client authentication failed', { debug: client ? `confidential client ${id} sent no secret` : `unknown client ${id}` });
  }
  const ok = box.verifyClientSecret(secret ?? '', client?.type === 'confidential' ? client.secretHash : undefined);
  if (!ok || !client) {
    throw new InvalidClient('client authentication failed', { debug: client ? `wrong secret for ${id}` : `unknown client ${id}` });
  }
  return { client, method };
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * RFC 7617 + RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`. The decoded bytes must
 * be UTF-8, and id and secret after form-urldecoding well-formed text without NUL (`isCleanText`):
 * anything else is a malformed credential (`invalid_client`), never a lookup.
 */
function parseBasic(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined) return undefined;
  const m = /^basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  if (!m) throw new InvalidClient('malformed Authorization header', { debug: 'not a Basic credential' });
  let decoded: string;
  try {
    decoded = UTF8.decode(Buffer.from(m[1]!, 'base64'));
  } catch {
    throw new InvalidClient('malformed Authorization header', { debug: 'Basic credential is not UTF-8' });
  }
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new InvalidClient('malformed Authorization header');
  let id: string;
  let secret: string;
  try {
    id = formDecode(decoded.slice(0, colon));
    secret = formDecode(decoded.slice(colon + 1));
  } catch {
    throw new InvalidClient('malformed Authorization header');
  }
  if (!isCleanText(id) || !isCleanText(secret)) throw new InvalidClient('malformed Authorization header', { debug: 'NUL or unpaired surrogate in a Basic credential' });
  return { id, secret };
}

function formDecode(s: string): string {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

/** The client id a request claims (for throttling before authentication); never throws. */
export function claimedClientId(input: ClientAuthInput): string {
  try {
    return (parseBasic(input.authorization)?.id ?? input.params.client_id ?? '-').slice(0, MAX_ID);
  } catch {
    return '-';
  }
}
