import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import SQLite from 'better-sqlite3';
import type PG from 'pg';
import type { Database } from './schema.js';
import { migrationProvider, migrations } from './migrations/index.js';
import { ConnectionHealth, failFastPool } from './pg-pool.js';
import { DatabaseConnectError, parseDatabaseUrl, UnsupportedDatabaseUrl, type DatabaseTarget } from './database-url.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
  /**
   * PostgreSQL only: a separate one-connection handle without the request-path timeouts, for schema
   * changes that may legitimately run long (an index on a big table). The caller destroys it.
   */
  unbounded?(): Kysely<Database>;
  /**
   * PostgreSQL only: true once a connection failed, broke or went silent, until a query is answered
   * again. Lets callers that could answer from caches fail closed instead (SECURITY-CHECKLIST "Faults").
   */
  knownDown?(): boolean;
  /** What the URL named (for messages that say which database could not be reached). */
  target?: DatabaseTarget;
}

/**
 * PostgreSQL timeouts on the request path (SECURITY-CHECKLIST "Faults", H5): with the database down
 * or unreachable, /token, /revoke and /introspect must answer 503 promptly rather than hang, and an
 * instance cut off mid-transaction must not hold row locks that block the other instances.
 */
const PG_CONNECT_TIMEOUT_MS = 3000;
/** Client side: no answer on an open connection (a partition, not a refusal) → the connection is dropped. */
const PG_QUERY_TIMEOUT_MS = 5000;
/** Server side: the same bound for statements (SQLSTATE 57014 → 503), and for sessions left idle in a transaction. */
const PG_SESSION_OPTIONS = { statement_timeout: PG_QUERY_TIMEOUT_MS, idle_in_transaction_session_timeout: 2 * PG_QUERY_TIMEOUT_MS };

/**
 * Opens the database named by a URL: `sqlite:<path>` (or a bare path / `file:` URL) for the embedded
 * default, `postgres://…` for PostgreSQL; any other scheme is refused (`UnsupportedDatabaseUrl`). SQLite runs in WAL mode with a busy timeout so several
 * processes can share the file.
 */
export function openDatabase(url: string): Db {
  const target = parseDatabaseUrl(url);
  if (target.dialect === 'postgres') {
    // Loaded only when configured: the SQLite default does not pay pg's memory.
    const pg = createRequire(import.meta.url)('pg') as typeof PG;
    // int8 columns (epoch seconds) come back as numbers, not strings.
    pg.types.setTypeParser(20, (v) => Number(v));
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS, keepAlive: true, ...PG_SESSION_OPTIONS });
    const health = new ConnectionHealth();
    // An idle connection dropped (the database restarted or went away): the next query reconnects or fails.
    pool.on('error', () => health.markDown());
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: failFastPool(pool, PG_QUERY_TIMEOUT_MS, health) }) });
    const unbounded = () => new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS }) }) });
    return { kysely, dialect: 'postgres', close: () => kysely.destroy(), unbounded, knownDown: () => health.down, target };
  }
  const path = target.path;
  let sqlite: SQLite.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = WAL');
  } catch (e) {
    throw new DatabaseConnectError(target, e);
  }
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy(), target };
}

const STATEMENT_CACHE = 500;

/**
 * Kysely's SQLite driver prepares every query afresh; preparing costs several times the lookup itself
 * (bench/RESULTS.md). Statements are cached by SQL text (bounded). Safe because the driver runs each
 * statement to completion synchronously on the one connection, and Tessera never streams a query.
 */
function reusingStatements(db: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (!statement) {
        statement = db.prepare(text);
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
        cache.set(text, statement);
      }
      return statement;
    },
  };
}

/** The SQLite file a database URL names; throws `UnsupportedDatabaseUrl` for a PostgreSQL or unknown URL. */
export function sqlitePath(url: string): string {
  const target = parseDatabaseUrl(url);
  if (target.dialect !== 'sqlite') throw new UnsupportedDatabaseUrl('not an SQLite URL');
  return target.path;
}

/**
 * PostgreSQL: the schema Tessera's tables live in (the first on search_path). Kysely's Migrator looks
 * for its bookkeeping tables in every schema unless told which, so a second deployment (or any other
 * Kysely app) in another schema of the same database made it skip creating ours and then fail.
 */
async function migrationSchema(k: Kysely<Database>, dialect: Dialect): Promise<{ migrationTableSchema?: string }> {
  if (dialect !== 'postgres') {
    await sql`select 1`.execute(k);
    return {};
  }
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(k);
  const schema = rows[0]?.schema;
  if (!schema) throw new Error('no schema on the search_path to keep Tessera\'s tables in');
  return { migrationTableSchema: schema };
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrate(db: Db): Promise<string[]> {
  const target = db.unbounded?.() ?? db.kysely;
  try {
    // The first contact with the database: a failure here is "cannot reach it", named as such.
    const schema = await migrationSchema(target, db.dialect).catch((e: unknown) => {
      throw db.target ? new DatabaseConnectError(db.target, e) : e;
    });
    const migrator = new Migrator({ db: target, provider: migrationProvider, ...schema });
    const { error, results } = await migrator.migrateToLatest();
    if (error) {
      const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
      throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  } finally {
    if (target !== db.kysely) await target.destroy();
  }
}

/** True when the database answers and every known migration is applied. */
export async function isReady(db: Db): Promise<boolean> {
  // One indexed query (it runs for every /readyz, /metrics and outage check), not a catalog scan.
  const names = Object.keys(migrations);
  try {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from kysely_migration where name in (${sql.join(names)})`.execute(db.kysely);
    return Number(rows[0]?.n) === names.length;
  } catch {
    return false;
  }
}
