import type { Ctx } from '../lib/context.ts';
import { contest, type Contestant } from '../lib/contest.ts';
import { AUDIENCE, CC_BODY, FORM, SVC, basic, type Alg } from '../lib/fixtures.ts';
import { ProofSource, proofKey } from '../lib/dpop.ts';
import { postToken } from '../lib/tokens.ts';
import type { ServerProcess } from '../lib/proc.ts';

/** Proofs signed ahead per second of a run: more than either server answers on this machine. */
const PROOFS_PER_SECOND = 12_000;

const cc = { method: 'POST' as const, path: '/token', headers: { 'content-type': FORM, authorization: basic(SVC.id, SVC.secret) }, body: CC_BODY };

/**
 * The bearer side goes through autocannon's per-request hook too (with a header of a proof's size), so
 * both sides pay the same load-generator cost on this shared machine.
 */
function samePath(name: string, server: ServerProcess, spec: Contestant['spec']): Contestant {
  const pad = { 'x-bench-pad': 'p'.repeat(500) };
  return { name, server, spec: { ...spec, next: () => ({ headers: pad }) } };
}

/** A DPoP contestant: every request carries a new proof (unique `jti`), signed before the run. */
function withProofs(name: string, server: ServerProcess, spec: Contestant['spec'], proofs: ProofSource): Contestant {
  return {
    name,
    server,
    spec: { ...spec, next: () => ({ headers: { dpop: proofs.next() } }) },
    prepare: (seconds) => proofs.fill(Math.ceil(seconds * PROOFS_PER_SECOND)),
  };
}

/**
 * DPoP issuance (issue 13): client credentials with a DPoP proof per request next to the same grant
 * with a bearer token, one Tessera (SQLite replay cache), alternating runs.
 */
export async function dpopIssuance(ctx: Ctx, alg: Alg): Promise<void> {
  const tessera = await ctx.start(`tessera-dpop-${alg}`, 'tessera', { alg });
  try {
    const proofs = new ProofSource(proofKey(), 'POST', `${tessera.url}/token`);
    const probe = await fetch(`${tessera.url}/token`, { method: 'POST', headers: { ...cc.headers, dpop: proofs.one() }, body: cc.body });
    const body = await probe.json() as { token_type?: string };
    if (probe.status !== 200 || body.token_type !== 'DPoP') throw new Error(`DPoP client credentials answered ${probe.status} ${JSON.stringify(body)}`);
    const rows = await contest([
      samePath('client credentials, bearer', tessera, cc),
      withProofs('client credentials, DPoP (new proof each request)', tessera, cc, proofs),
    ], ctx.plan, ctx.log);
    const [bearer, dpop] = rows.map((r) => r.rate.median) as [number, number];
    ctx.results.scenarios.push({
      id: `dpop-cc-${alg}`,
      title: `DPoP issuance: client credentials, ${alg} access tokens`,
      rows,
      derived: { bearer, dpop, dpopVsBearer: dpop / bearer },
      notes: [
        'ES256 proof keys; the replay cache is the SQLite table of migration 008 (no Redis).',
        'Proofs are signed before each run, outside the timed window; both sides use autocannon\'s per-request hook (bearer with a 500-byte padding header).',
      ],
    });
  } finally {
    await tessera.stop();
  }
}

/**
 * A DPoP-protected route (issue 13): GET /orders needing `orders:read` through the Fastify plugin and the
 * Express adapter, with one repeated token — as Bearer, and DPoP-bound with a new proof each request
 * (the token's verification is cached; the proof is verified every time).
 */
export async function dpopRoute(ctx: Ctx): Promise<void> {
  const as = await ctx.start('tessera-dpop-issuer', 'tessera', { alg: 'RS256' });
  const servers: ServerProcess[] = [];
  try {
    const bearer = String((await postToken(as.url, CC_BODY)).access_token);
    const key = proofKey();
    const tokenProofs = new ProofSource(key, 'POST', `${as.url}/token`);
    const res = await fetch(`${as.url}/token`, { method: 'POST', headers: { ...cc.headers, dpop: tokenProofs.one() }, body: cc.body });
    const bound = String(((await res.json()) as { access_token: string }).access_token);
    const args = { issuer: as.url, audience: AUDIENCE, alg: 'RS256' };
    for (const variant of ['fastify-tessera', 'express-tessera']) servers.push(await ctx.start(`rs-dpop-${variant}`, 'rs', { ...args, variant }));
    const list: Contestant[] = [];
    for (const [s, label] of [[servers[0]!, 'Fastify'], [servers[1]!, 'Express']] as const) {
      // The route's proofs are signed by the key the token is bound to.
      const sameKey = new ProofSource(key, 'GET', `${s.url}/orders`, bound);
      const ok = await fetch(`${s.url}/orders`, { headers: { authorization: `DPoP ${bound}`, dpop: sameKey.one() } });
      if (ok.status !== 200) throw new Error(`${s.name} refused the DPoP request: ${ok.status} ${await ok.text()}`);
      const asBearer = await fetch(`${s.url}/orders`, { headers: { authorization: `Bearer ${bound}` } });
      if (asBearer.status !== 401) throw new Error(`${s.name} accepted a DPoP-bound token as Bearer: ${asBearer.status}`);
      list.push(samePath(`${label} + Tessera, bearer (repeated token)`, s, { method: 'GET', path: '/orders', headers: { authorization: `Bearer ${bearer}` } }));
      list.push(withProofs(`${label} + Tessera, DPoP (repeated token, new proof)`, s, { method: 'GET', path: '/orders', headers: { authorization: `DPoP ${bound}` } }, sameKey));
    }
    const rows = await contest(list, ctx.plan, ctx.log);
    const r = (name: string) => rows.find((x) => x.name === name)!.rate.median;
    ctx.results.scenarios.push({
      id: 'dpop-route',
      title: 'DPoP-protected route, repeated token (RS256 access token, ES256 proofs)',
      rows,
      derived: {
        fastifyDpopVsBearer: r('Fastify + Tessera, DPoP (repeated token, new proof)') / r('Fastify + Tessera, bearer (repeated token)'),
        expressDpopVsBearer: r('Express + Tessera, DPoP (repeated token, new proof)') / r('Express + Tessera, bearer (repeated token)'),
      },
      notes: [
        'Each DPoP request carries a new proof (signed before the run): one ES256 verification, the ath hash and a replay-cache insert per request.',
        'Both sides use autocannon\'s per-request hook (bearer with a 500-byte padding header), so the load generator costs the same.',
      ],
    });
  } finally {
    await Promise.all([as.stop(), ...servers.map((s) => s.stop())]);
  }
}
