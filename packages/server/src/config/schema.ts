import { Type, type Static } from '@sinclair/typebox';

const Duration = Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]+(s|m|h|d)$' })], {
  description: 'a number of seconds, or a number with the unit s, m, h or d (e.g. 15m)',
});

export const ClientConfigSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._~-]+$' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    type: Type.Optional(Type.Union([Type.Literal('confidential'), Type.Literal('public')])),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
    secretHash: Type.Optional(Type.String({ pattern: '^hmac-sha256\\$[A-Za-z0-9_-]{43}$', description: 'hmac-sha256$ and 43 base64url characters (from `tessera clients hash-secret`)' })),
    grants: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 8 }),
    scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', description: 'a scope token: printable ASCII without space, " or \\ (RFC 6749 §3.3)' }), { maxItems: 200 })),
    redirectUris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 50 })),
    audience: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    resources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 50 })),
    accessTokenTtl: Type.Optional(Duration),
    firstParty: Type.Optional(Type.Boolean()),
    postLogoutRedirectUris: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 2000 }), { maxItems: 50 })),
    /** `introspect`: may call /introspect and read the revocation feed (resource servers). */
    permissions: Type.Optional(Type.Array(Type.Literal('introspect'), { maxItems: 4 })),
    /** Browser origins allowed to call /token, /revoke and /userinfo (CORS), e.g. `https://app.example`. */
    allowedOrigins: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 300 }), { maxItems: 50 })),
    /** ID token `alg` (OIDC Registration `id_token_signed_response_alg`): RS256 (default) or keys.algorithm. */
    idTokenSignedResponseAlg: Type.Optional(Type.Union([Type.Literal('RS256'), Type.Literal('ES256'), Type.Literal('EdDSA')])),
    /** RFC 7591 §2 token_endpoint_auth_method; default client_secret_basic/_post (confidential), none (public). */
    tokenEndpointAuthMethod: Type.Optional(Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post'), Type.Literal('client_secret_jwt'), Type.Literal('private_key_jwt'), Type.Literal('none')])),
    /** The one JWS alg this client's assertions use (OIDC Registration token_endpoint_auth_signing_alg). */
    tokenEndpointAuthSigningAlg: Type.Optional(Type.Union([Type.Literal('RS256'), Type.Literal('PS256'), Type.Literal('ES256'), Type.Literal('EdDSA'), Type.Literal('Ed25519'), Type.Literal('HS256')])),
    /** private_key_jwt: the client's public keys (a JWK Set) … */
    jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String() }), { minItems: 1, maxItems: 20 }) })),
    /** … or an https URL serving them. */
    jwksUri: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })),
    /** client_secret_jwt in production: the secret as `tessera clients encrypt-secret` printed it. */
    secretEncrypted: Type.Optional(Type.String({ pattern: '^v1\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$', maxLength: 2000 })),
    /** RFC 9126 §6: this client must push its authorization requests (PAR). */
    requirePushedAuthorizationRequests: Type.Optional(Type.Boolean()),
    /** RFC 9449 §5.2: refuse token requests without a DPoP proof (no bearer tokens for this client). */
    dpopBoundAccessTokens: Type.Optional(Type.Boolean()),
    /** Issue 15: sign-ins for this client need a second factor (acr urn:tessera:acr:mfa). */
    requireMfa: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

/** A user declared in the config file (applied idempotently at start, keyed by username). */
export const UserConfigSchema = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 64 }),
    /** Optional fixed subject (`usr_…`); otherwise one is generated on first start and kept. */
    sub: Type.Optional(Type.String({ pattern: '^usr_[A-Za-z0-9_-]{16,60}$' })),
    /** Plain text: development only (rejected in production). */
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    /** argon2id PHC string. */
    passwordHash: Type.Optional(
      Type.String({
        pattern: '^\\$argon2id\\$v=19\\$m=[0-9]+,t=[0-9]+,p=[0-9]+\\$[A-Za-z0-9+/]{11,}\\$[A-Za-z0-9+/]{16,}$',
        description: 'a whole argon2id PHC string, $argon2id$v=19$m=…,t=…,p=…$salt$hash (from `tessera users hash-password`)',
      }),
    ),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' })),
    emailVerified: Type.Optional(Type.Boolean()),
    roles: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9:._-]{1,64}$' }), { maxItems: 50 })),
    /** Issue 15: `required` = every sign-in needs a second factor (enrolment is asked for when none). */
    mfa: Type.Optional(Type.Union([Type.Literal('required'), Type.Literal('optional')])),
  },
  { additionalProperties: false },
);

export const ConfigSchema = Type.Object(
  {
    issuer: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 0, maximum: 65535 }),
    host: Type.String({ minLength: 1 }),
    dataDir: Type.String({ minLength: 1 }),
    databaseUrl: Type.Optional(Type.String({ minLength: 1 })),
    /** Optional Redis (redis://…): revocation fan-out and cache invalidation between instances. */
    redisUrl: Type.Optional(Type.String({ pattern: '^rediss?://' })),
    /** A security profile preset: `fapi2` (FAPI 2.0 Security Profile) enforces what it requires at start. */
    profile: Type.Optional(Type.Literal('fapi2')),
    /** RFC 9126 §5: every client must use pushed authorization requests. */
    requirePushedAuthorizationRequests: Type.Optional(Type.Boolean()),
    logLevel: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l))),
    tokens: Type.Object(
      {
        accessTokenTtl: Duration,
        maxAccessTokenTtl: Duration,
        /** Authorization code lifetime (RFC 6749 §4.1.2: short; default 60 s, at most 10 min). */
        codeTtl: Type.Optional(Duration),
        /** ID token lifetime (default 10 min, at most tokens.maxAccessTokenTtl). */
        idTokenTtl: Type.Optional(Duration),
      },
      { additionalProperties: false },
    ),
    keys: Type.Object(
      {
        algorithm: Type.Union([Type.Literal('RS256'), Type.Literal('ES256'), Type.Literal('EdDSA')]),
        rotateEvery: Type.Optional(Duration),
        reloadEvery: Duration,
      },
      { additionalProperties: false },
    ),
    trustProxy: Type.Union([Type.Boolean(), Type.Array(Type.String({ minLength: 1 }))], { description: 'true, false, or a list of proxy addresses or CIDR ranges' }),
    tls: Type.Optional(Type.Object({ cert: Type.String({ minLength: 1 }), key: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
    limits: Type.Object({ bodyBytes: Type.Integer({ minimum: 1024, maximum: 10485760 }) }, { additionalProperties: false }),
    clients: Type.Array(ClientConfigSchema, { maxItems: 1000 }),
    users: Type.Optional(Type.Array(UserConfigSchema, { maxItems: 10000 })),
    /**
     * RFC 8707: the registered resource servers (`resource` = the `aud` of their tokens) and the scopes
     * each accepts. When set, every client `audience`/`resources` entry must be one of them, and a scope
     * requested for a resource must belong to it (README "Resource indicators").
     */
    resourceServers: Type.Optional(Type.Array(Type.Object({
      resource: Type.String({ minLength: 1, maxLength: 512 }),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }), { maxItems: 200 })),
    }, { additionalProperties: false }), { maxItems: 500 })),
    /** RFC 8707 everywhere: /authorize, /par and /token refuse a request without `resource`. */
    requireResourceIndicator: Type.Optional(Type.Boolean()),
    /**
     * Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document): an https `client_id`
     * is fetched and used as an unverified third-party client (README "Client ID metadata documents").
     */
    clientIdMetadataDocuments: Type.Optional(Type.Object({
      enabled: Type.Boolean(),
      /** Scopes such clients may ask for (default: none beyond openid profile email). */
      scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }), { maxItems: 200 })),
      /** Resources they may ask for (default: every entry of resourceServers). */
      resources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 500 })),
      /** Tests and development only (refused in production): documents on loopback addresses, http too. */
      allowLoopback: Type.Optional(Type.Boolean()),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 30000 })),
      maxBytes: Type.Optional(Type.Integer({ minimum: 512, maximum: 262144 })),
      /** The longest a fetched document is used, whatever its Cache-Control says (default 1h). */
      cacheMaxAge: Type.Optional(Duration),
      cacheEntries: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
    }, { additionalProperties: false })),
    /** Refresh tokens (RFC 9700 §4.14.2): idle and absolute lifetime; retry window after a rotation (0 = strict). */
    refreshTokens: Type.Optional(
      Type.Object(
        { idleTtl: Type.Optional(Duration), absoluteTtl: Type.Optional(Duration), graceSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 60 })) },
        { additionalProperties: false },
      ),
    ),
    /** Client-authentication throttling (RFC 6819 §5.1.4.2.3): failures per client id + source and per source in one window. */
    clientAuth: Type.Optional(
      Type.Object(
        {
          maxFailuresPerClient: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          /** Introspections of tokens that are not ours, per client per window (H7: token scanning). */
          maxUnknownIntrospections: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })),
          maxFailuresPerIp: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          window: Type.Optional(Duration),
          /** Also accept `<issuer>/token` as a client assertion's aud (older clients; rfc7523bis prefers the issuer alone). */
          acceptTokenEndpointAudience: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    /** DPoP (RFC 9449): proof algorithms, how old a proof may be, and whether proofs need a server nonce. */
    dpop: Type.Optional(
      Type.Object(
        {
          algorithms: Type.Optional(Type.Array(Type.Union(['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'].map((a) => Type.Literal(a))), { minItems: 1, maxItems: 11 })),
          proofMaxAge: Type.Optional(Type.Integer({ minimum: 5, maximum: 600 })),
          requireNonce: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Dynamic client registration (RFC 7591/7592, README "Dynamic client registration"): off unless
     * enabled; gated by an initial access token unless `open`; what a registered client may ask for.
     */
    registration: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          open: Type.Optional(Type.Boolean()),
          grantTypes: Type.Optional(Type.Array(Type.Union([Type.Literal('authorization_code'), Type.Literal('refresh_token'), Type.Literal('client_credentials')]), { minItems: 1, maxItems: 3 })),
          authMethods: Type.Optional(Type.Array(Type.Union([Type.Literal('none'), Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')]), { minItems: 1, maxItems: 3 })),
          scopes: Type.Optional(Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$' }), { maxItems: 200 })),
          /** RFC 8707 resource indicators registered clients may request (e.g. MCP servers). */
          resources: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: 50 })),
          maxClientsPerIpPerHour: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** The management listener (/metrics; /healthz, /readyz too): default 127.0.0.1:9464; false = none. */
    management: Type.Optional(
      Type.Union([
        Type.Literal(false),
        Type.Object({ port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })), host: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false }),
      ]),
    ),
    /** The audit log: how long events are kept (default 90d; pruned in the background). */
    audit: Type.Optional(Type.Object({ retention: Type.Optional(Duration) }, { additionalProperties: false })),
    /** Webhook deliveries: per-attempt timeout, first retry delay (doubled per attempt up to maxBackoff), attempts before giving up. */
    webhooks: Type.Optional(
      Type.Object(
        {
          timeout: Type.Optional(Duration),
          retryBase: Type.Optional(Duration),
          maxBackoff: Type.Optional(Duration),
          maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        },
        { additionalProperties: false },
      ),
    ),
    /** Browser sessions at Tessera's own pages: absolute lifetime and idle timeout. */
    sessions: Type.Optional(Type.Object({ ttl: Type.Optional(Duration), idleTtl: Type.Optional(Duration) }, { additionalProperties: false })),
    /** Device authorization grant (RFC 8628): code lifetime, polling interval, user-code guessing limits. */
    device: Type.Optional(
      Type.Object(
        {
          codeTtl: Type.Optional(Duration),
          interval: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
          maxFailuresPerUser: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          maxFailuresPerIp: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          window: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
    /**
     * Login throttling (README "Throttling model"): failures per account from one source and per source
     * within one window (then 429); per account from all sources only a slowdown; device cookies.
     */
    login: Type.Optional(
      Type.Object(
        {
          maxFailuresPerAccount: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          maxFailuresPerIp: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          window: Type.Optional(Duration),
          slowDownAfter: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000 })),
          maxDelay: Type.Optional(Duration),
          deviceCookieTtl: Type.Optional(Duration),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export type ClientConfig = Static<typeof ClientConfigSchema>;
export type UserConfig = Static<typeof UserConfigSchema>;
export type RawConfig = Static<typeof ConfigSchema>;

/** The validated configuration with durations in seconds. */
export interface Config extends Omit<RawConfig, 'tokens' | 'keys' | 'clients' | 'users' | 'sessions' | 'login' | 'refreshTokens' | 'clientAuth' | 'registration' | 'management' | 'audit' | 'webhooks'> {
  production: boolean;
  databaseUrl: string;
  tokens: { accessTokenTtl: number; maxAccessTokenTtl: number; codeTtl: number; idTokenTtl: number };
  users: UserConfig[];
  sessions: { ttl: number; idleTtl: number };
  login: { maxFailuresPerAccount: number; maxFailuresPerIp: number; window: number; slowDownAfter: number; maxDelay: number; deviceCookieTtl: number };
  refreshTokens: { idleTtl: number; absoluteTtl: number; graceSeconds: number };
  clientAuth: { maxFailuresPerClient: number; maxFailuresPerIp: number; maxUnknownIntrospections: number; window: number; acceptTokenEndpointAudience?: boolean };
  keys: { algorithm: 'RS256' | 'ES256' | 'EdDSA'; rotateEvery: number | undefined; reloadEvery: number };
  registration: RegistrationConfig;
  clients: ClientConfig[];
  management: { port: number; host: string } | false;
  audit: { retention: number };
  webhooks: { timeout: number; retryBase: number; maxBackoff: number; maxAttempts: number };
  /** Where the config came from, for messages. */
  source: string;
}

/** The registration policy with defaults applied. */
export interface RegistrationConfig {
  enabled: boolean;
  open: boolean;
  grantTypes: ('authorization_code' | 'refresh_token' | 'client_credentials')[];
  authMethods: ('none' | 'client_secret_basic' | 'client_secret_post')[];
  scopes: string[];
  resources: string[];
  maxClientsPerIpPerHour: number;
}

export const DEFAULTS: RawConfig = {
  issuer: 'http://localhost:9000',
  port: 9000,
  host: '127.0.0.1',
  dataDir: './data',
  logLevel: 'info',
  tokens: { accessTokenTtl: 900, maxAccessTokenTtl: 3600 },
  keys: { algorithm: 'RS256', reloadEvery: 10 },
  trustProxy: false,
  limits: { bodyBytes: 65536 },
  clients: [],
};
