import type { Config, RawConfig } from './schema.js';
import { redirectUriProblem } from './validate-uri.js';

/** Durations as load.ts parses them ('15m' → 900); passed in to avoid an import cycle. */
type Seconds = (v: number | string) => number;

const MAX_CODE_TTL = 600;

/**
 * Settings for the user-facing flow (users, sessions, login throttling, codes, ID tokens) with their
 * secure defaults, in seconds.
 */
export function authSettings(cfg: RawConfig, seconds: Seconds): Pick<Config, 'users' | 'sessions' | 'login'> & { codeTtl: number; idTokenTtl: number } {
  const maxTtl = seconds(cfg.tokens.maxAccessTokenTtl);
  return {
    users: cfg.users ?? [],
    sessions: { ttl: seconds(cfg.sessions?.ttl ?? '12h'), idleTtl: seconds(cfg.sessions?.idleTtl ?? '1h') },
    login: {
      maxFailuresPerAccount: cfg.login?.maxFailuresPerAccount ?? 5,
      maxFailuresPerIp: cfg.login?.maxFailuresPerIp ?? 50,
      window: seconds(cfg.login?.window ?? '15m'),
      // README "Throttling model": twice one source's budget before strangers to the account are slowed.
      slowDownAfter: cfg.login?.slowDownAfter ?? 10,
      maxDelay: seconds(cfg.login?.maxDelay ?? '2s'),
      deviceCookieTtl: seconds(cfg.login?.deviceCookieTtl ?? '30d'),
    },
    // RFC 6749 §4.1.2 / SECURITY-CHECKLIST B8: single use, ≤10 min, 60 s by default.
    codeTtl: seconds(cfg.tokens.codeTtl ?? 60),
    idTokenTtl: seconds(cfg.tokens.idTokenTtl ?? Math.min(600, maxTtl)),
  };
}

/** Problems in the users / sessions / logout settings, one message each (STYLE.md 6). */
export function authProblems(cfg: RawConfig, production: boolean, seconds: Seconds): string[] {
  const out: string[] = [];
  const maxTtl = seconds(cfg.tokens.maxAccessTokenTtl);
  if (cfg.tokens.codeTtl !== undefined && seconds(cfg.tokens.codeTtl) > MAX_CODE_TTL) out.push('tokens.codeTtl: at most 10 minutes');
  if (cfg.tokens.idTokenTtl !== undefined && seconds(cfg.tokens.idTokenTtl) > maxTtl) out.push('tokens.idTokenTtl: exceeds tokens.maxAccessTokenTtl');
  if (cfg.sessions?.ttl !== undefined && cfg.sessions.idleTtl !== undefined && seconds(cfg.sessions.idleTtl) > seconds(cfg.sessions.ttl)) {
    out.push('sessions.idleTtl: exceeds sessions.ttl');
  }
  if (cfg.login?.maxDelay !== undefined && seconds(cfg.login.maxDelay) > 30) out.push('login.maxDelay: at most 30 seconds');
  // Browsers keep a cookie at most 400 days (RFC 6265bis §5.5).
  if (cfg.login?.deviceCookieTtl !== undefined && seconds(cfg.login.deviceCookieTtl) > 400 * 86400) out.push('login.deviceCookieTtl: at most 400 days');

  cfg.clients.forEach((c, i) => {
    (c.postLogoutRedirectUris ?? []).forEach((u, j) => {
      const p = redirectUriProblem(u);
      if (p) out.push(`clients.${i} (${c.id}).postLogoutRedirectUris.${j}: ${p}`);
    });
  });

  const names = new Set<string>();
  const emails = new Set<string>();
  (cfg.users ?? []).forEach((u, i) => {
    const at = `users.${i} (${u.username})`;
    const name = normalizeUsername(u.username);
    if (!USERNAME.test(name)) out.push(`${at}.username: letters, digits and . _ - @ only`);
    if (names.has(name)) out.push(`${at}.username: duplicate username`);
    names.add(name);
    if (u.email) {
      const email = u.email.toLowerCase();
      if (emails.has(email)) out.push(`${at}.email: duplicate e-mail address`);
      emails.add(email);
    }
    if (!u.password && !u.passwordHash) out.push(`${at}: needs password or passwordHash`);
    if (u.password && u.passwordHash) out.push(`${at}: give either password or passwordHash, not both`);
    if (production && u.password) out.push(`${at}.password: plain passwords are not allowed in production; use passwordHash`);
  });
  return out;
}

const USERNAME = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** Usernames compare case-insensitively after Unicode NFKC normalisation. */
export function normalizeUsername(name: string): string {
  return name.normalize('NFKC').toLowerCase().trim();
}

export function isValidUsername(name: string): boolean {
  return USERNAME.test(normalizeUsername(name));
}
