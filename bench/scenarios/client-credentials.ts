import type { Ctx } from '../lib/context.ts';
import { contest } from '../lib/contest.ts';
import { CC_BODY, FORM, SVC, basic, type Alg } from '../lib/fixtures.ts';
import { probeClientCredentials } from '../lib/tokens.ts';
import { spread } from '../lib/stats.ts';
import type { CryptoRates } from '../servers/limit.ts';

const request = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };

/**
 * Client credentials, one algorithm: Tessera vs node-oidc-provider vs the bare Fastify token route,
 * alternating. The limit is 1 / (1/sign_rate + 1/bare_rate), with sign_rate the one-process (thread
 * pool) node:crypto rate measured in a separate process once per round, inside the same time window.
 */
export async function clientCredentials(ctx: Ctx, alg: Alg): Promise<void> {
  const id = `cc-${alg}`;
  const tessera = await ctx.start(`tessera-${alg}`, 'tessera', { alg });
  const peer = await ctx.start(`oidc-provider-${alg}`, 'oidc-provider', { alg });
  const bare = await ctx.start(`bare-fastify-token-${alg}`, 'bare-token', {});
  const crypto = await ctx.start(`crypto-${alg}`, 'limit', {});
  const rates: CryptoRates[] = [];
  const measure = async () => void rates.push(await crypto.ask<CryptoRates>({ type: 'measure', alg, ms: (ctx.plan.seconds * 1000) / 3 }));
  try {
    const sample = await probeClientCredentials(tessera.url, alg);
    await probeClientCredentials(peer.url, alg);
    const rows = await contest([
      { name: 'Tessera', server: tessera, spec: request },
      { name: 'node-oidc-provider', server: peer, spec: request },
      { name: 'bare Fastify route (ceiling)', server: bare, spec: request },
    ], ctx.plan, ctx.log, measure);
    const [t, o, b] = rows.map((r) => r.rate.median) as [number, number, number];
    const limit = (sign: number) => 1 / (1 / sign + 1 / b);
    const signPool = spread(rates.map((r) => r.signPool)).median;
    const signSync = spread(rates.map((r) => r.signSync)).median;
    const derived: Record<string, number> = {
      tessera: t, oidcProvider: o, bare: b, vsOidcProvider: t / o,
      signPool, signOneThread: signSync, limitPool: limit(signPool), limitOneThread: limit(signSync),
    };
    derived.fractionOfLimit = t / derived.limitPool!;
    derived.fractionOfOneThreadLimit = t / derived.limitOneThread!;
    ctx.results.scenarios.push({
      id,
      title: `Client credentials, ${alg}`,
      rows,
      derived,
      notes: [
        `Access token size ${sample.length} bytes (Tessera).`,
        `Limit: node:crypto ${alg} sign rate measured once per round right after the contestants (thread pool ${Math.round(signPool)}/s, one thread ${Math.round(signSync)}/s), combined with the bare route's median.`,
      ],
    });
  } finally {
    await Promise.all([tessera.stop(), peer.stop(), bare.stop(), crypto.stop()]);
  }
}
