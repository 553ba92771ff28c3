import type { Results } from './context.ts';

export interface TargetCheck {
  target: string;
  goal: number;
  /** Measured ratio or value; undefined when the scenario did not run. */
  measured: number | undefined;
  /** 'ratio' (higher is better) or 'max' (measured must stay at or below goal). */
  kind: 'ratio' | 'max';
  unit: string;
  status: 'met' | 'missed' | 'pending';
  /** For a miss: how far off, in words (e.g. "short by 23 %"). */
  gap: string;
  pendingWhy?: string;
}

function derived(r: Results, id: string, key: string): number | undefined {
  const v = r.scenarios.find((s) => s.id === id && !s.skipped)?.derived[key];
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

/** The targets of issues 7 and 5, evaluated against this run. */
export function checkTargets(r: Results, mode: string): TargetCheck[] {
  const rssSeconds = derived(r, 'rss-after-load', 'seconds');
  const rows = derived(r, 'stored-rows', 'rows');
  const list: Omit<TargetCheck, 'status' | 'gap'>[] = [
    { target: 'Client credentials RS256 vs the limit 1/(1/sign + 1/bare)', goal: 0.85, measured: derived(r, 'cc-RS256', 'fractionOfLimit'), kind: 'ratio', unit: '×' },
    { target: 'Client credentials RS256 vs node-oidc-provider', goal: 1.3, measured: derived(r, 'cc-RS256', 'vsOidcProvider'), kind: 'ratio', unit: '×' },
    { target: 'Client credentials ES256 vs node-oidc-provider', goal: 2, measured: derived(r, 'cc-ES256', 'vsOidcProvider'), kind: 'ratio', unit: '×' },
    { target: 'Protected route, Fastify plugin vs bare route (repeated token)', goal: 0.8, measured: derived(r, 'rs-repeated', 'fastifyVsBare'), kind: 'ratio', unit: '×' },
    { target: 'Protected route, Express adapter vs express-oauth2-jwt-bearer (repeated token)', goal: 1.5, measured: derived(r, 'rs-repeated', 'expressVsAuth0'), kind: 'ratio', unit: '×' },
    { target: 'Refresh rotation vs client credentials (RS256, SQLite)', goal: 0.6, measured: derived(r, 'grants', 'refreshVsCc'), kind: 'ratio', unit: '×', pendingWhy: 'refresh_token grant not implemented yet (issue 4)' },
    { target: 'Revocation fan-out p99, feed without Redis (revoke at instance A, resource server on instance B)', goal: 1000, measured: derived(r, 'revocation-fanout', 'p99PollMs'), kind: 'max', unit: ' ms' },
    { target: 'Revocation fan-out p99 with Redis (revoke at A, resource server on B)', goal: 100, measured: derived(r, 'revocation-fanout', 'p99RedisMs'), kind: 'max', unit: ' ms', pendingWhy: 'redis-server not available' },
    { target: 'DPoP issuance vs bearer issuance (client credentials, RS256)', goal: 0.7, measured: derived(r, 'dpop-cc-RS256', 'dpopVsBearer'), kind: 'ratio', unit: '×' },
    { target: 'DPoP-protected route vs bearer route, Fastify plugin (repeated token, new proof each request)', goal: 0.6, measured: derived(r, 'dpop-route', 'fastifyDpopVsBearer'), kind: 'ratio', unit: '×' },
    {
      target: `RSS after ${rssSeconds ?? 30} s of load${mode === 'quick' ? ' (quick: 30 s only in --full)' : ''}`,
      goal: 150, measured: derived(r, 'rss-after-load', 'tesseraRssAfter'), kind: 'max', unit: ' MiB',
    },
    {
      target: `Refresh rotation with ${rows?.toLocaleString('en') ?? '1,000,000'} stored refresh tokens vs empty${mode === 'quick' ? ' (quick: 1M only in --full)' : ''}`,
      goal: 0.9, measured: derived(r, 'stored-rows', 'refreshLoadedVsEmpty'), kind: 'ratio', unit: '×',
    },
  ];
  return list.map((t) => {
    if (t.measured === undefined) return { ...t, status: 'pending', gap: t.pendingWhy ?? 'scenario not run' };
    const met = t.kind === 'ratio' ? t.measured >= t.goal : t.measured <= t.goal;
    const off = t.kind === 'ratio' ? (1 - t.measured / t.goal) * 100 : (t.measured / t.goal - 1) * 100;
    return { ...t, status: met ? 'met' : 'missed', gap: met ? '' : `${t.kind === 'ratio' ? 'short' : 'over'} by ${off.toFixed(0)} %` };
  });
}
