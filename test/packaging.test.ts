/**
 * Tessera as other projects install it (issue 11). Builds and packs the publishable packages, then:
 *  - consumer: publishes them to a real npm registry on loopback (verdaccio, storage in a temp dir,
 *    third-party packages proxied from the public registry, @tessera/* never), and installs them with
 *    npm into a project outside the workspace, which then runs plain .mjs Express and Fastify APIs,
 *    type-checks a strict TypeScript consumer, and runs `npx tessera init` + `npx tessera serve`;
 *  - container image: the Dockerfile's runtime steps, read from the Dockerfile itself (npm ci, ENV,
 *    USER, ENTRYPOINT/CMD, HEALTHCHECK), run on this host as the unprivileged user `nobody`, since
 *    no container engine is available here.
 * better-sqlite3 would compile its addon twice (minutes); the test serves the addon the workspace's
 * `npm ci` already built, for this Node ABI, as a prebuild-install download mirror on loopback
 * (`npm_config_better_sqlite3_binary_host`, what a mirrored network sets) - the install path is the real
 * one, only the download host is ours. Without that binary, installs compile from source as usual.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { basic, freePort, postForm } from '../packages/server/test/helpers.ts';

const ROOT = realpathSync(join(import.meta.dirname, '..'));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'packages/server/package.json'), 'utf8')) as { version: string }).version;
const PACKAGES = ['@tessera/protocol', '@tessera/resource-server', '@tessera/server'];

let work = '';
let packDir = '';
let mirror: Server | undefined;
let mirrorUrl = '';
const children: ChildProcess[] = [];

/** The environment of a user's shell: nothing from `npm test` (npm_* variables, the tsx loader, NODE_ENV). */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) || ['NODE_OPTIONS', 'NODE_ENV', 'NODE_PATH', 'INIT_CWD', 'TESSERA_CONFIG', 'TESSERA_SECRET', 'TESSERA_ISSUER', 'PORT', 'HOST', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TESSERA_DATA_DIR'].includes(k)) continue;
    env[k] = v;
  }
  // A cache of our own: nothing from the machine's npm cache, nothing left in it.
  env.npm_config_cache = join(work, 'npm-cache');
  return { ...env, ...extra };
}

/** The environment of an install: the user's, with the loopback prebuild mirror (see the top). */
const installEnv = (): NodeJS.ProcessEnv => userEnv(mirrorUrl ? { npm_config_better_sqlite3_binary_host: mirrorUrl } : {});

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, env: userEnv(), ...options });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${String(r.stdout).slice(-4000)}\n${String(r.stderr).slice(-4000)}`);
  return String(r.stdout);
}

/** Like `run`, without blocking this process: npm's installs fetch from the loopback mirror served here. */
async function runAsync(cmd: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
  const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGTERM'), 300_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  assert.equal(code, 0, `${cmd} ${args.join(' ')} failed (${code ?? child.signalCode}):\n${out.slice(-4000)}\n${err.slice(-4000)}`);
  return out;
}

interface Proc {
  proc: ChildProcess;
  output(): string;
  /** Resolves with the first stdout line that parses as JSON and passes `pick`. */
  line<T>(pick: (v: Record<string, unknown>) => T | undefined, ms?: number): Promise<T>;
  stop(): Promise<number | null>;
}

/** Starts a process in its own process group, so that `npx`'s child goes too when it is stopped. */
function start(cmd: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Proc {
  const proc = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-proc.pid!, s);
    } catch {
      // already gone
    }
  };
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  // 'close': every holder of the output pipes (npx's child too) is gone.
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    async line(pick, ms = 60_000) {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline && proc.exitCode === null) {
        for (const l of out.split('\n')) {
          if (!l.startsWith('{')) continue;
          try {
            const v = pick(JSON.parse(l) as Record<string, unknown>);
            if (v !== undefined) return v;
          } catch {
            // not JSON yet (a partial line)
          }
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`${cmd} ${args.join(' ')}: no such line (exit ${proc.exitCode}):\n${out.slice(-4000)}`);
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

async function token(url: string, id: string, secret: string, params: Record<string, string>): Promise<string> {
  const res = await postForm(`${url}/token`, params, { authorization: basic(id, secret) });
  const body = (await res.json()) as { access_token?: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.access_token!;
}

/** Serves the workspace's built better-sqlite3 addon in prebuild-install's tarball layout. */
async function startPrebuildMirror(): Promise<void> {
  const addon = join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
  if (!existsSync(addon)) return;
  const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string }).version;
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tarball = join(work, name);
  run('tar', ['-czf', tarball, '-C', join(ROOT, 'node_modules/better-sqlite3'), 'build/Release/better_sqlite3.node']);
  const body = readFileSync(tarball);
  mirror = createServer((req, res) => {
    // Only this exact version and ABI: anything else is not ours to serve (the install then compiles).
    if (req.url === `/v${version}/${name}`) res.writeHead(200, { 'content-type': 'application/gzip' }).end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => mirror!.listen(0, '127.0.0.1', resolve));
  const address = mirror.address();
  mirrorUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

before(async () => {
  work = realpathSync(mkdtempSync(join(tmpdir(), 'tessera-packaging-')));
  chmodSync(work, 0o755); // the unprivileged user must reach the deployment below
  packDir = join(work, 'pack');
  mkdirSync(packDir);
  await startPrebuildMirror();
  // What users and the image run is the compiled output: build it now (incremental after `npm ci`).
  run(process.execPath, ['scripts/build.mjs'], { cwd: ROOT });
  run('npm', ['pack', ...PACKAGES.flatMap((p) => ['--workspace', p]), '--pack-destination', packDir, '--silent'], { cwd: ROOT });
});

after(async () => {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      c.kill('SIGKILL');
    }
  }
  await new Promise<void>((resolve) => (mirror ? mirror.close(() => resolve()) : resolve()));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('packed tarballs', () => {
  test('hold the compiled modules, declarations, README and LICENSE: no sources, tests or build state', () => {
    const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz')).sort();
    assert.deepEqual(tarballs, [`tessera-protocol-${VERSION}.tgz`, `tessera-resource-server-${VERSION}.tgz`, `tessera-server-${VERSION}.tgz`]);
    for (const t of tarballs) {
      const files = run('tar', ['-tzf', join(packDir, t)]).trim().split('\n');
      for (const f of ['package/package.json', 'package/LICENSE', 'package/README.md', 'package/dist/index.js', 'package/dist/index.d.ts']) assert.ok(files.includes(f), `${t} lacks ${f}`);
      const stray = files.filter((f) => !/^package\/(dist\/.+\.(js|d\.ts|map|eta|css)|package\.json|README\.md|LICENSE)$/.test(f));
      assert.deepEqual(stray, [], `${t} holds unexpected files`);
      const pkg = JSON.parse(run('tar', ['-xzOf', join(packDir, t), 'package/package.json'])) as Record<string, unknown>;
      assert.equal(pkg.private, undefined);
      assert.equal(pkg.license, 'Apache-2.0');
      for (const field of ['version', 'description', 'repository', 'engines', 'exports']) assert.ok(pkg[field], `${t}: ${field}`);
      assert.ok(!JSON.stringify(pkg.dependencies ?? {}).includes('tsx'), 'no TypeScript loader at run time');
    }
    const server = run('tar', ['-tzf', join(packDir, `tessera-server-${VERSION}.tgz`)]);
    assert.match(server, /package\/dist\/http\/pages\/views\/login\.eta/);
    assert.match(server, /package\/dist\/cli\/bin\.js/);
  });
});

describe('consumer: a project outside the workspace installs the packages from a registry', () => {
  let registry: Proc;
  let registryUrl = '';
  let project = '';
  let tessera: Proc;
  let issuer = '';
  const secrets = { svc: 'consumer-svc-secret-0123456789', other: 'consumer-other-secret-0123456789', app: 'consumer-app-secret-0123456789' };
  const AUDIENCE = 'https://api.example';

  before(async () => {
    const storage = join(work, 'registry');
    mkdirSync(storage);
    const port = await freePort();
    registryUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(storage, 'config.yaml'), [
      `storage: ${join(storage, 'storage')}`,
      'auth:',
      `  htpasswd: { file: ${join(storage, 'htpasswd')} }`,
      // No uplink: the project reads only @tessera/* here (below), so nothing else is ever asked of it.
      'packages:',
      "  '@tessera/*': { access: $all, publish: $authenticated }",
      'web: { enable: false }',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'));
    registry = start(process.execPath, [join(ROOT, 'node_modules/verdaccio/bin/verdaccio'), '--config', join(storage, 'config.yaml'), '--listen', `127.0.0.1:${port}`], { cwd: storage, env: userEnv() });
    const deadline = Date.now() + 60_000;
    while (!(await fetch(`${registryUrl}/-/ping`).then((r) => r.ok, () => false))) {
      assert.ok(Date.now() < deadline && registry.proc.exitCode === null, `verdaccio did not start:\n${registry.output()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const user = await fetch(`${registryUrl}/-/user/org.couchdb.user:publisher`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'publisher', password: 'publisher-password-123', type: 'user', roles: [], date: new Date().toISOString() }),
    });
    const { token: authToken } = (await user.json()) as { token: string };
    assert.ok(authToken, `no registry token (${user.status})`);

    project = join(work, 'consumer');
    mkdirSync(project);
    // As an organisation with a private registry for its scope sets it up: @tessera/* from the registry
    // on loopback, everything else from the public npm registry. (Proxying the public packages through
    // verdaccio took 15-50 s per tarball on this shared machine.)
    writeFileSync(join(project, '.npmrc'), `@tessera:registry=${registryUrl}/\n//127.0.0.1:${port}/:_authToken=${authToken}\n`);
    for (const p of PACKAGES) {
      const file = join(packDir, `${p.slice(1).replace('/', '-')}-${VERSION}.tgz`);
      run('npm', ['publish', file, '--access', 'public', '--no-provenance', '--registry', `${registryUrl}/`], { cwd: project });
    }

    // The user's project: their own framework copies and TypeScript, Tessera's packages by version.
    writeFileSync(join(project, 'package.json'), JSON.stringify({
      name: 'tessera-consumer',
      private: true,
      type: 'module',
      dependencies: { '@tessera/resource-server': VERSION, '@tessera/server': VERSION, express: '^5.1.0', fastify: '^5.4.0' },
      devDependencies: { typescript: '~5.9.0', '@types/express': '^5.0.0', '@types/node': '^20.19.0' },
      allowScripts: { 'better-sqlite3': true },
    }, null, 2));
    await runAsync('npm', ['install', '--no-audit', '--no-fund'], { cwd: project, env: installEnv() });

    // Tessera itself, from the installed package, with clients for the API tests below.
    const asPort = await freePort();
    issuer = `http://127.0.0.1:${asPort}`;
    writeFileSync(join(project, 'tokens.yaml'), `issuer: ${issuer}
port: ${asPort}
dataDir: ./data-tokens
logLevel: warn
clients:
  - { id: svc, secret: ${secrets.svc}, grants: [client_credentials], scopes: [orders:read, orders:write], audience: ${AUDIENCE} }
  - { id: elsewhere, secret: ${secrets.other}, grants: [client_credentials], scopes: [orders:read], audience: https://other.example }
  - { id: app, secret: ${secrets.app}, grants: [password], scopes: [orders:read], audience: ${AUDIENCE} }
users:
  - { username: ada, password: ada-password-0123, roles: [admin] }
`);
    tessera = start('npx', ['tessera', '--config', 'tokens.yaml', 'serve'], { cwd: project, env: userEnv() });
    const ready = Date.now() + 60_000;
    while (!(await fetch(`${issuer}/readyz`).then((r) => r.status === 200, () => false))) {
      assert.ok(Date.now() < ready && tessera.proc.exitCode === null, `tessera did not start:\n${tessera.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(async () => {
    await tessera?.stop();
    await registry?.stop();
  });

  test('npm resolved everything inside the project: @tessera/protocol came with @tessera/resource-server', () => {
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dependencies?: Record<string, string>; link?: boolean }> };
    assert.ok(lock.packages['node_modules/@tessera/resource-server']?.dependencies?.['@tessera/protocol'], 'resource-server depends on protocol');
    assert.equal(lock.packages['node_modules/@tessera/protocol']?.version, VERSION);
    for (const p of PACKAGES) assert.ok(!lock.packages[`node_modules/${p}`]?.link, `${p} is installed, not linked`);
    // One copy of each framework: the user's (peer dependencies, not bundled).
    assert.ok(!existsSync(join(project, 'node_modules/@tessera/resource-server/node_modules/fastify')));
    assert.ok(!existsSync(join(project, 'node_modules/@tessera/resource-server/node_modules/express')));
    const resolved = run(process.execPath, ['--input-type=module', '-e', `for (const s of ${JSON.stringify([...PACKAGES, '@tessera/resource-server/express', '@tessera/resource-server/fastify'])}) console.log(import.meta.resolve(s))`], { cwd: project }).trim().split('\n');
    for (const r of resolved) {
      assert.ok(r.startsWith(`file://${project}/node_modules/`), r);
      assert.match(r, /\/dist\/[a-z-]+\.js$/);
    }
  });

  async function checkApi(app: string, source: string): Promise<void> {
    writeFileSync(join(project, app), source);
    const api = start(process.execPath, [app], { cwd: project, env: userEnv({ ISSUER: issuer, AUDIENCE }) });
    try {
      const url = await api.line((v) => (typeof v.listening === 'string' ? v.listening : undefined));
      const good = await token(issuer, 'svc', secrets.svc, { grant_type: 'client_credentials', scope: 'orders:read orders:write' });
      const elsewhere = await token(issuer, 'elsewhere', secrets.other, { grant_type: 'client_credentials', scope: 'orders:read' });
      const writeOnly = await token(issuer, 'svc', secrets.svc, { grant_type: 'client_credentials', scope: 'orders:write' });
      const admin = await token(issuer, 'app', secrets.app, { grant_type: 'password', username: 'ada', password: 'ada-password-0123', scope: 'orders:read' });
      const call = (method: string, path: string, t?: string) => fetch(`${url}${path}`, { method, headers: t ? { authorization: `Bearer ${t}` } : {} });

      const ok = await call('GET', '/orders', good);
      assert.equal(ok.status, 200);
      assert.deepEqual(await ok.json(), { sub: 'svc', scopes: ['orders:read', 'orders:write'] });

      const wrongAudience = await call('GET', '/orders', elsewhere);
      assert.equal(wrongAudience.status, 401);
      assert.match(wrongAudience.headers.get('www-authenticate') ?? '', /^Bearer .*error="invalid_token"/);
      const none = await call('GET', '/orders');
      assert.equal(none.status, 401);

      const missingScope = await call('GET', '/orders', writeOnly);
      assert.equal(missingScope.status, 403);
      assert.match(missingScope.headers.get('www-authenticate') ?? '', /error="insufficient_scope".*scope="orders:read"/);

      assert.equal((await call('DELETE', '/orders/1', good)).status, 403, 'no admin role');
      assert.equal((await call('DELETE', '/orders/1', admin)).status, 204);
    } finally {
      await api.stop();
    }
  }

  test('(a) a plain .mjs Express API: requireAuth, requireScopes, requireRoles', async () => {
    await checkApi('express-api.mjs', `import express from 'express';
import { createVerifier } from '@tessera/resource-server';
import { requireAuth, requireScopes, requireRoles } from '@tessera/resource-server/express';

const verifier = createVerifier({ issuer: process.env.ISSUER, audience: process.env.AUDIENCE });
const auth = requireAuth(verifier, { realm: 'orders' });
const app = express();
app.get('/orders', auth, requireScopes('orders:read'), (req, res) => res.json({ sub: req.auth.sub, scopes: [...req.auth.scopes].sort() }));
app.delete('/orders/:id', auth, requireRoles('admin'), (req, res) => res.status(204).end());
const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ listening: 'http://127.0.0.1:' + server.address().port })));
process.once('SIGTERM', () => { server.close(); void verifier.close(); });
`);
  });

  test('(b) a plain .mjs Fastify API: the plugin, requireScopes, requireRoles', async () => {
    await checkApi('fastify-api.mjs', `import Fastify from 'fastify';
import { tesseraAuth, requireScopes, requireRoles } from '@tessera/resource-server/fastify';

const app = Fastify();
await app.register(tesseraAuth, { issuer: process.env.ISSUER, audience: process.env.AUDIENCE, realm: 'orders' });
await app.register(async (api) => {
  api.addHook('preHandler', api.authenticate);
  api.get('/orders', { preHandler: requireScopes('orders:read') }, async (req) => ({ sub: req.auth.sub, scopes: [...req.auth.scopes].sort() }));
  api.delete('/orders/:id', { preHandler: requireRoles('admin') }, async (req, reply) => reply.code(204).send());
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(JSON.stringify({ listening: address }));
process.once('SIGTERM', () => void app.close());
`);
  });

  test('(c) a strict TypeScript consumer type-checks against the published declarations', () => {
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false, noEmit: true, types: ['node'] },
      files: ['consumer.ts'],
    }));
    writeFileSync(join(project, 'consumer.ts'), `import express from 'express';
import Fastify from 'fastify';
import { createVerifier, type AuthResult, type Verifier } from '@tessera/resource-server';
import { requireAuth, requireRoles, requireScopes } from '@tessera/resource-server/express';
import { tesseraAuth, requireScopes as fastifyScopes } from '@tessera/resource-server/fastify';
import { InvalidRequest } from '@tessera/protocol';
import { createTessera, loadConfig, type Config, type Tessera } from '@tessera/server';

const verifier: Verifier = createVerifier({ issuer: 'https://as.example', audience: 'https://api.example' });
const app = express();
app.get('/orders', requireAuth(verifier), requireScopes('orders:read'), requireRoles('admin'), (req, res) => {
  const auth: AuthResult | undefined = req.auth;
  const scopes: ReadonlySet<string> | undefined = auth?.scopes;
  res.json({ sub: auth?.sub, scopes: [...(scopes ?? [])] });
});

const fastify = Fastify();
await fastify.register(tesseraAuth, { verifier });
fastify.get('/orders', { preHandler: [fastify.authenticate, fastifyScopes('orders:read')] }, async (req) => req.auth?.sub ?? null);

const config: Config = loadConfig({ env: {}, overrides: { issuer: 'http://localhost:9000', clients: [] } });
const tessera: Tessera = await createTessera(config);
const address: string = await tessera.listen();
await tessera.close();
const err: Error = new InvalidRequest('bad');

// The declarations are real, not any:
// @ts-expect-error audience is required
createVerifier({ issuer: 'https://as.example' });
// @ts-expect-error requireScopes takes scope strings
requireScopes(42);
// @ts-expect-error a Tessera config has no such field
loadConfig({ overrides: { nonsense: true } });
// @ts-expect-error auth on a Fastify request is AuthResult | null
const sub: string = fastify.auth;
export { address, err, sub };
`);
    run('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: project });
  });

  test('(d) npx tessera init, then npx tessera serve from the installed package, issues a client-credentials token', async () => {
    const out = run('npx', ['tessera', 'init', 'auth'], { cwd: project });
    assert.match(out, /npx tessera serve/);
    const dir = join(project, 'auth');
    const yaml = readFileSync(join(dir, 'tessera.yaml'), 'utf8');
    const secret = (parseYaml(yaml) as { clients: { id: string; secret: string }[] }).clients.find((c) => c.id === 'service')!.secret;
    // The written config unchanged; only the port moves off 9000 (and `npx` finds the project's bin).
    const server = start('npx', ['tessera', 'serve'], { cwd: dir, env: userEnv({ PORT: '0' }) });
    try {
      const started = await server.line((v) => (v.msg === 'tessera listening' ? v : undefined));
      assert.equal(started.version, VERSION);
      assert.equal(started.storage, 'sqlite');
      const url = String(started.address);
      const t = await token(url, 'service', secret, { grant_type: 'client_credentials', scope: 'api:read' });
      const claims = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString()) as { iss: string; aud: string; scope: string };
      assert.deepEqual([claims.iss, claims.aud, claims.scope], ['http://localhost:9000', 'http://localhost:3000', 'api:read']);
      // Compiled JavaScript only: no TypeScript loader in the installed tree or the process.
      assert.ok(!existsSync(join(project, 'node_modules/tsx')));
      const pid = server.proc.pid!;
      assert.ok(!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('tsx'));
    } finally {
      // npm exec ends by the signal; Tessera itself shuts down gracefully and exits 0.
      await server.stop();
      assert.match(server.output(), /"msg":"shutting down"/);
    }
  });
});

describe('container image: the Dockerfile runtime stage, run on the host as an unprivileged user', () => {
  test('npm ci --omit=dev from the packed tarballs, the image user, ENTRYPOINT/CMD and HEALTHCHECK', async () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    assert.match(runtime, /^\nFROM node:20-slim\n/);
    const json = (instruction: string) => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(runtime)![1]!) as string[];
    const env = Object.fromEntries([...(/^ENV (.+)$/m.exec(runtime)![1]!.matchAll(/(\w+)=(\S+)/g))].map((m) => [m[1]!, m[2]!]));
    const npmCi = /npm ci [^&]*/.exec(runtime)![0].trim().split(/\s+/);
    const entrypoint = json('ENTRYPOINT');
    const cmd = json('CMD');
    const healthcheck = json('HEALTHCHECK .*CMD');
    assert.match(runtime, /^USER node$/m);
    assert.match(runtime, /^VOLUME \/data$/m);
    assert.equal(env.TESSERA_DATA_DIR, '/data');
    assert.ok(npmCi.includes('--omit=dev'));

    // Build stage: the deployment project from the tarballs (its lockfile too).
    const build = join(work, 'deploy-build');
    await runAsync(process.execPath, [join(ROOT, 'scripts/deploy-project.mjs'), packDir, build], { cwd: ROOT, env: installEnv() });
    // Runtime stage: COPY --from=build /deploy/ /app/, then the same npm ci, as root like the RUN.
    const app = join(work, 'app');
    cpSync(build, app, { recursive: true });
    await runAsync(npmCi[0]!, npmCi.slice(1), { cwd: app, env: installEnv() });
    assert.ok(!existsSync(join(app, 'node_modules/typescript')) && !existsSync(join(app, 'node_modules/tsx')), 'production dependencies only');
    // The server shares the toolkit's DPoP proof check; the toolkit's optional framework peer express is not pulled in.
    assert.ok(existsSync(join(app, 'node_modules/@tessera/resource-server/dist/dpop/index.js')), 'the toolkit, compiled, as a server dependency');
    assert.ok(!existsSync(join(app, 'node_modules/express')), 'only what the server needs');
    const data = join(work, 'data');
    mkdirSync(data);
    const root = process.getuid?.() === 0;
    const NOBODY = 65534;
    if (root) chownSync(data, NOBODY, NOBODY);
    // USER: an unprivileged account (the image's `node`; `nobody` here).
    const asUser = (argv: string[]) => (root ? ['setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...argv]] as const : [argv[0]!, argv.slice(1)] as const);
    const port = await freePort();
    const secret = 'container-test-secret-0123456789abcdef';
    const containerEnv = userEnv({ ...env, HOST: '127.0.0.1', PORT: String(port), TESSERA_DATA_DIR: data, TESSERA_SECRET: secret, HOME: data });
    const node = (argv: string[]) => argv.map((a, i) => (i === 0 && a === 'node' ? process.execPath : a.replace(/^\/app\//, `${app}/`)));
    const [cmd0, args0] = asUser(node([...entrypoint, ...cmd]));
    const server = start(cmd0, [...args0], { cwd: app, env: containerEnv });
    try {
      const healthy = () => {
        const [c, a] = asUser(node(healthcheck));
        return spawnSync(c, [...a], { env: containerEnv, timeout: 5000 }).status === 0;
      };
      const deadline = Date.now() + 60_000;
      while (!healthy()) {
        assert.ok(Date.now() < deadline && server.proc.exitCode === null, `not healthy:\n${server.output()}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const started = await server.line((v) => (v.msg === 'tessera listening' ? v : undefined));
      assert.equal(started.storage, 'sqlite');
      assert.ok(existsSync(join(data, 'tessera.db')), 'the database lives in the volume');
      if (root) {
        const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
        assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'), 'runs unprivileged');
      }
      // `docker exec <container> tessera clients create ...`: the same entrypoint, same user and env.
      const [c, a] = asUser(node([...entrypoint, 'clients', 'create', '--id', 'svc', '--scope', 'a', '--audience', 'https://api.example']));
      const created = run(c, [...a], { cwd: app, env: containerEnv });
      const clientSecret = /client_secret: (\S+)/.exec(created)![1]!;
      const t = await token(`http://127.0.0.1:${port}`, 'svc', clientSecret, { grant_type: 'client_credentials' });
      assert.ok(t.split('.').length === 3);
      assert.ok(!server.output().includes(secret) && !server.output().includes(clientSecret), 'no secret in the log');
    } finally {
      assert.equal(await server.stop(), 0, server.output());
    }
  });
});
