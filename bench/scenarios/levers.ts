import type { Ctx } from '../lib/context.ts';
import { contest } from '../lib/contest.ts';
import { CC_BODY, FORM, SVC, basic } from '../lib/fixtures.ts';
import type { ServerProcess } from '../lib/proc.ts';
import { cloneRefreshTokens, realRefreshToken } from '../lib/tokens.ts';
import { poolSize, refreshSpec } from './grants.ts';

/**
 * Experiment (only with --only=levers): Tessera as committed vs Tessera with a proposed lever applied
 * in the bench process (servers/levers.ts), same run, alternating: refresh rotation and client credentials.
 */
export async function levers(ctx: Ctx, list: string[]): Promise<void> {
  const base = await ctx.start('tessera-baseline', 'tessera', { alg: 'RS256', refresh: true });
  const tuned = await ctx.start(`tessera-${list.join('+')}`, 'tessera', { alg: 'RS256', refresh: true, levers: list });
  try {
    const pool = async (s: ServerProcess) => {
      const dir = String(s.info.dataDir);
      return cloneRefreshTokens(dir, await realRefreshToken(s.url, dir), poolSize(ctx, 3000), true);
    };
    const cc = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };
    const rows = await contest([
      { name: 'refresh rotation, as committed', server: base, spec: refreshSpec(await pool(base)) },
      { name: `refresh rotation, with ${list.join(' + ')}`, server: tuned, spec: refreshSpec(await pool(tuned)) },
      { name: 'client credentials, as committed', server: base, spec: cc },
      { name: `client credentials, with ${list.join(' + ')}`, server: tuned, spec: cc },
    ], ctx.plan, ctx.log);
    const r = (i: number) => rows[i]!.rate.median;
    ctx.results.scenarios.push({
      id: 'levers',
      title: `Lever experiment: ${list.join(' + ')} (RS256, SQLite)`,
      rows,
      derived: { refreshGain: r(1) / r(0), ccGain: r(3) / r(2) },
      notes: ['The lever is applied inside the bench child process only (servers/levers.ts); packages/ is unchanged.'],
    });
  } finally {
    await Promise.all([base.stop(), tuned.stop()]);
  }
}
