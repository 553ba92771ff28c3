import type { Ctx, ScenarioResult } from '../lib/context.ts';
import { contest, type Contestant } from '../lib/contest.ts';
import { CC_BODY, FORM, SVC, basic } from '../lib/fixtures.ts';
import type { ServerProcess } from '../lib/proc.ts';
import { cloneRefreshTokens, codeBody, codePool, discovery, probeClientCredentials, realRefreshToken, webAuth } from '../lib/tokens.ts';

const cc = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };

/** How many single-use items a contestant can consume: every second of warm-up and runs at `rate`. */
export function poolSize(ctx: Ctx, rate: number): number {
  return Math.ceil((ctx.plan.warmupSeconds + ctx.plan.runs * ctx.plan.seconds) * rate * 1.5) + 100;
}

/** Hands out pool items in order; once exhausted it repeats the last (the server refuses: flagged). */
function cursor<T>(pool: T[], body: (t: T) => string): () => { body: string } {
  let i = 0;
  return () => ({ body: body(pool[Math.min(i++, pool.length - 1)]!) });
}

/** The expected client-credentials rate of Tessera RS256, from this run when known. */
function ccRate(ctx: Ctx): number {
  return ctx.results.scenarios.find((s) => s.id === 'cc-RS256')?.derived.tessera ?? 4000;
}

/**
 * Tessera's database-backed grants (RS256), each against client credentials on the same server in
 * the same rounds: code exchange (always), refresh rotation and introspection when discovery lists them.
 */
export async function grants(ctx: Ctx): Promise<void> {
  const meta0 = await (async () => {
    const s = await ctx.start('tessera-discovery', 'tessera', { alg: 'RS256' });
    try {
      return await discovery(s.url);
    } finally {
      await s.stop();
    }
  })();
  const refresh = meta0.grant_types_supported?.includes('refresh_token') ?? false;
  const tessera = await ctx.start('tessera-grants', 'tessera', { alg: 'RS256', refresh });
  const dataDir = String(tessera.info.dataDir);
  try {
    await probeClientCredentials(tessera.url, 'RS256');
    const list: Contestant[] = [{ name: 'client credentials', server: tessera, spec: cc }];

    const codes = await codePool(tessera.url, dataDir, poolSize(ctx, ccRate(ctx)), 'openid orders:read');
    ctx.log(`    ${codes.length} authorization codes ready`);
    list.push({ name: 'code exchange (access + ID token)', server: tessera, spec: { method: 'POST', path: '/token', headers: { 'content-type': FORM, authorization: webAuth() }, next: cursor(codes, codeBody) } });

    const skipped: string[] = [];
    if (refresh) {
      const item = await refreshContestant(ctx, tessera, dataDir);
      if (typeof item === 'string') skipped.push(item);
      else list.push(item);
    } else {
      skipped.push('Refresh-token rotation: skipped — discovery does not list the refresh_token grant yet (issue 4 in progress).');
    }
    if (meta0.introspection_endpoint) {
      const item = await introspectionContestant(tessera);
      if (typeof item === 'string') skipped.push(item);
      else list.push(item);
    } else {
      skipped.push('Introspection: skipped — discovery has no introspection_endpoint yet (issue 4 in progress).');
    }

    const rows = await contest(list, ctx.plan, ctx.log);
    const rate = (name: string) => rows.find((r) => r.name.startsWith(name))?.rate.median ?? NaN;
    const derived: Record<string, number> = { clientCredentials: rate('client'), codeExchange: rate('code'), codeVsCc: rate('code') / rate('client') };
    if (refresh) Object.assign(derived, { refresh: rate('refresh'), refreshVsCc: rate('refresh') / rate('client') });
    if (meta0.introspection_endpoint) derived.introspection = rate('introspection');
    const result: ScenarioResult = {
      id: 'grants',
      title: 'Database-backed grants (Tessera, RS256, SQLite)',
      rows,
      derived,
      notes: [
        'Code exchange redeems a fresh code per request (scope `openid orders:read`): code lookup, PKCE check, conditional consume, user read, issued-token record, two RS256 signatures (access + ID token).',
        'Codes: one from the real browser flow, the rest clones of its stored row with fresh code and PKCE challenge (inserted before the timed runs). The web app may use refresh tokens, so each exchange also starts a refresh-token family.',
        'Refresh rotation presents an unused refresh token per request (lookup of token and family, user read, conditional rotate + insert in one transaction, issued-token record, one RS256 signature). Tokens: one from the real flow, the rest clones of its family and token rows.',
        'Introspection: the service client introspects its own RS256 access token (signature check, denylist and revoked-code lookups).',
        ...skipped,
      ],
    };
    ctx.results.scenarios.push(result);
  } finally {
    await tessera.stop();
  }
}

async function refreshContestant(ctx: Ctx, tessera: ServerProcess, dataDir: string): Promise<Contestant | string> {
  const template = await realRefreshToken(tessera.url, dataDir).catch((e: unknown) => e as Error);
  if (template instanceof Error) return `Refresh-token rotation: skipped — ${template.message}.`;
  const tokens = cloneRefreshTokens(dataDir, template, poolSize(ctx, ccRate(ctx)), true);
  ctx.log(`    ${tokens.length} refresh tokens ready`);
  return { name: 'refresh rotation', server: tessera, spec: refreshSpec(tokens) };
}

/** POST /token with grant_type=refresh_token, one unused token of the pool per request. */
export function refreshSpec(tokens: string[]): Contestant['spec'] {
  return {
    method: 'POST',
    path: '/token',
    headers: { 'content-type': FORM, authorization: webAuth() },
    next: cursor(tokens, (t) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: t }).toString()),
  };
}

async function introspectionContestant(tessera: ServerProcess): Promise<Contestant | string> {
  const token = await probeClientCredentials(tessera.url, 'RS256');
  const body = new URLSearchParams({ token }).toString();
  const headers = { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) };
  const res = await fetch(`${tessera.url}/introspect`, { method: 'POST', headers, body });
  const json = (await res.json().catch(() => ({}))) as { active?: boolean };
  if (res.status !== 200 || json.active !== true) return `Introspection: skipped — the probe answered ${res.status} (active=${String(json.active)}) for the service client.`;
  return { name: 'introspection (active JWT)', server: tessera, spec: { method: 'POST', path: '/introspect', headers, body } };
}
