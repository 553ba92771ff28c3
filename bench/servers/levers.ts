import { createRequire } from 'node:module';

/**
 * Experiments only (`--levers=…`): measures a proposed optimisation of Tessera without editing
 * packages/. Never used by the default run.
 *   stmt-cache: better-sqlite3 statements reused per SQL string (Kysely's SQLite driver prepares
 *               every query afresh), as `storage/connect.ts` could do with a memoising wrapper.
 *   wal-4000:   `PRAGMA wal_autocheckpoint = 4000` (default 1000 pages): fewer, larger checkpoints.
 */
export function applyLevers(levers: string[]): void {
  // The better-sqlite3 instance Tessera itself loads (root node_modules).
  const require = createRequire(new URL('../../packages/server/src/storage/connect.ts', import.meta.url));
  const Database = require('better-sqlite3') as { prototype: { prepare(sql: string): unknown; pragma(s: string): unknown } };
  if (levers.includes('wal-4000')) {
    const pragma = Database.prototype.pragma;
    Database.prototype.pragma = function patchedPragma(this: object, s: string) {
      const r = pragma.call(this, s);
      if (/journal_mode\s*=\s*WAL/i.test(s)) pragma.call(this, 'wal_autocheckpoint = 4000');
      return r;
    };
  }
  if (levers.includes('stmt-cache')) {
    const prepare = Database.prototype.prepare;
    const caches = new WeakMap<object, Map<string, unknown>>();
    Database.prototype.prepare = function cachedPrepare(this: object, sql: string) {
      let cache = caches.get(this);
      if (!cache) caches.set(this, (cache = new Map()));
      let stmt = cache.get(sql);
      if (!stmt) {
        stmt = prepare.call(this, sql);
        if (cache.size >= 500) cache.delete(cache.keys().next().value!);
        cache.set(sql, stmt);
      }
      return stmt;
    };
  }
}
