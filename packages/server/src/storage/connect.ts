import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.js';
import { migrationProvider, migrations } from './migrations/index.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the database named by a URL: `sqlite:<path>` (or a bare path / `file:` URL) for the embedded
 * default, `postgres://…` for PostgreSQL. SQLite runs in WAL mode with a busy timeout so several
 * processes can share the file.
 */
export function openDatabase(url: string): Db {
  if (/^postgres(ql)?:\/\//.test(url)) {
    // int8 columns (epoch seconds) come back as numbers, not strings.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 3000 });
    pool.on('error', () => {
      /* idle client errors surface on the next query; /readyz reports them */
    });
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
  }
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
}

export function sqlitePath(url: string): string {
  if (url.startsWith('sqlite:')) return resolveFile(url.slice('sqlite:'.length).replace(/^\/\//, ''));
  if (url.startsWith('file:')) return new URL(url).pathname;
  return resolveFile(url);
}

function resolveFile(p: string): string {
  return p === ':memory:' ? p : resolve(p);
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrate(db: Db): Promise<string[]> {
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** True when the database answers and every known migration is applied. */
export async function isReady(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db.kysely);
    const migrator = new Migrator({ db: db.kysely, provider: migrationProvider });
    const applied = (await migrator.getMigrations()).filter((m) => m.executedAt !== undefined).length;
    return applied === Object.keys(migrations).length;
  } catch {
    return false;
  }
}
