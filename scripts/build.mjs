#!/usr/bin/env node
// `npm run build` (and `prepare`, so `npm install` on a clone ends ready to run): compiles every package
// with project references (tsc -b: ES modules, .d.ts, source maps into each package's dist/), then copies
// the files tsc does not emit (page templates, CSS, browser scripts) next to the compiled modules, and the
// root LICENSE into each publishable package. `--clean` removes every dist/ first.
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const root = new URL('..', import.meta.url).pathname;
const PACKAGES = ['protocol', 'resource-server', 'server'];
/** Source trees whose non-TypeScript files are needed at run time, and where their compiled output lives. */
const ASSET_TREES = [
  ...PACKAGES.map((p) => [`packages/${p}/src`, `packages/${p}/dist`]),
  ['examples/web-client/src', 'dist/demo/examples/web-client/src'],
  ['examples/orders-api/src', 'dist/demo/examples/orders-api/src'],
];

if (process.argv.includes('--clean')) {
  for (const p of PACKAGES) rmSync(join(root, 'packages', p, 'dist'), { recursive: true, force: true });
  rmSync(join(root, 'dist'), { recursive: true, force: true });
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);

const isAsset = (name) => !/\.(ts|tsx|mts|cts)$/.test(name);
for (const [from, to] of ASSET_TREES) {
  const src = join(root, from);
  if (!existsSync(src)) continue;
  const walk = (dir) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (isAsset(name)) cpSync(p, join(root, to, relative(src, p)));
    }
  };
  walk(src);
}
for (const p of PACKAGES) cpSync(join(root, 'LICENSE'), join(root, 'packages', p, 'LICENSE'));
