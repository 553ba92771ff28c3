import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ctx } from '../lib/context.ts';
import { AUDIENCE, FORM, RS, SVC, basic } from '../lib/fixtures.ts';
import type { ServerProcess } from '../lib/proc.ts';
import { spread } from '../lib/stats.ts';
import { probeClientCredentials } from '../lib/tokens.ts';

interface Setup {
  key: 'Same' | 'Poll' | 'Redis';
  label: string;
  twoInstances: boolean;
  redis: boolean;
}

const SETUPS: Setup[] = [
  { key: 'Same', label: 'one instance: revoke and feed on the same AS', twoInstances: false, redis: false },
  { key: 'Poll', label: 'two instances, no Redis: revoke at A, feed from B (B polls the database)', twoInstances: true, redis: false },
  { key: 'Redis', label: 'two instances with Redis: revoke at A, feed from B', twoInstances: true, redis: true },
];

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Revocation fan-out: POST /revoke for a token the resource server (Fastify + Tessera plugin,
 * subscribed to the revocation feed) has just accepted, then GET the protected route until it
 * answers 401. Latency = revoke sent → first 401, sampled at random phases of the AS's poll cycle.
 */
export async function revocationFanout(ctx: Ctx): Promise<void> {
  const samples = ctx.mode === 'full' ? 100 : 20;
  const table: string[][] = [];
  const derived: Record<string, number> = { samples };
  const notes: string[] = [];
  for (const s of SETUPS) {
    if (s.redis && !hasRedis()) {
      notes.push(`${s.label}: skipped (redis-server not installed).`);
      continue;
    }
    const started: ServerProcess[] = [];
    const start = async (name: string, kind: string, args: Record<string, unknown>) => {
      const p = await ctx.start(name, kind, args);
      started.push(p);
      return p;
    };
    try {
      const redisUrl = s.redis ? (await start('redis', 'redis', {})).url : undefined;
      const a = await start(`tessera-A-${s.key}`, 'tessera', { alg: 'RS256', redisUrl });
      const b = s.twoInstances ? await start(`tessera-B-${s.key}`, 'tessera', { alg: 'RS256', redisUrl, dataDir: a.info.dataDir, issuer: a.url }) : a;
      const rs = await start(`rs-feed-${s.key}`, 'rs', {
        variant: 'fastify-tessera', issuer: a.url, audience: AUDIENCE, alg: 'RS256',
        feed: { url: `${b.url}/revocations`, clientId: RS.id, clientSecret: RS.secret },
      });
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const token = await probeClientCredentials(a.url, 'RS256');
        const get = () => fetch(`${rs.url}/orders`, { headers: { authorization: `Bearer ${token}` } }).then((r) => (void r.body?.cancel(), r.status));
        if ((await get()) !== 200) throw new Error('the resource server refused a fresh token');
        await sleep(Math.random() * 250);
        const t0 = performance.now();
        const res = await fetch(`${a.url}/revoke`, { method: 'POST', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: new URLSearchParams({ token }) });
        if (res.status !== 200) throw new Error(`revoke answered ${res.status}`);
        let status = 200;
        while (status === 200 && performance.now() - t0 < 10_000) status = await get();
        if (status !== 401) throw new Error(`the resource server answered ${status} instead of 401 within 10 s`);
        ms.push(performance.now() - t0);
      }
      const sorted = [...ms].sort((x, y) => x - y);
      const sp = spread(ms);
      derived[`p50${s.key}Ms`] = pct(sorted, 50);
      derived[`p99${s.key}Ms`] = pct(sorted, 99);
      table.push([s.label, String(samples), pct(sorted, 50).toFixed(1), pct(sorted, 99).toFixed(1), sp.max.toFixed(1)]);
      ctx.log(`    ${s.label}: p50 ${pct(sorted, 50).toFixed(1)} ms, p99 ${pct(sorted, 99).toFixed(1)} ms`);
    } finally {
      await Promise.all(started.reverse().map((p) => p.stop()));
    }
  }
  ctx.results.scenarios.push({
    id: 'revocation-fanout',
    title: 'Revocation fan-out (revoke → resource server refuses)',
    rows: [],
    derived,
    table: { header: ['setup', 'samples', 'p50 ms', 'p99 ms', 'max ms'], rows: table },
    notes: [
      'Resource server: Fastify + Tessera plugin with `revocation: { feed }` as client `orders-api` (introspect permission). Two instances share one SQLite file and one issuer.',
      `With ${samples} samples p99 is the largest but one (or the largest); --full takes 100.`,
      ...notes,
    ],
  });
}
