import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDatabaseUrl } from '../src/storage/database-url.ts';
import { freePort } from './helpers.ts';

/** Issue 12 item 4: an unknown DATABASE_URL scheme stops the start; connection failures name the database. */
const BIN = join(import.meta.dirname, '../bin/tessera.mjs');
const OVERRIDES = ['PORT', 'HOST', 'TESSERA_ISSUER', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TESSERA_CONFIG', 'TESSERA_SECRET'];

describe('DATABASE_URL through the CLI', () => {
  let dir: string;
  let cfg: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-dburl-'));
    cfg = join(dir, 'tessera.json');
    const port = await freePort();
    writeFileSync(cfg, JSON.stringify({ dataDir: join(dir, 'data'), host: '127.0.0.1', port, issuer: `http://127.0.0.1:${port}`, logLevel: 'warn' }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (databaseUrl: string | undefined, ...args: string[]) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' };
    for (const k of OVERRIDES) delete env[k];
    if (databaseUrl !== undefined) env.DATABASE_URL = databaseUrl;
    // Run from the temporary directory: a URL misread as a relative path would create files here.
    return spawnSync(process.execPath, [BIN, '--config', cfg, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 20_000 });
  };

  test('an unknown scheme stops `serve` and `migrate` with exit code 2 and the supported forms', () => {
    for (const url of ['mysql://user:hunter2@db/tessera', 'postgress://db/tessera', 'postgres:db', 'redis://127.0.0.1:6379']) {
      for (const command of ['serve', 'migrate']) {
        const r = run(url, command);
        assert.equal(r.status, 2, `${url} ${command}: ${r.stdout}${r.stderr}`);
        assert.match(r.stderr, /databaseUrl \(DATABASE_URL\)/);
        assert.match(r.stderr, /sqlite:<path>/);
        assert.match(r.stderr, /postgres:\/\//);
        assert.match(r.stderr, /postgresql:\/\//);
        assert.doesNotMatch(r.stderr, /hunter2/, 'the URL\'s password is never echoed');
      }
    }
    assert.deepEqual(readdirSync(dir).sort(), ['tessera.json'], 'no database file or folder was created');
  });

  test('PostgreSQL that refuses: `could not connect to PostgreSQL at host:port: ECONNREFUSED`, exit 1', async () => {
    const port = await freePort();
    const r = run(`postgres://postgres:hunter2@127.0.0.1:${port}/test`, 'serve');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`could not connect to PostgreSQL at 127\\.0\\.0\\.1:${port}: ECONNREFUSED`));
    assert.doesNotMatch(r.stderr, /hunter2/);
    const m = run(`postgresql://postgres@127.0.0.1:${port}/test`, 'migrate');
    assert.equal(m.status, 1);
    assert.match(m.stderr, /could not connect to PostgreSQL at 127\.0\.0\.1:\d+: ECONNREFUSED/);
  });

  test('an SQLite file that cannot be opened is named', () => {
    writeFileSync(join(dir, 'a-file'), '');
    const r = run(`sqlite:${join(dir, 'a-file', 'tessera.db')}`, 'migrate');
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /could not open SQLite database at .*a-file\/tessera\.db: E[A-Z]+/);
    rmSync(join(dir, 'a-file'));
  });

  test('the documented forms still start', () => {
    for (const url of [`sqlite:${join(dir, 'one.db')}`, join(dir, 'two.db'), `file://${join(dir, 'three.db')}`]) {
      const r = run(url, 'migrate');
      assert.equal(r.status, 0, `${url}: ${r.stderr}`);
    }
    for (const f of ['one.db', 'two.db', 'three.db']) assert.ok(existsSync(join(dir, f)), f);
  });
});

test('parseDatabaseUrl: which strings name which database', () => {
  const cases: [string, string, string][] = [
    ['sqlite:./data/tessera.db', 'sqlite', resolve('data/tessera.db')],
    ['sqlite:///var/lib/t.db', 'sqlite', '/var/lib/t.db'],
    ['sqlite::memory:', 'sqlite', ':memory:'],
    ['./data/tessera.db', 'sqlite', resolve('data/tessera.db')],
    ['data/tessera.db', 'sqlite', resolve('data/tessera.db')],
    ['/var/lib/tessera/tessera.db', 'sqlite', '/var/lib/tessera/tessera.db'],
    ['file:///var/lib/t.db', 'sqlite', '/var/lib/t.db'],
    ['postgres://u:p@db:6543/x', 'postgres', 'db:6543'],
    ['postgresql://db/x', 'postgres', 'db:5432'],
    ['POSTGRES://db/x', 'postgres', 'db:5432'],
    ['postgres://u@/x?host=/var/run/postgresql', 'postgres', '/var/run/postgresql:5432'],
  ];
  for (const [url, dialect, where] of cases) {
    const t = parseDatabaseUrl(url);
    assert.equal(t.dialect, dialect, url);
    assert.equal(t.where, where, url);
  }
  for (const bad of ['mysql://x', 'mysql:x', 'postgress://db/x', 'postgres:db', 'redis://h', 'mongodb+srv://h/x', 'sqlserver://h']) {
    assert.throws(() => parseDatabaseUrl(bad), /supported: sqlite:<path>, file:<path>, .*postgres:\/\/… or postgresql:\/\/…/, bad);
  }
});
