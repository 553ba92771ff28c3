import type { Ctx } from '../lib/context.ts';
import { contest } from '../lib/contest.ts';
import { CC_BODY, FORM, SVC, basic } from '../lib/fixtures.ts';
import { probeClientCredentials } from '../lib/tokens.ts';

/** RSS after a sustained client-credentials load (30 s in --full), Tessera vs node-oidc-provider. */
export async function memoryAfterLoad(ctx: Ctx): Promise<void> {
  const seconds = ctx.mode === 'full' ? 30 : 2 * ctx.plan.seconds;
  const tessera = await ctx.start('tessera-soak', 'tessera', { alg: 'RS256' });
  const peer = await ctx.start('oidc-provider-soak', 'oidc-provider', { alg: 'RS256' });
  try {
    await probeClientCredentials(tessera.url, 'RS256');
    const spec = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };
    const rows = await contest([
      { name: 'Tessera', server: tessera, spec },
      { name: 'node-oidc-provider', server: peer, spec },
    ], { ...ctx.plan, warmupSeconds: 1, seconds, runs: 1 }, ctx.log);
    const after = { tessera: tessera.memory().rss, peer: peer.memory().rss };
    ctx.results.scenarios.push({
      id: 'rss-after-load',
      title: `RSS after ${seconds} s of client-credentials load (RS256)`,
      rows,
      derived: { seconds, tesseraRssAfter: after.tessera, oidcProviderRssAfter: after.peer, tesseraPeak: rows[0]!.peakRssMiB },
      notes: [`RSS read from /proc/<pid>/status right after the load: Tessera ${after.tessera.toFixed(0)} MiB, node-oidc-provider ${after.peer.toFixed(0)} MiB.`],
    });
  } finally {
    await Promise.all([tessera.stop(), peer.stop()]);
  }
}
