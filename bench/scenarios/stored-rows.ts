import type { Ctx } from '../lib/context.ts';
import { contest } from '../lib/contest.ts';
import { CC_BODY, FORM, SVC, basic } from '../lib/fixtures.ts';
import type { ServerProcess } from '../lib/proc.ts';
import { cloneRefreshTokens, probeClientCredentials, realRefreshToken } from '../lib/tokens.ts';
import { poolSize, refreshSpec } from './grants.ts';

/**
 * Token issuance with 1 million stored refresh-token families (--full; 100 000 in --quick) vs an
 * empty database: refresh rotation (reads and writes those tables) and client credentials, alternating.
 */
export async function storedRows(ctx: Ctx): Promise<void> {
  const n = ctx.mode === 'full' ? 1_000_000 : 100_000;
  const empty = await ctx.start('tessera-empty', 'tessera', { alg: 'RS256', refresh: true });
  let loaded: ServerProcess | undefined;
  try {
    const setup = await ctx.start('tessera-loaded-setup', 'tessera', { alg: 'RS256', refresh: true });
    const dataDir = String(setup.info.dataDir);
    const template = await realRefreshToken(setup.url, dataDir);
    await setup.stop();
    const t0 = performance.now();
    cloneRefreshTokens(dataDir, template, n, false);
    ctx.log(`    stored ${n} refresh-token families (+ ${n} tokens) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    loaded = await ctx.start('tessera-loaded', 'tessera', { alg: 'RS256', refresh: true, dataDir });

    const rate = ctx.results.scenarios.find((s) => s.id === 'grants')?.derived.refresh ?? 3000;
    const pool = async (s: ServerProcess) => {
      await probeClientCredentials(s.url, 'RS256');
      const dir = String(s.info.dataDir);
      return cloneRefreshTokens(dir, await realRefreshToken(s.url, dir), poolSize(ctx, rate), true);
    };
    const cc = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };
    const rows = await contest([
      { name: 'refresh rotation, empty', server: empty, spec: refreshSpec(await pool(empty)) },
      { name: `refresh rotation, ${n} stored`, server: loaded, spec: refreshSpec(await pool(loaded)) },
      { name: 'client credentials, empty', server: empty, spec: cc },
      { name: `client credentials, ${n} stored`, server: loaded, spec: cc },
    ], ctx.plan, ctx.log);
    const r = (i: number) => rows[i]!.rate.median;
    ctx.results.scenarios.push({
      id: 'stored-rows',
      title: `Issuance with ${n.toLocaleString('en')} stored refresh tokens vs empty (RS256, SQLite)`,
      rows,
      derived: { rows: n, refreshLoadedVsEmpty: r(1) / r(0), ccLoadedVsEmpty: r(3) / r(2) },
      notes: [
        'Stored rows: clones of a real family and token row (own family id and token hash each), inserted while the server is stopped; the server then starts on that file.',
        ...(ctx.mode === 'quick' ? [`Quick mode stores ${n.toLocaleString('en')} rows to validate the harness; --full stores 1,000,000.`] : []),
      ],
    });
  } finally {
    await Promise.all([empty.stop(), loaded?.stop()]);
  }
}
