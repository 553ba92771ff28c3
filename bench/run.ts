/**
 * Tessera load benchmarks against peers and the physical limit (issue 7, issue 5 benchmark).
 *   npm run bench -- --quick            a few seconds per scenario: validates the harness
 *   npm run bench -- --full             the real run (≈ 12 min on 2 cores)
 *   npm run bench -- --render=results/<file>.json   rewrite RESULTS.md from a finished run
 *   options: --only=limit,cc,grants,rs,revocation,memory,rows,dpop   --algs=RS256,ES256,EdDSA (client credentials)
 *            --only=levers [--levers=stmt-cache]   A/B of a proposed Tessera optimisation (bench-side patch)
 *            --profile (Tessera children write .cpuprofile into results/profiles-<time>/)
 * Every server runs in its own child process on 127.0.0.1; nothing leaves the machine.
 */
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCtx, type Mode } from './lib/context.ts';
import type { Plan } from './lib/contest.ts';
import { ALGS } from './lib/fixtures.ts';
import { machine, markdown, type Report } from './lib/report.ts';
import { checkTargets } from './lib/targets.ts';
import { cryptoLimit } from './scenarios/limit.ts';
import { clientCredentials } from './scenarios/client-credentials.ts';
import { grants } from './scenarios/grants.ts';
import { resourceServer } from './scenarios/resource-server.ts';
import { memoryAfterLoad } from './scenarios/memory.ts';
import { storedRows } from './scenarios/stored-rows.ts';
import { revocationFanout } from './scenarios/revocation.ts';
import { levers } from './scenarios/levers.ts';
import { dpopIssuance, dpopRoute } from './scenarios/dpop.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);
const mode: Mode = argv.includes('--full') ? 'full' : 'quick';
const only = argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const profile = argv.includes('--profile');
const algs = argv.find((a) => a.startsWith('--algs='))?.slice(7).split(',') ?? ALGS;
const PLANS: Record<Mode, Plan> = {
  quick: { warmupSeconds: 1, seconds: 2, runs: 3, connections: 10 },
  full: { warmupSeconds: 2, seconds: 6, runs: 3, connections: 10 },
};

// --render=results/<file>.json rewrites RESULTS.md from a finished run (e.g. after editing ANALYSIS.md).
const render = argv.find((a) => a.startsWith('--render='))?.slice(9);
if (render) {
  const report = JSON.parse(readFileSync(render, 'utf8')) as Report;
  writeResults(markdown(report), render.replace(/^.*results\//, ''));
  process.exit(0);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const resultsDir = join(here, 'results');
mkdirSync(resultsDir, { recursive: true });
const profileDir = profile ? join(resultsDir, `profiles-${stamp}`) : undefined;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-bench-run-'));
const log = (s: string) => console.warn(s);
const ctx = createCtx(mode, PLANS[mode], tmp, profileDir, log);
const started = performance.now();
const m = machine();

const scenarios: [string, string, () => Promise<void>][] = [
  ['limit', 'physical limit: node:crypto sign/verify', () => cryptoLimit(ctx)],
  ...ALGS.filter((a) => algs.includes(a)).map((alg): [string, string, () => Promise<void>] => ['cc', `client credentials ${alg}`, () => clientCredentials(ctx, alg)]),
  ['grants', 'database-backed grants', () => grants(ctx)],
  ['rs', 'protected-route verification', () => resourceServer(ctx)],
  ['revocation', 'revocation fan-out', () => revocationFanout(ctx)],
  ['memory', 'RSS after load', () => memoryAfterLoad(ctx)],
  ['rows', 'stored rows vs empty', () => storedRows(ctx)],
  ...ALGS.filter((a) => algs.includes(a) && a !== 'EdDSA').map((alg): [string, string, () => Promise<void>] => ['dpop', `DPoP issuance ${alg}`, () => dpopIssuance(ctx, alg)]),
  ['dpop', 'DPoP-protected route', () => dpopRoute(ctx)],
  // An experiment, not part of the default run: --only=levers [--levers=stmt-cache].
  ['levers', 'lever experiment', () => levers(ctx, argv.find((a) => a.startsWith('--levers='))?.slice(9).split(',') ?? ['stmt-cache'])],
];

let failed = false;
try {
  for (const [id, title, run] of scenarios) {
    if (only ? !only.includes(id) : id === 'levers') continue;
    log(`▶ ${title}`);
    try {
      await run();
    } catch (e) {
      failed = true;
      log(`  ✖ ${title} failed: ${e instanceof Error ? e.message : String(e)}`);
      ctx.results.scenarios.push({ id: `failed-${id}`, title, rows: [], derived: {}, notes: [], skipped: `failed: ${e instanceof Error ? e.message : String(e)}` });
      await ctx.stopAll();
    }
  }
} finally {
  await ctx.stopAll();
  if (!failed) rmSync(tmp, { recursive: true, force: true });
  else log(`child logs kept in ${tmp}`);
}

m.loadavgEnd = loadavg().map((x) => Math.round(x * 100) / 100);
const report: Report = {
  date: new Date().toISOString(),
  mode,
  command: `cd bench && npm run bench -- ${argv.join(' ') || '--quick'}`,
  machine: m,
  plan: PLANS[mode],
  versions: versions(),
  targets: checkTargets(ctx.results, mode),
  results: ctx.results,
  durationSeconds: (performance.now() - started) / 1000,
};
const md = markdown(report);
writeFileSync(join(resultsDir, `${stamp}-${mode}.json`), `${JSON.stringify(report, null, 2)}\n`);
writeFileSync(join(resultsDir, `${stamp}-${mode}.md`), `${md}\n`);
if (!only) writeResults(md, `${stamp}-${mode}.json`);
console.log(md);
if (profileDir) log(`CPU profiles in ${profileDir} (summarise: node --import tsx profile-summary.ts <file>)`);
process.exitCode = failed ? 1 : 0;

/** RESULTS.md: the latest complete run, then the hand-written analysis (ANALYSIS.md). */
function writeResults(md: string, json: string): void {
  const analysis = existsSync(join(here, 'ANALYSIS.md')) ? `\n${readFileSync(join(here, 'ANALYSIS.md'), 'utf8')}` : '';
  writeFileSync(join(here, 'RESULTS.md'), `${md}\nRaw data: [results/${json}](results/${json})\n${analysis}`);
}

function versions(): Record<string, string> {
  const v = (p: string) => (JSON.parse(readFileSync(join(here, 'node_modules', p, 'package.json'), 'utf8')) as { version: string }).version;
  let rev = 'unknown';
  try {
    rev = execSync('git rev-parse --short HEAD', { cwd: here }).toString().trim();
    if (execSync('git status --porcelain -- ../packages', { cwd: here }).toString().trim()) rev += ' + uncommitted changes in packages/';
  } catch {
    /* not a git checkout */
  }
  return {
    tessera: rev,
    'oidc-provider': v('oidc-provider'),
    'express-oauth2-jwt-bearer': v('express-oauth2-jwt-bearer'),
    fastify: v('fastify'),
    express: v('express'),
    jose: v('jose'),
    autocannon: v('autocannon'),
  };
}
