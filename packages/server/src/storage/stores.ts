/**
 * Storage interfaces, one per artifact (DESIGN.md §5). The engine depends on these only; the Kysely
 * implementations in ./kysely serve SQLite and PostgreSQL alike.
 */
import type { DeviceCodeStore } from '../engine/device/store.js';

export type ClientType = 'confidential' | 'public';

/** RFC 7591 §2 / OIDC Core §9 client authentication methods. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt' | 'none';

export interface Client {
  id: string;
  name: string;
  type: ClientType;
  /** `hmac-sha256$…` of the client secret; absent for public clients. */
  secretHash: string | undefined;
  redirectUris: string[];
  grantTypes: string[];
  scopes: string[];
  /** Default `aud` when the request names no `resource` (RFC 8707). */
  audience: string | undefined;
  /** Further resource indicators this client may ask for. */
  resources: string[];
  accessTokenTtl: number | undefined;
  /** Consent is skipped for first-party clients (the operator vouches for them). */
  firstParty: boolean;
  /** RP-initiated logout: where `post_logout_redirect_uri` may point (exact match); absent = none. */
  postLogoutRedirectUris?: string[];
  /** Extra rights: `introspect` lets a resource server call /introspect and read the revocation feed. */
  permissions?: string[];
  /**
   * Browser origins (`https://app.example`) that may call /token, /revoke and /userinfo with CORS, besides
   * the origins of a public client's redirect URIs.
   */
  allowedOrigins?: string[];
  /** JWS `alg` of its ID tokens (OIDC Registration `id_token_signed_response_alg`); absent = RS256. */
  idTokenSignedResponseAlg?: string | undefined;
  /**
   * RFC 7591 §2 `token_endpoint_auth_method`. Absent: `client_secret_basic` or `client_secret_post` for
   * confidential clients, `none` for public ones. When set, only this method is accepted.
   */
  tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  /** OIDC Registration `token_endpoint_auth_signing_alg`: the one JWS alg its assertions may use. */
  tokenEndpointAuthSigningAlg?: string;
  /** private_key_jwt: the client's public keys inline (RFC 7517 JWK Set) … */
  jwks?: { keys: Record<string, unknown>[] };
  /** … or where to fetch them (https; cached). */
  jwksUri?: string;
  /** client_secret_jwt only: the secret itself, AES-256-GCM under the key-encryption key (aad: client id). */
  secretEnc?: string;
  /** RFC 9126 §6: this client must use PAR; a plain /authorize request is refused. */
  requirePushedAuthorizationRequests?: boolean;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens`: token requests without a DPoP proof are refused. */
  dpopBoundAccessTokens?: boolean;
  /** Refused at every endpoint (client authentication, /authorize) while set. */
  disabled?: boolean;
  /**
   * A client whose `client_id` is the URL of its metadata document (engine/cimd): nobody vouched for it,
   * so the consent page says so and shows its host. Never stored.
   */
  metadataDocument?: { host: string; logoUri: string | undefined };
  /** `registration`: created through RFC 7591 dynamic registration; `metadata-document`: never stored. */
  source: 'config' | 'cli' | 'registration' | 'metadata-document';
  /** Issue 15: users signing in to this client need a second factor (acr `urn:tessera:acr:mfa`). */
  requireMfa?: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ClientStore {
  get(id: string): Promise<Client | undefined>;
  list(): Promise<Client[]>;
  /** Inserts or replaces by id (config clients are applied idempotently at start). */
  upsert(client: Client): Promise<void>;
  delete(id: string): Promise<boolean>;
}

export type KeyState = 'next' | 'active' | 'retired';

export interface StoredKey {
  kid: string;
  alg: string;
  state: KeyState;
  publicJwk: Record<string, unknown>;
  /** The private JWK, encrypted with the key-encryption key (AES-256-GCM). */
  privateJwkEnc: string;
  createdAt: number;
  activatedAt: number | undefined;
  retiredAt: number | undefined;
  publishUntil: number | undefined;
}

export interface KeyStore {
  list(): Promise<StoredKey[]>;
  insert(key: StoredKey): Promise<void>;
  /**
   * Atomically makes `nextKid` active and retires the current active key of the same algorithm
   * (published until `publishUntil`). Returns false when another instance rotated first (nothing changed).
   */
  rotate(nextKid: string, now: number, publishUntil: number): Promise<boolean>;
  /** Retires one `next` or `active` key (its algorithm is no longer used); false when it already was. */
  retire(kid: string, now: number, publishUntil: number): Promise<boolean>;
  /** Drops retired keys whose tokens have all expired. */
  purgeRetired(now: number): Promise<number>;
}

export interface User {
  /** Stable opaque subject: `usr_` + random base64url (never reused, never a client id). */
  sub: string;
  /** Normalised (NFKC, lower case); unique. */
  username: string;
  email: string | undefined;
  emailVerified: boolean;
  name: string | undefined;
  /** argon2id PHC string. */
  passwordHash: string;
  roles: string[];
  /** Issue 15: every sign-in of this user needs a second factor (enrolment is asked for when none). */
  mfaRequired?: boolean;
  source: 'config' | 'cli';
  createdAt: number;
  updatedAt: number;
}

export interface UserStore {
  get(sub: string): Promise<User | undefined>;
  /** By normalised username, or by e-mail address. */
  findByLogin(login: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  /** Inserts, or replaces the row with the same `sub`. */
  upsert(user: User): Promise<void>;
  /** Deletes the user; sessions and consents go with it. */
  delete(sub: string): Promise<boolean>;
}

export interface Session {
  /** SHA-256 of the cookie value. */
  idHash: string;
  sid: string;
  sub: string;
  authTime: number;
  /** RFC 8176 methods of this sign-in (`pwd`, `otp`, `mfa`); absent = `['pwd']`. */
  amr?: string[];
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface SessionStore {
  insert(session: Session): Promise<void>;
  get(idHash: string): Promise<Session | undefined>;
  touch(idHash: string, now: number): Promise<void>;
  /** Step-up in the same session (a second factor proven): new methods and auth time. */
  upgrade(idHash: string, amr: string[], authTime: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  deleteForUser(sub: string): Promise<number>;
  purgeExpired(idleBefore: number, now: number): Promise<number>;
}

export interface Interaction {
  idHash: string;
  /** SHA-256 of the browser cookie the interaction was started with. */
  browserHash: string;
  clientId: string;
  request: Record<string, unknown>;
  /** Who signed in during this interaction, and when (satisfies prompt=login / max_age). */
  loginSub: string | undefined;
  loginAt: number | undefined;
  consented: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface InteractionStore {
  insert(interaction: Interaction): Promise<void>;
  get(idHash: string, now: number): Promise<Interaction | undefined>;
  recordLogin(idHash: string, sub: string, at: number): Promise<void>;
  recordConsent(idHash: string): Promise<void>;
  /** Single use: true only for the caller that deleted it. */
  consume(idHash: string): Promise<boolean>;
  purgeExpired(now: number): Promise<number>;
}

export interface ConsentStore {
  get(sub: string, clientId: string): Promise<string[]>;
  /** Adds scopes to what the user already granted this client. */
  grant(sub: string, clientId: string, scopes: string[], now: number): Promise<void>;
  revoke(sub: string, clientId: string): Promise<void>;
}

export interface LoginAttemptStore {
  /** Current failure count in the window starting at or after `windowStart`. */
  get(key: string): Promise<{ failures: number; windowStart: number } | undefined>;
  /** Atomically counts one failure, opening a new window when the old one started before `staleBefore`. */
  recordFailure(key: string, now: number, staleBefore: number): Promise<void>;
  clear(key: string): Promise<void>;
  purgeOlderThan(before: number): Promise<number>;
}

export interface AuthorizationCode {
  codeHash: string;
  clientId: string;
  sub: string;
  redirectUri: string;
  /** Whether `redirect_uri` was in the authorization request (then /token must repeat it). */
  redirectUriSent: boolean;
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  nonce: string | undefined;
  scopes: string[];
  resources: string[];
  authTime: number;
  /** RFC 8176 methods of the sign-in behind the code; absent = `['pwd']`. */
  amr?: string[];
  sid: string | undefined;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | undefined;
  revokedAt: number | undefined;
  /** RFC 9449 §10: thumbprint of the key the code was bound to at /authorize (`dpop_jkt`). */
  dpopJkt?: string | undefined;
}

/** What a code's redemption issued: an access token (by jti) or a refresh-token family (by id). */
export interface IssuedToken {
  jti: string;
  type: 'access_token' | 'refresh_family';
  expiresAt: number;
}

export interface AuthorizationCodeStore {
  insert(code: AuthorizationCode): Promise<void>;
  get(codeHash: string): Promise<AuthorizationCode | undefined>;
  /**
   * Single use as one conditional UPDATE (DESIGN.md §5): true only for the one caller that
   * flipped `consumed_at` on an unexpired, unrevoked code.
   */
  consume(codeHash: string, now: number): Promise<boolean>;
  /** Marks the grant revoked (replay detected) and returns what its redemption issued. */
  revoke(codeHash: string, now: number): Promise<IssuedToken[]>;
  recordIssued(codeHash: string, tokens: IssuedToken[]): Promise<void>;
  /** True when this client already had a code with this PKCE challenge (B13: a constant challenge). */
  challengeSeen(clientId: string, codeChallenge: string): Promise<boolean>;
  /** True when the token came from a code that was later revoked. */
  isRevokedToken(jti: string): Promise<boolean>;
  purgeExpired(before: number): Promise<number>;
}

export interface Stores {
  refreshTokens: RefreshTokenStore;
  revocations: RevocationStore;
  clients: ClientStore;
  keys: KeyStore;
  users: UserStore;
  sessions: SessionStore;
  interactions: InteractionStore;
  consents: ConsentStore;
  loginAttempts: LoginAttemptStore;
  codes: AuthorizationCodeStore;
  assertionJtis: AssertionReplayStore;
  pushedRequests: PushedRequestStore;
  /** RFC 8628 device authorization requests (engine/device). */
  deviceCodes: DeviceCodeStore;
  registrations: RegistrationStore;
  mfa: MfaStore;
}

/** RFC 7591/7592 bookkeeping of a dynamically registered client. */
export interface ClientRegistration {
  clientId: string;
  /** SHA-256 of the registration access token (never the token). */
  tokenHash: string;
  createdIp: string;
  createdAt: number;
  deletedAt: number | undefined;
}

export interface RegistrationStore {
  insert(r: Omit<ClientRegistration, 'deletedAt'>): Promise<void>;
  get(clientId: string): Promise<ClientRegistration | undefined>;
  /** Registrations (deleted ones included) from `ip` since `since`: the per-source hourly limit. */
  countFrom(ip: string, since: number): Promise<number>;
  markDeleted(clientId: string, now: number): Promise<boolean>;
  /** Replaces the registration access token only if `oldHash` is still current (one conditional write). */
  rotateToken(clientId: string, oldHash: string, newHash: string): Promise<boolean>;
  /** Stores a new initial access token (hashed) good for `uses` registrations until `expiresAt`. */
  createInitialToken(t: { tokenHash: string; label: string; uses: number; createdAt: number; expiresAt: number }): Promise<void>;
  /** Spends one use of an initial access token, atomically; false when unknown, used up or expired. */
  useInitialToken(tokenHash: string, now: number): Promise<boolean>;
}

/** Single-use identifiers (client-assertion `jti`s, RFC 7523 §3), shared by every instance. */
export interface AssertionReplayStore {
  /**
   * Records `id` as used until `expiresAt`, as one conditional write: true only for the first caller;
   * false while an earlier use has not expired.
   */
  use(id: string, expiresAt: number, now: number): Promise<boolean>;
  purgeExpired(now: number): Promise<number>;
}

/** An RFC 9126 pushed authorization request: the parameters behind one `request_uri`. */
export interface PushedRequest {
  /** SHA-256 of the random part of the request_uri. */
  uriHash: string;
  clientId: string;
  params: Record<string, string | string[]>;
  createdAt: number;
  expiresAt: number;
}

export interface PushedRequestStore {
  insert(request: PushedRequest): Promise<void>;
  /**
   * Single use (RFC 9126 §4) as one conditional UPDATE: the request for the one caller that marked it
   * used; undefined when unknown, expired, already used, or pushed by another client.
   */
  consume(uriHash: string, clientId: string, now: number): Promise<PushedRequest | undefined>;
  purgeExpired(now: number): Promise<number>;
}

/** A refresh-token family: one grant, rotated token by token (RFC 9700 §4.14.2). */
export interface RefreshFamily {
  familyId: string;
  clientId: string;
  sub: string;
  sid: string | undefined;
  scopes: string[];
  resources: string[];
  authTime: number;
  /** RFC 8176 methods of the sign-in behind the grant; absent = `['pwd']`. */
  amr?: string[];
  createdAt: number;
  absoluteExpiresAt: number;
  revokedAt: number | undefined;
  /** RFC 9449 §5: a public client's family is bound to its DPoP key; every refresh must prove it. */
  dpopJkt?: string | undefined;
}

export interface RefreshToken {
  tokenHash: string;
  familyId: string;
  createdAt: number;
  expiresAt: number;
  rotatedAt: number | undefined;
  /** Whether a retry within the window was answered for this token. */
  graceUsed: boolean;
  revokedAt: number | undefined;
}

export type RotateOutcome = 'rotated' | 'grace' | 'lost';

export interface RefreshTokenStore {
  createFamily(family: RefreshFamily, first: RefreshToken): Promise<void>;
  /** The token and its family, by hash. */
  find(tokenHash: string): Promise<{ token: RefreshToken; family: RefreshFamily } | undefined>;
  /**
   * Atomically replaces `oldHash` by `next` (DESIGN.md §5: one conditional UPDATE, so of N concurrent
   * rotations one wins, 'rotated'). With `retryWindow` > 0, a token rotated at most that many seconds
   * ago is let through again ('grace') when `next` — its one successor, derived from it — is already
   * stored and still unused: nothing is inserted, the caller hands out that same successor. 'lost'
   * means reuse. `issued` (the access token minted for this refresh) is recorded in the same transaction.
   */
  rotate(oldHash: string, next: RefreshToken, now: number, retryWindow: number, issued?: IssuedAccessToken): Promise<RotateOutcome>;
  /** Revokes the family (every token in it); false when it was already revoked. */
  revokeFamily(familyId: string, now: number, reason: string): Promise<boolean>;
  /**
   * RFC 9449 §5: binds a not yet bound family to a DPoP key (one conditional UPDATE). True when the
   * family is now bound to `jkt`, false when it was already bound to another key.
   */
  bindDpopKey(familyId: string, jkt: string): Promise<boolean>;
  /** Live families of a browser session, or of a user (all sessions). */
  familiesFor(filter: { sid?: string; sub?: string }): Promise<string[]>;
  purgeExpired(now: number): Promise<number>;
}

export interface IssuedAccessToken {
  jti: string;
  familyId: string | undefined;
  sid: string | undefined;
  sub: string;
  clientId: string;
  expiresAt: number;
}

export interface DeniedToken {
  jti: string;
  exp: number;
  revokedAtMs: number;
}

/** Access-token revocation: which user tokens exist (so logout can find them) and the jti denylist. */
export interface RevocationStore {
  recordIssued(token: IssuedAccessToken): Promise<void>;
  /** Live access tokens of a family, a session or a user. */
  liveTokens(filter: { familyId?: string; sid?: string; sub?: string }, now: number): Promise<{ jti: string; exp: number }[]>;
  /** Puts jtis on the denylist until their `exp`; returns the entries newly added. */
  deny(tokens: { jti: string; exp: number }[], nowMs: number, reason: string): Promise<DeniedToken[]>;
  isDenied(jti: string): Promise<boolean>;
  /** Denylist entries revoked at or after `sinceMs` and still live (the feed), oldest first. */
  deniedSince(sinceMs: number, now: number, limit: number): Promise<DeniedToken[]>;
  purgeExpired(now: number): Promise<number>;
}

/** A user's TOTP factor (RFC 6238). */
export interface TotpFactor {
  sub: string;
  /** The base32 secret, encrypted with the key-encryption key (aad: `totp:` + sub). */
  secretEnc: string;
  /** Undefined while enrolment is not confirmed with a first code. */
  confirmedAt: number | undefined;
  /** The last accepted time step (replay protection). */
  lastStep: number | undefined;
  createdAt: number;
}

/** Second factors (issue 15): TOTP and recovery codes, shared by every instance through the database. */
export interface MfaStore {
  getTotp(sub: string): Promise<TotpFactor | undefined>;
  /** Starts (or restarts) an unconfirmed enrolment; false when a confirmed factor exists. */
  beginTotp(sub: string, secretEnc: string, now: number): Promise<boolean>;
  /**
   * Confirms an unconfirmed enrolment with the step of its first code and replaces the recovery codes,
   * in one transaction; false when there was nothing unconfirmed (a concurrent confirm won).
   */
  confirmTotp(sub: string, step: number, now: number, recoveryHashes: string[]): Promise<boolean>;
  /** One conditional UPDATE: true only when `step` is later than the last accepted one. */
  useStep(sub: string, step: number): Promise<boolean>;
  /** One conditional UPDATE: true only for the first use of this unused code of `sub`. */
  useRecoveryCode(sub: string, codeHash: string, now: number): Promise<boolean>;
  unusedRecoveryCodes(sub: string): Promise<number>;
  /** Removes the TOTP factor and the recovery codes; false when there was none. */
  reset(sub: string): Promise<boolean>;
}
