#!/usr/bin/env node
/**
 * `tessera serve` as an operator runs it, through tsx (how it ran before the build, and how the tests
 * run it) and compiled (dist/, what the packages and the image run): time from spawn to the first 200
 * on /readyz, idle RSS, RSS after 30 s of client-credentials load. SQLite, RS256, log level warn.
 *   npm run build && node bench/serve.mjs [--seconds=30] [--starts=5]
 * Needs only the root install (no bench/ dependencies): the load is 10 keep-alive fetch loops in this
 * process, on the same cores as the server, like autocannon in run.ts. Prints a Markdown section.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const arg = (name, dflt) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt);
const SECONDS = arg('seconds', 30);
const STARTS = arg('starts', 5);
const SECRET = 'bench-client-secret-0123456789';
const VARIANTS = {
  tsx: ['packages/server/bin/tessera.mjs'],
  compiled: ['packages/server/dist/cli/bin.js'],
};

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
const rssMiB = (pid) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function start(variant, dataDir) {
  const port = await freePort();
  const cfg = join(dataDir, 'tessera.yaml');
  writeFileSync(cfg, `issuer: http://127.0.0.1:${port}
port: ${port}
host: 127.0.0.1
dataDir: ${dataDir}
logLevel: warn
keys: { algorithm: RS256 }
clients:
  - { id: svc, secret: ${SECRET}, grants: [client_credentials], scopes: [orders:read], audience: https://orders.example }
`);
  const env = { ...process.env, TESSERA_SECRET: 'bench-deployment-secret-0123456789abcdef' };
  for (const k of ['NODE_OPTIONS', 'PORT', 'HOST', 'TESSERA_CONFIG', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TESSERA_DATA_DIR']) delete env[k];
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...VARIANTS[variant], '--config', cfg, 'serve'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${variant} exited with ${proc.exitCode}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    await sleep(5);
  }
  const ms = performance.now() - t0;
  const stop = () => new Promise((resolve) => (proc.once('exit', resolve), proc.kill('SIGTERM')));
  return { proc, url, ms, stop };
}

async function load(url, seconds) {
  const body = 'grant_type=client_credentials&scope=orders%3Aread';
  const headers = { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`svc:${SECRET}`).toString('base64')}` };
  const end = Date.now() + seconds * 1000;
  let ok = 0;
  let failed = 0;
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (Date.now() < end) {
      const r = await fetch(`${url}/token`, { method: 'POST', headers, body }).catch(() => undefined);
      if (r?.status === 200) ok++;
      else failed++;
      await r?.arrayBuffer();
    }
  }));
  return { rps: ok / seconds, failed };
}

const results = { tsx: { fresh: [], restart: [] }, compiled: { fresh: [], restart: [] } };
const startLoad = loadavg().map((x) => x.toFixed(2)).join(' / ');
// Start-up, alternating the variants: a fresh data directory (migrations, key generation) then a restart on it.
for (let i = 0; i < STARTS; i++) {
  for (const variant of i % 2 ? ['compiled', 'tsx'] : ['tsx', 'compiled']) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
    try {
      const a = await start(variant, dir);
      results[variant].fresh.push(a.ms);
      await a.stop();
      const b = await start(variant, dir);
      results[variant].restart.push(b.ms);
      await b.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
// Memory: idle after start-up settles, then after the load.
for (const variant of ['tsx', 'compiled']) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-serve-'));
  try {
    const s = await start(variant, dir);
    await sleep(5000);
    results[variant].idle = rssMiB(s.proc.pid);
    results[variant].load = await load(s.url, SECONDS);
    results[variant].after = rssMiB(s.proc.pid);
    await s.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const f = (x) => x.toFixed(0);
const r = (v) => `${f(median(results[v].fresh))} (${f(Math.min(...results[v].fresh))}–${f(Math.max(...results[v].fresh))})`;
const rr = (v) => `${f(median(results[v].restart))} (${f(Math.min(...results[v].restart))}–${f(Math.max(...results[v].restart))})`;
const row = (v, label) => `| ${label} | ${r(v)} | ${rr(v)} | ${f(results[v].idle)} | ${f(results[v].after)} | ${(results[v].load.rps / 1000).toFixed(2)}k | ${results[v].load.failed} |`;
console.log(`| run | start to first /readyz 200, fresh data dir, ms median (min–max) | same, restart | idle RSS MiB | RSS after ${SECONDS} s load MiB | 2xx/s during load | failures |
|---|---|---|---|---|---|---|
${row('tsx', 'before: through tsx (`node packages/server/bin/tessera.mjs`)')}
${row('compiled', 'after: compiled (`node packages/server/dist/cli/bin.js`)')}

${STARTS} starts per variant (alternating), ${new Date().toISOString()}, Node ${process.version}, load average ${startLoad} at start, ${loadavg().map((x) => x.toFixed(2)).join(' / ')} at end.`);
