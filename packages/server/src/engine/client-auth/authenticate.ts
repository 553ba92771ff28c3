import { InvalidClient, InvalidRequest } from '@tessera/protocol';
import type { Client, ClientStore, TokenEndpointAuthMethod } from '../../storage/stores.js';
import type { SecretBox } from '../keys/secret-box.js';
import { isCleanText } from '../params.js';
import { assertionIssuer, CLIENT_ASSERTION_TYPE, type ClientAssertionVerifier } from './jwt-assertion.js';

export type ClientAuthMethod = TokenEndpointAuthMethod;

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

/** What JWT client authentication needs; without it assertions are refused. */
export interface ClientAuthOptions {
  assertions?: ClientAssertionVerifier | undefined;
  /** When set, only these methods are accepted at all (the FAPI 2.0 profile: `private_key_jwt`). */
  onlyMethods?: readonly ClientAuthMethod[] | undefined;
}

const MAX_ID = 128;
const MAX_SECRET = 512;

/**
 * Client authentication at the token, revocation, introspection and PAR endpoints (RFC 6749 §2.3,
 * §3.2.1; RFC 7523 §2.2; OIDC Core §9). `client_secret_basic` (credentials form-urldecoded, §2.3.1),
 * `client_secret_post`, `private_key_jwt` / `client_secret_jwt` (`client_assertion`), or `none` for
 * public clients. More than one method in a request is `invalid_request` (§2.3); a client configured
 * for one method (`tokenEndpointAuthMethod`) may use only that one. An unknown client and a wrong secret
 * give the same error after the same work.
 */
export async function authenticateClient(input: ClientAuthInput, clients: ClientStore, box: SecretBox, options: ClientAuthOptions = {}): Promise<AuthenticatedClient> {
  const basic = parseBasic(input.authorization);
  const bodyId = input.params.client_id;
  const bodySecret = input.params.client_secret;
  const assertion = input.params.client_assertion;
  const assertionType = input.params.client_assertion_type;

  const methods = [basic, bodySecret, assertion ?? assertionType].filter((x) => x !== undefined).length;
  if (methods > 1) throw new InvalidRequest('more than one client authentication method');
  if (basic && bodyId !== undefined && bodyId !== basic.id) throw new InvalidRequest('client_id does not match the authenticated client');

  let result: AuthenticatedClient;
  if (assertion !== undefined || assertionType !== undefined) {
    result = await assertionAuth(assertion, assertionType, bodyId, clients, options);
  } else {
    result = await secretAuth(basic, bodyId, bodySecret, clients, box);
  }
  const { client, method } = result;
  if (client.disabled) throw new InvalidClient('client authentication failed', { debug: `client ${client.id} is disabled` });
  const expected = client.tokenEndpointAuthMethod;
  const permitted = expected === undefined
    ? (client.type === 'public' ? method === 'none' : method === 'client_secret_basic' || method === 'client_secret_post')
    : method === expected;
  if (!permitted || (options.onlyMethods && !options.onlyMethods.includes(method))) {
    throw new InvalidClient('client authentication failed', { debug: `client ${client.id} used ${method}, registered for ${expected ?? 'default'}` });
  }
  return result;
}

async function assertionAuth(
  assertion: string | undefined, type: string | undefined, bodyId: string | undefined, clients: ClientStore, options: ClientAuthOptions,
): Promise<AuthenticatedClient> {
  // RFC 7521 §4.2: both parameters, the JWT bearer type only.
  if (type !== CLIENT_ASSERTION_TYPE) throw new InvalidRequest(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  if (assertion === undefined) throw new InvalidRequest('missing parameter: client_assertion');
  const id = assertionIssuer(assertion);
  if (id === undefined) throw new InvalidClient('malformed client assertion', { debug: 'no usable iss' });
  // RFC 7521 §4.2: a client_id sent alongside must name the same client.
  if (bodyId !== undefined && bodyId !== id) throw new InvalidRequest('client_id does not match the client assertion');
  const client = await clients.get(id);
  if (!client || !options.assertions) throw new InvalidClient('client authentication failed', { debug: client ? 'assertions not enabled' : `unknown client ${id}` });
  return { client, method: await options.assertions.verify(assertion, client) };
}

async function secretAuth(
  basic: { id: string; secret: string } | undefined, bodyId: string | undefined, bodySecret: string | undefined, clients: ClientStore, box: SecretBox,
): Promise<AuthenticatedClient> {
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
    const fromAssertion = input.params.client_assertion === undefined ? undefined : assertionIssuer(input.params.client_assertion);
    return (parseBasic(input.authorization)?.id ?? input.params.client_id ?? fromAssertion ?? '-').slice(0, MAX_ID);
  } catch {
    return '-';
  }
}
