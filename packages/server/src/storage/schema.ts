import type { Generated } from 'kysely';

/** Row types of Tessera's tables. Times are epoch seconds; JSON columns hold text. */
export interface ClientsTable {
  id: string;
  name: string;
  type: 'confidential' | 'public';
  secret_hash: string | null;
  redirect_uris: string;
  grant_types: string;
  scopes: string;
  audience: string | null;
  resources: string;
  access_token_ttl: number | null;
  first_party: number;
  source: 'config' | 'cli' | 'registration';
  created_at: number;
  updated_at: number;
  /** JSON array (migration 002). */
  post_logout_redirect_uris: Generated<string>;
  permissions: Generated<string>;
  /** JSON array of origins (migration 006). */
  allowed_origins: Generated<string>;
  /** JWS alg of its ID tokens; null = RS256 (migration 006). */
  id_token_signed_response_alg: string | null;
  /** RFC 7523 / RFC 9126 settings (migration 007). */
  token_endpoint_auth_method: string | null;
  token_endpoint_auth_signing_alg: string | null;
  jwks: string | null;
  jwks_uri: string | null;
  secret_enc: string | null;
  require_par: number;
  /** RFC 9449 §5.2 `dpop_bound_access_tokens` (migration 008). */
  dpop_bound_access_tokens: Generated<number>;
  /** 1: refused at every endpoint (migration 010). */
  disabled: Generated<number>;
  /** Issue 15: sign-ins for this client need a second factor (migration 012). */
  require_mfa: Generated<number>;
}

/** RFC 7591/7592: one row per dynamically registered client (migration 010). */
export interface ClientRegistrationsTable {
  client_id: string;
  /** SHA-256 of the registration access token. */
  token_hash: string;
  created_ip: string;
  created_at: number;
  deleted_at: number | null;
}

/** Initial access tokens for gated registration (RFC 7591 §3), hashed (migration 010). */
export interface RegistrationInitialTokensTable {
  token_hash: string;
  label: string;
  uses_left: number;
  created_at: number;
  expires_at: number;
}

/** Used client-assertion jtis (RFC 7523 §3 item 7), until the assertion's exp. */
export interface ClientAssertionJtisTable {
  id: string;
  expires_at: number;
}

/** RFC 9126 pushed authorization requests: the request parameters behind one request_uri. */
export interface PushedAuthorizationRequestsTable {
  uri_hash: string;
  client_id: string;
  params: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  state: 'next' | 'active' | 'retired';
  public_jwk: string;
  private_jwk_enc: string;
  created_at: number;
  activated_at: number | null;
  retired_at: number | null;
  /** While state is retired: published until this time (every token it signed has expired). */
  publish_until: number | null;
}

export interface MigrationMarkerTable {
  id: Generated<number>;
}

export interface UsersTable {
  sub: string;
  username: string;
  email: string | null;
  email_verified: number;
  name: string | null;
  password_hash: string;
  roles: string;
  source: 'config' | 'cli';
  created_at: number;
  updated_at: number;
  /** Issue 15: this user must sign in with a second factor (migration 012). */
  mfa_required: Generated<number>;
}

export interface SessionsTable {
  /** SHA-256 of the cookie value; the value itself is never stored. */
  id_hash: string;
  /** Public session identifier (the `sid` claim, OIDC Front-Channel Logout §3). */
  sid: string;
  sub: string;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  /** RFC 8176 amr values, JSON array; null = password only (migration 012). */
  amr: string | null;
}

export interface InteractionsTable {
  id_hash: string;
  browser_hash: string;
  client_id: string;
  /** The validated authorization request, JSON. */
  request: string;
  login_sub: string | null;
  login_at: number | null;
  consented: number;
  created_at: number;
  expires_at: number;
}

export interface ConsentsTable {
  sub: string;
  client_id: string;
  scopes: string;
  updated_at: number;
}

export interface LoginAttemptsTable {
  key: string;
  failures: number;
  window_start: number;
}

export interface AuthorizationCodesTable {
  code_hash: string;
  client_id: string;
  sub: string;
  redirect_uri: string;
  redirect_uri_sent: number;
  code_challenge: string;
  code_challenge_method: string;
  nonce: string | null;
  scope: string;
  resources: string;
  auth_time: number;
  sid: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
  revoked_at: number | null;
  /** RFC 9449 §10 `dpop_jkt` (migration 008). */
  dpop_jkt: Generated<string | null>;
  /** RFC 8176 amr values, JSON array; null = password only (migration 012). */
  amr: string | null;
}

export interface CodeIssuedTokensTable {
  code_hash: string;
  jti: string;
  token_type: string;
  expires_at: number;
}

export interface RefreshFamiliesTable {
  family_id: string;
  client_id: string;
  sub: string;
  sid: string | null;
  scope: string;
  resources: string;
  auth_time: number;
  created_at: number;
  absolute_expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  /** RFC 9449 §5: the key a public client's family is bound to (migration 008). */
  dpop_jkt: Generated<string | null>;
  /** RFC 8176 amr values, JSON array; null = password only (migration 012). */
  amr: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  family_id: string;
  created_at: number;
  expires_at: number;
  rotated_at: number | null;
  grace_used: number;
  revoked_at: number | null;
}

export interface IssuedAccessTokensTable {
  jti: string;
  family_id: string | null;
  sid: string | null;
  sub: string;
  client_id: string;
  expires_at: number;
}

export interface RevokedTokensTable {
  jti: string;
  exp: number;
  revoked_at_ms: number;
  reason: string;
}

export interface DpopReplayTable {
  /** SHA-256 of the proof key thumbprint and `jti`. */
  id: string;
  expires_at: number;
}

/** One TOTP factor per user (RFC 6238; migration 012). */
export interface MfaTotpTable {
  sub: string;
  /** The base32 secret, AES-256-GCM under the key-encryption key (aad: sub). */
  secret_enc: string;
  /** Null until the user confirmed enrolment with a first code. */
  confirmed_at: number | null;
  /** The last accepted time step: a code of that step or an earlier one is refused (replay). */
  last_step: number | null;
  created_at: number;
}

/** One-time recovery codes, stored as SHA-256 (migration 012). */
export interface MfaRecoveryCodesTable {
  code_hash: string;
  sub: string;
  used_at: number | null;
  created_at: number;
}

export interface Database {
  dpop_replay: DpopReplayTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  issued_access_tokens: IssuedAccessTokensTable;
  revoked_tokens: RevokedTokensTable;
  clients: ClientsTable;
  signing_keys: SigningKeysTable;
  users: UsersTable;
  sessions: SessionsTable;
  interactions: InteractionsTable;
  consents: ConsentsTable;
  login_attempts: LoginAttemptsTable;
  authorization_codes: AuthorizationCodesTable;
  code_issued_tokens: CodeIssuedTokensTable;
  client_assertion_jtis: ClientAssertionJtisTable;
  pushed_authorization_requests: PushedAuthorizationRequestsTable;
  client_registrations: ClientRegistrationsTable;
  registration_initial_tokens: RegistrationInitialTokensTable;
  audit_events: AuditEventsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  mfa_totp: MfaTotpTable;
  mfa_recovery_codes: MfaRecoveryCodesTable;
}

/** The audit log (migration 013). Times are epoch milliseconds; details is JSON with secrets masked. */
export interface AuditEventsTable {
  id: string;
  type: string;
  time_ms: number;
  actor: string | null;
  subject: string | null;
  client_id: string | null;
  ip: string | null;
  user_agent: string | null;
  outcome: string;
  details: string;
}

export interface WebhookSubscriptionsTable {
  id: string;
  url: string;
  /** JSON array of event types; `["*"]` = every event. */
  event_types: string;
  /** The signing secret, AES-256-GCM under the key-encryption key (aad: subscription id). */
  secret_enc: string;
  created_at_ms: number;
}

/** The webhook outbox: one row per event and subscription. */
export interface WebhookDeliveriesTable {
  id: string;
  subscription_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at_ms: number;
  lease_owner: string | null;
  lease_until_ms: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}
