import type { Ctx } from '../lib/context.ts';
import { ALGS } from '../lib/fixtures.ts';
import { fmtRate, spread } from '../lib/stats.ts';
import type { CryptoRates } from '../servers/limit.ts';

/** Raw node:crypto sign and verify rates per algorithm, in one process (the limit's first half). */
export async function cryptoLimit(ctx: Ctx): Promise<void> {
  const ms = ctx.mode === 'full' ? 1000 : 500;
  const p = await ctx.start('crypto-limit', 'limit', {});
  try {
    for (const alg of ALGS) {
      const runs: CryptoRates[] = [];
      for (let i = 0; i < ctx.plan.runs; i++) runs.push(await p.ask<CryptoRates>({ type: 'measure', alg, ms }));
      const l = {
        signSync: spread(runs.map((r) => r.signSync)),
        signPool: spread(runs.map((r) => r.signPool)),
        verifySync: spread(runs.map((r) => r.verifySync)),
      };
      ctx.results.limit[alg] = l;
      ctx.log(`    ${alg}: sign ${fmtRate(l.signSync.median)}/s (one thread), ${fmtRate(l.signPool.median)}/s (thread pool); verify ${fmtRate(l.verifySync.median)}/s`);
    }
  } finally {
    await p.stop();
  }
}
