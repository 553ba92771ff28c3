import { accessSync, constants, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, DEFAULTS, type Config, type RawConfig } from './schema.js';
import { isLoopbackHost, originProblem, redirectUriProblem, resourceUriProblem } from './validate-uri.js';
import { authProblems, authSettings } from './auth-settings.js';
import { schemaProblem } from './messages.js';
import { parseDatabaseUrl } from '../storage/database-url.js';
import { applyProfile, clientAuthProblems, fapi2Problems } from './client-auth-settings.js';
import { deviceProblems } from '../engine/device/settings.js';

export const KNOWN_GRANTS = ['client_credentials', 'authorization_code', 'refresh_token', 'password', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
/** User subjects start with this prefix; client ids may not (SECURITY-CHECKLIST C11). */
export const USER_SUB_PREFIX = 'usr_';

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`Invalid configuration (${source}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Config file (JSON or YAML); defaults to $TESSERA_CONFIG. */
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Applied last, e.g. by tests. */
  overrides?: Partial<RawConfig>;
}

/**
 * Loads, interpolates (`${VAR}` from the environment), merges with defaults, applies the env overrides
 * `PORT`, `HOST`, `TESSERA_ISSUER`, `DATABASE_URL`, `REDIS_URL`, `LOG_LEVEL`, `TESSERA_DATA_DIR`, and
 * validates. Every problem is collected into one `ConfigError`.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.TESSERA_CONFIG;
  const source = file ? resolve(file) : 'defaults';
  const problems: string[] = [];

  let fromFile: Record<string, unknown> = {};
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(source, [`cannot read file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
    }
    try {
      const parsed: unknown = parseYaml(text);
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('top level must be a mapping');
        fromFile = interpolate(parsed, env, '', problems) as Record<string, unknown>;
      }
    } catch (e) {
      throw new ConfigError(source, [`cannot parse: ${(e as Error).message.split('\n')[0]}`]);
    }
  }

  const merged = deepMerge(structuredClone(DEFAULTS) as unknown as Record<string, unknown>, fromFile);
  const envOverrides: Record<string, unknown> = {};
  if (env.PORT !== undefined) envOverrides.port = /^\d+$/.test(env.PORT) ? Number(env.PORT) : env.PORT;
  if (env.HOST) envOverrides.host = env.HOST;
  if (env.MANAGEMENT_PORT !== undefined) envOverrides.management = { port: /^\d+$/.test(env.MANAGEMENT_PORT) ? Number(env.MANAGEMENT_PORT) : env.MANAGEMENT_PORT };
  if (env.TESSERA_ISSUER) envOverrides.issuer = env.TESSERA_ISSUER;
  if (env.TESSERA_DATA_DIR) envOverrides.dataDir = env.TESSERA_DATA_DIR;
  if (env.DATABASE_URL) envOverrides.databaseUrl = env.DATABASE_URL;
  if (env.REDIS_URL) envOverrides.redisUrl = env.REDIS_URL;
  if (env.LOG_LEVEL) envOverrides.logLevel = env.LOG_LEVEL;
  const raw = deepMerge(deepMerge(merged, envOverrides), (options.overrides ?? {}) as Record<string, unknown>);

  for (const e of Value.Errors(ConfigSchema, raw)) problems.push(schemaProblem(e));
  const cfg = raw as unknown as RawConfig;
  const production = env.NODE_ENV === 'production';
  try {
    problems.push(...semanticProblems(cfg, production), ...authProblems(cfg, production, seconds));
    problems.push(...clientAuthProblems(cfg, production), ...fapi2Problems(cfg, seconds));
    problems.push(...deviceProblems(cfg, seconds));
  } catch {
    // The structure is too broken for the deeper checks; the schema problems above say why.
  }
  problems.push(...databaseUrlProblems(cfg.databaseUrl));
  if (problems.length) throw new ConfigError(source, dedupe(problems));

  const { codeTtl, idTokenTtl, ...auth } = authSettings(cfg, seconds);
  return {
    ...applyProfile(cfg),
    ...auth,
    refreshTokens: {
      idleTtl: seconds(cfg.refreshTokens?.idleTtl ?? '14d'),
      absoluteTtl: seconds(cfg.refreshTokens?.absoluteTtl ?? '90d'),
      // The retry window for a just-rotated token (several tabs, a lost response): README "Refresh-token retry window".
      graceSeconds: cfg.refreshTokens?.graceSeconds ?? 10,
    },
    clientAuth: {
      maxFailuresPerClient: cfg.clientAuth?.maxFailuresPerClient ?? 20,
      maxFailuresPerIp: cfg.clientAuth?.maxFailuresPerIp ?? 100,
      maxUnknownIntrospections: cfg.clientAuth?.maxUnknownIntrospections ?? 1000,
      window: seconds(cfg.clientAuth?.window ?? '5m'),
      acceptTokenEndpointAudience: cfg.clientAuth?.acceptTokenEndpointAudience ?? false,
    },
    registration: {
      enabled: cfg.registration?.enabled ?? false,
      open: cfg.registration?.open ?? false,
      grantTypes: cfg.registration?.grantTypes ?? ['authorization_code', 'refresh_token'],
      authMethods: cfg.registration?.authMethods ?? ['none', 'client_secret_basic', 'client_secret_post'],
      scopes: cfg.registration?.scopes ?? ['openid', 'profile', 'email', 'offline_access'],
      resources: cfg.registration?.resources ?? [],
      maxClientsPerIpPerHour: cfg.registration?.maxClientsPerIpPerHour ?? 10,
    },
    management: cfg.management === false ? false : { port: cfg.management?.port ?? 9464, host: cfg.management?.host ?? '127.0.0.1' },
    audit: { retention: seconds(cfg.audit?.retention ?? '90d') },
    webhooks: {
      timeout: seconds(cfg.webhooks?.timeout ?? '10s'),
      retryBase: seconds(cfg.webhooks?.retryBase ?? '10s'),
      maxBackoff: seconds(cfg.webhooks?.maxBackoff ?? '1h'),
      maxAttempts: cfg.webhooks?.maxAttempts ?? 12,
    },
    production,
    source,
    databaseUrl: cfg.databaseUrl ?? `sqlite:${resolve(cfg.dataDir, 'tessera.db')}`,
    tokens: { accessTokenTtl: seconds(cfg.tokens.accessTokenTtl), maxAccessTokenTtl: seconds(cfg.tokens.maxAccessTokenTtl), codeTtl, idTokenTtl },
    keys: {
      algorithm: cfg.keys.algorithm,
      rotateEvery: cfg.keys.rotateEvery === undefined ? undefined : seconds(cfg.keys.rotateEvery),
      reloadEvery: seconds(cfg.keys.reloadEvery),
    },
  };
}

/** An unknown scheme stops the start (issue 12 item 4) instead of becoming an SQLite file path. */
function databaseUrlProblems(url: unknown): string[] {
  if (typeof url !== 'string' || url === '') return [];
  try {
    parseDatabaseUrl(url);
    return [];
  } catch (e) {
    return [`databaseUrl (DATABASE_URL): ${(e as Error).message}`];
  }
}

function semanticProblems(cfg: RawConfig, production: boolean): string[] {
  const out: string[] = [];
  if (cfg.registration?.enabled && cfg.profile === 'fapi2') out.push('registration.enabled: not available under profile fapi2 (its clients must use private_key_jwt)');
  for (const r of cfg.registration?.resources ?? []) {
    const p = typeof r === 'string' ? resourceUriProblem(r) : 'is not a string';
    if (p) out.push(`registration.resources: ${r} ${p}`);
  }
  let issuer: URL | undefined;
  try {
    issuer = new URL(cfg.issuer);
  } catch {
    out.push('issuer: must be an absolute URL');
  }
  if (issuer) {
    // RFC 8414 §2: https, no query, no fragment.
    if (issuer.search || cfg.issuer.includes('#')) out.push('issuer: must not contain a query or fragment');
    if (cfg.issuer.endsWith('/')) out.push('issuer: must not end with a slash');
    const local = issuer.hostname === 'localhost' || isLoopbackHost(issuer.hostname);
    if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && local)) {
      out.push('issuer: must use https (http is allowed only for localhost)');
    }
    if (production && issuer.protocol !== 'https:' && !local) out.push('issuer: production requires https');
  }
  for (const field of ['cert', 'key'] as const) {
    const file = cfg.tls?.[field];
    if (typeof file !== 'string' || !file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch (e) {
      out.push(`tls.${field}: cannot read ${resolve(file)} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const maxTtl = seconds(cfg.tokens.maxAccessTokenTtl);
  const rt = cfg.refreshTokens;
  if (rt?.idleTtl !== undefined && rt.absoluteTtl !== undefined && seconds(rt.idleTtl) > seconds(rt.absoluteTtl)) {
    out.push('refreshTokens.idleTtl: exceeds refreshTokens.absoluteTtl');
  }
  if (seconds(cfg.tokens.accessTokenTtl) > maxTtl) out.push('tokens.accessTokenTtl: exceeds tokens.maxAccessTokenTtl');
  if (maxTtl > 86400) out.push('tokens.maxAccessTokenTtl: at most 1 day');

  const registered = new Set<string>();
  (cfg.resourceServers ?? []).forEach((r, i) => {
    const p = resourceUriProblem(r.resource);
    if (p) out.push(`resourceServers.${i}.resource: ${r.resource} ${p}`);
    if (registered.has(r.resource)) out.push(`resourceServers.${i}.resource: ${r.resource} is registered twice`);
    registered.add(r.resource);
  });
  const cimd = cfg.clientIdMetadataDocuments;
  if (cimd?.allowLoopback && production) out.push('clientIdMetadataDocuments.allowLoopback: not allowed in production (documents on loopback addresses are for tests)');
  for (const r of cimd?.resources ?? []) {
    if (cfg.resourceServers ? !registered.has(r) : resourceUriProblem(r) !== undefined) out.push(`clientIdMetadataDocuments.resources: ${r} is not a registered resource`);
  }
  const seen = new Set<string>();
  cfg.clients.forEach((c, i) => {
    const at = `clients.${i} (${c.id})`;
    if (seen.has(c.id)) out.push(`${at}.id: duplicate client id`);
    seen.add(c.id);
    if (c.id.startsWith(USER_SUB_PREFIX)) out.push(`${at}.id: the prefix ${USER_SUB_PREFIX} is reserved for user subjects`);
    const type = c.type ?? 'confidential';
    for (const g of c.grants) {
      if (!(KNOWN_GRANTS as readonly string[]).includes(g)) out.push(`${at}.grants: unknown grant ${g}`);
    }
    if (type === 'public') {
      if (c.secret || c.secretHash) out.push(`${at}: a public client has no secret`);
      if (c.grants.includes('client_credentials')) out.push(`${at}.grants: client_credentials needs a confidential client`);
    } else {
      // JWT client authentication has its own rules (client-auth-settings.ts).
      const jwtAuth = c.tokenEndpointAuthMethod === 'private_key_jwt' || c.tokenEndpointAuthMethod === 'client_secret_jwt';
      if (!jwtAuth && !c.secret && !c.secretHash) out.push(`${at}: a confidential client needs secret or secretHash`);
      if (!jwtAuth && c.secret && c.secretHash) out.push(`${at}: give either secret or secretHash, not both`);
      if (production && c.secret) out.push(`${at}.secret: plain secrets are not allowed in production; use ${c.tokenEndpointAuthMethod === 'client_secret_jwt' ? 'secretEncrypted' : 'secretHash'}`);
    }
    (c.redirectUris ?? []).forEach((u, j) => {
      const p = redirectUriProblem(u);
      if (p) out.push(`${at}.redirectUris.${j}: ${p}`);
    });
    if (c.grants.includes('authorization_code') && !(c.redirectUris ?? []).length) {
      out.push(`${at}.redirectUris: authorization_code needs at least one redirect URI`);
    }
    for (const [field, list] of [['audience', c.audience ? [c.audience] : []], ['resources', c.resources ?? []]] as const) {
      for (const r of list) {
        const p = resourceUriProblem(r);
        if (p) out.push(`${at}.${field}: ${r} ${p}`);
      }
    }
    if (cfg.resourceServers) {
      for (const r of [...(c.audience ? [c.audience] : []), ...(c.resources ?? [])]) {
        if (!registered.has(r)) out.push(`${at}: resource ${r} is not registered in resourceServers`);
      }
    }
    if (c.accessTokenTtl !== undefined && seconds(c.accessTokenTtl) > maxTtl) {
      out.push(`${at}.accessTokenTtl: exceeds tokens.maxAccessTokenTtl`);
    }
    (c.allowedOrigins ?? []).forEach((o, j) => {
      const p = originProblem(o);
      if (p) out.push(`${at}.allowedOrigins.${j}: ${o} ${p}`);
    });
    const idAlg = c.idTokenSignedResponseAlg;
    if (idAlg !== undefined && idAlg !== 'RS256' && idAlg !== cfg.keys.algorithm) {
      out.push(`${at}.idTokenSignedResponseAlg: ${idAlg} needs keys.algorithm: ${idAlg} (ID tokens can be RS256${cfg.keys.algorithm === 'RS256' ? '' : ` or ${cfg.keys.algorithm}`})`);
    }
  });
  return out;
}

/** '15m' → 900. */
export function seconds(v: number | string): number {
  if (typeof v === 'number') return v;
  const n = Number(v.slice(0, -1));
  const unit = v.slice(-1);
  return n * ({ s: 1, m: 60, h: 3600, d: 86400 } as Record<string, number>)[unit]!;
}

function interpolate(v: unknown, env: NodeJS.ProcessEnv, path: string, problems: string[]): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{([A-Z0-9_]+)\}/g, (_m, name: string) => {
      const val = env[name];
      if (val === undefined) problems.push(`${path || '(root)'}: environment variable ${name} is not set`);
      return val ?? '';
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, path ? `${path}.${i}` : String(i), problems));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '__proto__' || k === 'constructor' || k === 'prototype') continue;
      out[k] = interpolate(x, env, path ? `${path}.${k}` : k, problems);
    }
    return out;
  }
  return v;
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)) {
      base[k] = deepMerge({ ...(b as Record<string, unknown>) }, v as Record<string, unknown>);
    } else {
      base[k] = v;
    }
  }
  return base;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
