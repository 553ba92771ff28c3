import type pg from 'pg';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/** A query that got no answer in time: the connection is treated as dead (mapped to 503, never retried on it). */
export class DatabaseTimeout extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(ms: number) {
    super(`database did not answer within ${ms} ms`);
    this.name = 'DatabaseTimeout';
  }
}

/** What the pool has seen of the database: down after a connection failed or went silent, up after an answer. */
export class ConnectionHealth {
  #down = false;
  get down(): boolean {
    return this.#down;
  }
  markDown(): void {
    this.#down = true;
  }
  markUp(): void {
    this.#down = false;
  }
}

/**
 * Wraps a pg pool so a dropped connection never crashes the process, and a request never waits on a
 * silent database longer than `queryTimeoutMs`
 * (SECURITY-CHECKLIST "Faults": fail closed promptly with 503, not hang). A network partition gives no
 * error at all — the socket just stays quiet — so each query races a timer; when the timer wins, the
 * client is marked broken, refuses further queries (a transaction's ROLLBACK fails at once instead of
 * waiting again), and is destroyed instead of returned to the pool when released.
 */
export function failFastPool(pool: pg.Pool, queryTimeoutMs: number, health: ConnectionHealth): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        health.markDown();
        throw e;
      }
      let broken: Error | undefined;
      // pg emits 'error' on a checked-out client whose connection drops (the database restarted) and
      // the pool listens only while the client is idle: without this the process dies of an
      // uncaught exception. The running query fails with the same error; the client is then discarded.
      const onError = (e: Error) => {
        broken ??= e;
        health.markDown();
      };
      client.on('error', onError);
      const query = async (sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<unknown>> => {
        if (broken) throw broken;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            health.markDown();
            reject((broken = new DatabaseTimeout(queryTimeoutMs)));
          }, queryTimeoutMs);
        });
        try {
          const result = (await Promise.race([client.query(sql, parameters as unknown[]), timeout])) as PostgresQueryResult<unknown>;
          health.markUp();
          return result;
        } finally {
          clearTimeout(timer);
        }
      };
      return {
        query: query as PostgresPoolClient['query'],
        release: (destroy?: boolean) => {
          client.removeListener('error', onError);
          client.release(broken ?? destroy);
        },
      };
    },
    end: () => pool.end(),
  };
}
