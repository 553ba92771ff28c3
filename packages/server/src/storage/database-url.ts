import { resolve } from 'node:path';

/** What `databaseUrl` / `DATABASE_URL` names: a PostgreSQL server or an SQLite file. */
export type DatabaseTarget =
  | { dialect: 'postgres'; url: string; /** `host:port`, for messages (never the credentials). */ where: string }
  | { dialect: 'sqlite'; path: string; where: string };

/** The forms the README documents, for the message that refuses anything else. */
export const SUPPORTED_DATABASE_URLS = 'sqlite:<path>, file:<path>, a plain file path (./data/tessera.db, /var/lib/tessera/tessera.db), postgres://… or postgresql://…';

export class UnsupportedDatabaseUrl extends Error {
  constructor(detail: string) {
    super(`${detail}; supported: ${SUPPORTED_DATABASE_URLS}`);
    this.name = 'UnsupportedDatabaseUrl';
  }
}

/**
 * Classifies a database URL. A string without a URL scheme is a file path (SQLite); `sqlite:` and
 * `file:` are SQLite too; `postgres://` and `postgresql://` are PostgreSQL. Any other scheme
 * (`mysql://`, a typo such as `postgress://`) is refused: taken as a path it would quietly give each
 * instance a database of its own.
 */
export function parseDatabaseUrl(url: string): DatabaseTarget {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url)?.[1]?.toLowerCase();
  // No scheme, or a Windows drive letter (C:\…): a file path.
  if (scheme === undefined || /^[A-Za-z]:[\\/]/.test(url)) return sqliteFile(url);
  if (scheme === 'sqlite') return sqliteFile(url.slice('sqlite:'.length).replace(/^\/\//, ''));
  if (scheme === 'file') return sqliteFile(new URL(url).pathname);
  if (scheme === 'postgres' || scheme === 'postgresql') {
    if (!/^[A-Za-z]+:\/\//.test(url)) throw new UnsupportedDatabaseUrl(`a ${scheme} URL starts with ${scheme}://`);
    return { dialect: 'postgres', url, where: postgresWhere(url) };
  }
  throw new UnsupportedDatabaseUrl(`unsupported database URL scheme "${scheme.slice(0, 20)}:"`);
}

function sqliteFile(p: string): DatabaseTarget {
  const path = p === ':memory:' ? p : resolve(p);
  return { dialect: 'sqlite', path, where: path };
}

/** `host:port` of a PostgreSQL URL, credentials left out (a `host=` query parameter, e.g. a socket directory, wins). */
function postgresWhere(url: string): string {
  const rest = url.replace(/^[A-Za-z]+:\/\//, '');
  const authority = rest.split(/[/?#]/)[0] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
  const query = new URLSearchParams(rest.includes('?') ? rest.slice(rest.indexOf('?') + 1) : '');
  const host = query.get('host') || m?.[1] || 'localhost';
  const port = query.get('port') || m?.[2] || '5432';
  return `${host}:${port}`;
}

/**
 * A failure to reach the database at start, named: `could not connect to PostgreSQL at db:5432:
 * ECONNREFUSED`, `could not open SQLite database at /data/tessera.db: SQLITE_CANTOPEN`.
 */
export class DatabaseConnectError extends Error {
  constructor(target: DatabaseTarget, cause: unknown) {
    const e = cause as { code?: unknown; message?: unknown; errors?: { code?: unknown }[] } | undefined;
    const code = typeof e?.code === 'string' ? e.code : typeof e?.errors?.[0]?.code === 'string' ? e.errors[0].code : undefined;
    // Network errors say it best by code (ECONNREFUSED, ENOTFOUND); PostgreSQL's own by message
    // ("password authentication failed for user …", "database … does not exist").
    const reason = code && /^E[A-Z]+$|^SQLITE_/.test(code) ? code : typeof e?.message === 'string' && e.message ? e.message : code ?? String(cause);
    super(target.dialect === 'postgres'
      ? `could not connect to PostgreSQL at ${target.where}: ${reason}`
      : `could not open SQLite database at ${target.where}: ${reason}`, { cause });
    this.name = 'DatabaseConnectError';
  }
}
