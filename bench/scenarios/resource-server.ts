import type { Ctx } from '../lib/context.ts';
import { contest, type Contestant } from '../lib/contest.ts';
import { AUDIENCE } from '../lib/fixtures.ts';
import type { ServerProcess } from '../lib/proc.ts';
import { probeClientCredentials, tokenPool } from '../lib/tokens.ts';
import type { RsVariant } from '../servers/rs.ts';

const VARIANTS: [RsVariant, string][] = [
  ['fastify-tessera', 'Fastify + Tessera plugin'],
  ['fastify-jose', 'Fastify + plain jose jwtVerify'],
  ['fastify-bare', 'Fastify bare route (ceiling)'],
  ['express-tessera', 'Express + Tessera adapter'],
  ['express-auth0', 'Express + express-oauth2-jwt-bearer'],
  ['express-bare', 'Express bare route (ceiling)'],
];

/** The toolkit's verified-token cache holds 10 000 entries; cycling through more misses every time. */
const UNIQUE_POOL = 12_000;

/**
 * Protected-route verification (issue 5 benchmark): GET /orders with a bearer token needing
 * `orders:read`, RS256 tokens from a real Tessera. "Repeated" sends one token; "unique" cycles
 * through more distinct tokens than the verifier caches, so every request is a full verification.
 */
export async function resourceServer(ctx: Ctx): Promise<void> {
  const as = await ctx.start('tessera-issuer', 'tessera', { alg: 'RS256' });
  const servers: ServerProcess[] = [];
  try {
    const one = await probeClientCredentials(as.url, 'RS256');
    const pool = await tokenPool(as.url, UNIQUE_POOL);
    ctx.log(`    ${pool.length} distinct tokens ready`);
    const args = { issuer: as.url, audience: AUDIENCE, alg: 'RS256' };
    for (const [variant] of VARIANTS) servers.push(await ctx.start(`rs-${variant}`, 'rs', { ...args, variant }));
    for (const s of servers) {
      const res = await fetch(`${s.url}/orders`, { headers: { authorization: `Bearer ${one}` } });
      if (res.status !== 200) throw new Error(`${s.name} refused a valid token: ${res.status}`);
      const bad = await fetch(`${s.url}/orders`, { headers: { authorization: `Bearer ${one.slice(0, -4)}AAAA` } });
      if (!s.name.endsWith('bare') && bad.status !== 401) throw new Error(`${s.name} accepted a tampered token: ${bad.status}`);
    }
    for (const mode of ['repeated', 'unique'] as const) {
      let i = 0;
      const spec = mode === 'repeated'
        ? { method: 'GET' as const, path: '/orders', headers: { authorization: `Bearer ${one}` } }
        : { method: 'GET' as const, path: '/orders', next: () => ({ headers: { authorization: `Bearer ${pool[i++ % pool.length]!}` } }) };
      const list: Contestant[] = VARIANTS.map(([, name], k) => ({ name, server: servers[k]!, spec }));
      ctx.log(`  ${mode} token`);
      const rows = await contest(list, ctx.plan, ctx.log);
      const r = (name: string) => rows.find((x) => x.name === name)!.rate.median;
      ctx.results.scenarios.push({
        id: `rs-${mode}`,
        title: `Protected route, ${mode} token (RS256)`,
        rows,
        derived: {
          fastifyVsBare: r('Fastify + Tessera plugin') / r('Fastify bare route (ceiling)'),
          fastifyVsJose: r('Fastify + Tessera plugin') / r('Fastify + plain jose jwtVerify'),
          expressVsAuth0: r('Express + Tessera adapter') / r('Express + express-oauth2-jwt-bearer'),
          expressVsBare: r('Express + Tessera adapter') / r('Express bare route (ceiling)'),
        },
        notes: mode === 'unique'
          ? [`${pool.length} distinct tokens cycled in order (more than the 10 000-entry result cache): every request verifies a signature.`]
          : ['One token for every request: the Tessera toolkit serves it from its verified-token cache; the others verify each time.'],
      });
    }
  } finally {
    await Promise.all([as.stop(), ...servers.map((s) => s.stop())]);
  }
}
