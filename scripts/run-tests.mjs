#!/usr/bin/env node
// Runs every *.test.ts under packages/*/test and examples/*/test (and test/) with node:test via tsx.
// Node 20's --test does not expand globs, so the files are listed here. Extra args filter by substring.
// Servers the tests start bind their management listener (/metrics) to a free port (MANAGEMENT_PORT=0), so
// tests running side by side never collide on the default 9464.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawn } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['packages', 'examples', 'test'];
const files = [];
function walk(dir) {
  let entries;
  try { entries = readdirSync(dir); } catch { return; }
  for (const name of entries) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const r of roots) walk(join(root, r));
const filters = process.argv.slice(2);
const selected = files.filter((f) => filters.length === 0 || filters.some((x) => f.includes(x))).sort();
if (selected.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const child = spawn(
  process.execPath,
  ['--conditions=@tessera/source', '--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...selected],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test', MANAGEMENT_PORT: process.env.MANAGEMENT_PORT ?? '0' } },
);
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
