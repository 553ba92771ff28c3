#!/usr/bin/env node
// `node scripts/deploy-project.mjs <tarball dir> <out dir>`: the deployable project the container image
// installs (Dockerfile, build stage), and the packaging test installs the same way: a package.json that
// depends on the packed @tessera/server, @tessera/resource-server (the shared DPoP proof check) and
// @tessera/protocol tarballs, and a package-lock.json for
// `npm ci --omit=dev`. Nothing from the workspace is used at run time but those tarballs.
import { copyFileSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const [from, to] = process.argv.slice(2).map((p) => resolve(p));
if (!from || !to) {
  console.error('usage: deploy-project.mjs <tarball dir> <out dir>');
  process.exit(2);
}
const tarballs = readdirSync(from).filter((f) => /^tessera-(server|resource-server|protocol)-.+\.tgz$/.test(f));
if (tarballs.length !== 3) {
  console.error(`expected the @tessera/server, @tessera/resource-server and @tessera/protocol tarballs in ${from}, found: ${tarballs.join(', ') || 'none'}`);
  process.exit(2);
}
mkdirSync(join(to, 'tarballs'), { recursive: true });
const dependencies = {};
for (const f of tarballs) {
  copyFileSync(join(from, f), join(to, 'tarballs', f));
  dependencies[`@tessera/${/^tessera-(server|resource-server|protocol)-/.exec(f)[1]}`] = `file:tarballs/${f}`;
}
const pkg = {
  name: 'tessera-deployment',
  private: true,
  type: 'module',
  description: 'Tessera as deployed: the packed packages and their production dependencies',
  dependencies,
  // npm runs no dependency install script unless allowed here: better-sqlite3 fetches or builds its addon.
  allowScripts: { 'better-sqlite3': true },
};
writeFileSync(join(to, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
const r = spawnSync('npm', ['install', '--package-lock-only', '--no-audit', '--no-fund'], { cwd: to, stdio: 'inherit' });
process.exit(r.status ?? 1);
