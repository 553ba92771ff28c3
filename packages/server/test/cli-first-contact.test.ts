import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../src/index.ts';

const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const cli = (args: string[], env: NodeJS.ProcessEnv = {}, cwd?: string) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TESSERA_CONFIG: '', ...env }, cwd });

function problems(overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfig({ env, overrides: overrides as never });
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('tessera --version prints the package version', () => {
  const version = (JSON.parse(readFileSync(join(import.meta.dirname, '../package.json'), 'utf8')) as { version: string }).version;
  const r = cli(['--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), version);
});

test('every command and subcommand has a description in --help', () => {
  /** The rows of the "Commands:" section: name and description (a row whose text wraps continues indented). */
  const commands = (args: string[]) => {
    const r = cli([...args, '--help']);
    assert.equal(r.status, 0, r.stderr);
    const section = r.stdout.split('\nCommands:\n')[1] ?? '';
    return section.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => {
      const [, name, description] = /^ {2}(\S+)(?:\s\S*[\]>])*\s*(.*)$/.exec(l) ?? [];
      return { name: name!, description: description ?? '' };
    });
  };
  const top = commands([]);
  assert.ok(top.length >= 7);
  for (const { name, description } of top) {
    assert.notEqual(description, '', `tessera ${name} has no description`);
    if (name === 'help' || name === 'serve' || name === 'migrate' || name === 'init') continue;
    const subs = commands([name]);
    assert.ok(subs.length, `tessera ${name} has subcommands`);
    for (const s of subs) assert.notEqual(s.description, '', `tessera ${name} ${s.name} has no description`);
  }
});

test('config errors list the allowed values instead of "Expected union value"', () => {
  const found = problems({ logLevel: 'verbose', keys: { algorithm: 'HS256', reloadEvery: '10 s' }, trustProxy: 'yes', clients: [{ id: 'a', type: 'pub', grants: ['client_credentials'], secret: 'x'.repeat(20) }] });
  assert.ok(!found.some((p) => /Expected union value/.test(p)), found.join('\n'));
  assert.ok(found.includes('logLevel: must be one of fatal, error, warn, info, debug, trace, silent (got "verbose")'), found.join('\n'));
  assert.ok(found.includes('keys.algorithm: must be one of RS256, ES256, EdDSA (got "HS256")'), found.join('\n'));
  assert.ok(found.some((p) => /^keys\.reloadEvery: must be a number of seconds, or a number with the unit s, m, h or d/.test(p)), found.join('\n'));
  assert.ok(found.some((p) => /^trustProxy: must be true, false, or a list of/.test(p)), found.join('\n'));
  assert.ok(found.includes('clients.0.type: must be one of confidential, public (got "pub")'), found.join('\n'));
  const permission = problems({ clients: [{ id: 'rs', grants: ['client_credentials'], secret: 'x'.repeat(20), permissions: ['admin'] }] });
  assert.ok(permission.includes('clients.0.permissions.0: must be introspect (got "admin")'), permission.join('\n'));
  // A truncated hash would be accepted and never match; the message says what a whole one looks like.
  const hash = problems({ users: [{ username: 'alice', passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$...' }] });
  assert.ok(hash.some((p) => /^users\.0\.passwordHash: must be a whole argon2id PHC string/.test(p)), hash.join('\n'));
});

test('a missing TLS file is named by its field and path; serve exits 2 with that message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tls-missing-'));
  try {
    writeFileSync(join(dir, 'cert.pem'), 'not checked here');
    const cfg = join(dir, 'tessera.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: dir, port: 0, tls: { cert: './cert.pem', key: './missing-key.pem' } }));
    const r = cli(['--config', cfg, 'serve'], {}, dir);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`tls\\.key: cannot read ${join(dir, 'missing-key.pem').replace(/[.]/g, '\\.')} \\(ENOENT\\)`));
    assert.ok(!/tls\.cert/.test(r.stderr), 'the readable cert is not blamed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TESSERA_DATA_DIR overrides dataDir like the other env overrides', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-data-dir-'));
  const elsewhere = join(dir, 'state');
  try {
    const cfg = join(dir, 'tessera.json');
    writeFileSync(cfg, JSON.stringify({ dataDir: join(dir, 'from-file') }));
    const r = cli(['--config', cfg, 'migrate'], { TESSERA_DATA_DIR: elsewhere, DATABASE_URL: '' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(existsSync(join(elsewhere, 'tessera.db')), 'the database is under TESSERA_DATA_DIR');
    assert.ok(existsSync(join(elsewhere, 'secret')), 'and so is the generated development secret');
    assert.ok(!existsSync(join(dir, 'from-file')), 'the file\'s dataDir is not used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
