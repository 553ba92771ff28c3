import type { ClientConfig, Config, RawConfig } from './schema.js';
import type { Client } from '../storage/stores.js';
import { jwksUriAllowed } from '../engine/client-auth/client-keys.js';

type Seconds = (v: number | string) => number;
type Method = NonNullable<ClientConfig['tokenEndpointAuthMethod']>;

/** JWK members that only private or symmetric keys have (RFC 7518 §6). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
/** RFC 7518 §3.2: an HS256 key must have at least 256 bits; a 32-character secret is the floor. */
const MIN_JWT_SECRET = 32;

/** The method a configured client authenticates with (its default when none is set). */
export function configuredMethod(c: ClientConfig): Method | 'client_secret' {
  return c.tokenEndpointAuthMethod ?? ((c.type ?? 'confidential') === 'public' ? 'none' : 'client_secret');
}

/**
 * Problems with the JWT client-authentication settings of configured clients (RFC 7523, OIDC Core §9,
 * RFC 7591 §2), one message per field (STYLE.md 6).
 */
export function clientAuthProblems(cfg: RawConfig, production: boolean): string[] {
  const out: string[] = [];
  cfg.clients.forEach((c, i) => {
    const at = `clients.${i} (${c.id})`;
    const type = c.type ?? 'confidential';
    const method = configuredMethod(c);
    if (type === 'public' && method !== 'none') out.push(`${at}.tokenEndpointAuthMethod: a public client uses none`);
    if (type === 'confidential' && method === 'none') out.push(`${at}.tokenEndpointAuthMethod: a confidential client must authenticate`);
    if (method === 'private_key_jwt') {
      if (!c.jwks === !c.jwksUri) out.push(`${at}: private_key_jwt needs exactly one of jwks or jwksUri`);
      for (const f of ['secret', 'secretHash', 'secretEncrypted'] as const) if (c[f] !== undefined) out.push(`${at}.${f}: a private_key_jwt client has no secret`);
    } else {
      if (c.jwks) out.push(`${at}.jwks: only for tokenEndpointAuthMethod private_key_jwt`);
      if (c.jwksUri) out.push(`${at}.jwksUri: only for tokenEndpointAuthMethod private_key_jwt`);
    }
    (c.jwks?.keys ?? []).forEach((k, j) => {
      const key = k as Record<string, unknown>;
      if (!['RSA', 'EC', 'OKP'].includes(String(key.kty))) out.push(`${at}.jwks.keys.${j}.kty: RSA, EC or OKP public keys only`);
      const priv = PRIVATE_MEMBERS.filter((m) => m in key);
      if (priv.length) out.push(`${at}.jwks.keys.${j}: contains private key material (${priv.join(', ')}); give the public key only`);
    });
    if (c.jwksUri && !jwksUriAllowed(c.jwksUri, production)) {
      out.push(`${at}.jwksUri: must be an https URL${production ? '' : ' (http only on 127.0.0.1 or localhost, outside production)'}`);
    }
    if (method === 'client_secret_jwt') {
      if (c.secretHash) out.push(`${at}.secretHash: client_secret_jwt needs the secret itself (secret, or secretEncrypted in production)`);
      if (!c.secret && !c.secretEncrypted) out.push(`${at}: client_secret_jwt needs secret or secretEncrypted`);
      if (c.secret && c.secretEncrypted) out.push(`${at}: give either secret or secretEncrypted, not both`);
      if (c.secret && c.secret.length < MIN_JWT_SECRET) out.push(`${at}.secret: client_secret_jwt needs at least ${MIN_JWT_SECRET} characters (HS256, RFC 7518 §3.2)`);
    } else if (c.secretEncrypted) {
      out.push(`${at}.secretEncrypted: only for tokenEndpointAuthMethod client_secret_jwt`);
    }
    const alg = c.tokenEndpointAuthSigningAlg;
    if (alg !== undefined) {
      if (method === 'client_secret_jwt' && alg !== 'HS256') out.push(`${at}.tokenEndpointAuthSigningAlg: client_secret_jwt uses HS256`);
      else if (method === 'private_key_jwt' && alg === 'HS256') out.push(`${at}.tokenEndpointAuthSigningAlg: private_key_jwt uses RS256, PS256, ES256, EdDSA or Ed25519`);
      else if (method !== 'client_secret_jwt' && method !== 'private_key_jwt') out.push(`${at}.tokenEndpointAuthSigningAlg: only for private_key_jwt or client_secret_jwt`);
    }
  });
  return out;
}

/** The parts of a client the FAPI 2.0 checks look at, from the config file or from storage. */
export interface ProfileClient {
  type: 'confidential' | 'public';
  method: string;
  secretFields: string[];
  grants: string[];
  requirePar: boolean | undefined;
  dpopBound: boolean | undefined;
  signingAlg: string | undefined;
}

/** FAPI 2.0 Security Profile §5.4.1: PS256, ES256 or EdDSA with Ed25519 (RFC 9864: Ed25519); RS256 is not allowed. */
export const FAPI2_ALGS = ['PS256', 'ES256', 'EdDSA', 'Ed25519'] as const;

/**
 * FAPI 2.0 Security Profile (final) §5.3.2 for one client: confidential, `private_key_jwt` only (§5.3.2.1;
 * mTLS is not offered), no client secret, no password grant, PAR (§5.3.2.2), DPoP-bound tokens (§5.3.2.1
 * sender-constrained), an allowed assertion algorithm (§5.4.1).
 */
export function fapi2ClientProblems(c: ProfileClient, at: string): string[] {
  const out: string[] = [];
  if (c.type !== 'confidential') out.push(`${at}.type: profile fapi2 allows confidential clients only`);
  if (c.method !== 'private_key_jwt') out.push(`${at}.tokenEndpointAuthMethod: profile fapi2 requires private_key_jwt (is ${c.method})`);
  for (const f of c.secretFields) out.push(`${at}.${f}: profile fapi2 forbids client secrets`);
  if (c.grants.includes('password')) out.push(`${at}.grants: profile fapi2 forbids the password grant`);
  if (c.requirePar === false) out.push(`${at}.requirePushedAuthorizationRequests: profile fapi2 requires pushed authorization requests`);
  if (c.dpopBound === false) out.push(`${at}.dpopBoundAccessTokens: profile fapi2 requires DPoP-bound access tokens`);
  if (c.signingAlg !== undefined && !(FAPI2_ALGS as readonly string[]).includes(c.signingAlg)) {
    out.push(`${at}.tokenEndpointAuthSigningAlg: profile fapi2 allows ${FAPI2_ALGS.join(', ')}`);
  }
  return out;
}

/** Server-wide and per-client problems under `profile: fapi2`; none for other profiles. */
export function fapi2Problems(cfg: RawConfig, seconds: Seconds): string[] {
  if (cfg.profile !== 'fapi2') return [];
  const out: string[] = [];
  if (cfg.requirePushedAuthorizationRequests === false) out.push('requirePushedAuthorizationRequests: profile fapi2 requires pushed authorization requests');
  // §5.3.2.1: authorization codes live at most 60 seconds.
  if (cfg.tokens.codeTtl !== undefined && seconds(cfg.tokens.codeTtl) > 60) out.push('tokens.codeTtl: profile fapi2 allows at most 60 seconds');
  if (!(FAPI2_ALGS as readonly string[]).includes(cfg.keys.algorithm)) out.push('keys.algorithm: profile fapi2 allows ES256 or EdDSA (RS256 is not allowed)');
  if (cfg.clientAuth?.acceptTokenEndpointAudience) out.push('clientAuth.acceptTokenEndpointAudience: profile fapi2 accepts the issuer as the only assertion audience');
  cfg.clients.forEach((c, i) => {
    const method = configuredMethod(c);
    out.push(...fapi2ClientProblems({
      type: c.type ?? 'confidential',
      method: method === 'client_secret' ? 'client_secret_basic' : method,
      secretFields: (['secret', 'secretHash', 'secretEncrypted'] as const).filter((f) => c[f] !== undefined),
      grants: c.grants,
      requirePar: c.requirePushedAuthorizationRequests,
      dpopBound: c.dpopBoundAccessTokens,
      signingAlg: c.tokenEndpointAuthSigningAlg,
    }, `clients.${i} (${c.id})`));
  });
  return out;
}

/** What the preset turns on: PAR everywhere and DPoP-bound tokens for every configured client. */
export function applyProfile<T extends { profile?: 'fapi2' | undefined; requirePushedAuthorizationRequests?: boolean | undefined; clients: ClientConfig[] }>(cfg: T): T {
  if (cfg.profile !== 'fapi2') return cfg;
  return { ...cfg, requirePushedAuthorizationRequests: true, clients: cfg.clients.map((c) => ({ ...c, dpopBoundAccessTokens: c.dpopBoundAccessTokens ?? true })) };
}

/**
 * Under `profile: fapi2`, clients created with the CLI (stored, not in the config file) must meet the
 * same rules; config clients were checked when the file was loaded.
 */
export function storedClientProfileProblems(config: Config, clients: Client[]): string[] {
  if (config.profile !== 'fapi2') return [];
  return clients.filter((c) => c.source !== 'config').flatMap((c) => fapi2ClientProblems({
    type: c.type,
    method: c.tokenEndpointAuthMethod ?? (c.type === 'public' ? 'none' : 'client_secret_basic'),
    secretFields: [...(c.secretHash ? ['secret'] : []), ...(c.secretEnc ? ['secretEncrypted'] : [])],
    grants: c.grantTypes,
    requirePar: c.requirePushedAuthorizationRequests,
    dpopBound: (c as Client & { dpopBoundAccessTokens?: boolean }).dpopBoundAccessTokens ?? false,
    signingAlg: c.tokenEndpointAuthSigningAlg,
  }, `stored client ${c.id} (created with the CLI)`));
}
