import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { createTessera, loadConfig, type Tessera } from '../../src/index.ts';
import type { RawConfig } from '../../src/config/schema.ts';
import { freePort } from '../helpers.ts';

/** The machine's shared Redis (never flushed as a whole: other test files use it). */
export const REDIS_URL = process.env.TESSERA_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A deployment secret shared by every instance of one test cluster, so all can decrypt the keys. */
export function clusterSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Log lines written by an instance (pino JSON), for asserting on warnings. */
export class LogCapture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ msg: line });
      }
    }
    done();
  }

  count(msg: RegExp): number {
    return this.lines.filter((l) => typeof l.msg === 'string' && msg.test(l.msg)).length;
  }

  /** The whole log as text (to check that no credential reached it). */
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export interface InstanceOptions {
  databaseUrl: string;
  redisUrl?: string;
  secret: string;
  /** Default: the instance's own URL. Nodes behind one load balancer share one issuer. */
  issuer?: string;
  port?: number;
  overrides?: Partial<RawConfig>;
  /** Capture warn-and-above log lines here instead of discarding logs. */
  log?: LogCapture;
}

export interface Instance {
  url: string;
  port: number;
  tessera: Tessera;
  /** The management listener (/metrics). */
  managementUrl: string;
  stop(): Promise<void>;
}

/** One Tessera node on 127.0.0.1 sharing `databaseUrl` (and Redis) with its peers. */
export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const port = o.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-node-'));
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: {
      issuer: o.issuer ?? url,
      host: '127.0.0.1',
      dataDir,
      logLevel: o.log ? 'warn' : 'silent',
      databaseUrl: o.databaseUrl,
      ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}),
      management: { port: 0, host: '127.0.0.1' },
      ...o.overrides,
      port,
    },
  });
  const tessera = await createTessera(config, o.log ? { env: { TESSERA_SECRET: o.secret }, logStream: o.log } : { logger: false, env: { TESSERA_SECRET: o.secret } });
  await tessera.listen();
  let stopped = false;
  return {
    url,
    port,
    tessera,
    managementUrl: tessera.managementUrl() ?? '',
    async stop() {
      if (stopped) return;
      stopped = true;
      await tessera.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A Redis database of its own (1–15, random) on the shared server: a test may FLUSHDB it without
 * touching what other test files keep in theirs. (Pub/sub channels are server-wide, not per database.)
 */
export async function redisDatabase(base = REDIS_URL): Promise<{ url: string; db: number; flush(): Promise<void>; close(): Promise<void> }> {
  const db = randomInt(1, 16);
  const url = `${base.replace(/\/\d*$/, '')}/${db}`;
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  return {
    url,
    db,
    async flush() {
      await admin.flushdb();
    },
    async close() {
      admin.disconnect();
    },
  };
}

/** Polls `check` until it returns true or `ms` pass; resolves with whether it did and how long it took. */
export async function waitFor(check: () => Promise<boolean> | boolean, ms: number, every = 25): Promise<{ ok: boolean; elapsed: number }> {
  const started = Date.now();
  for (;;) {
    if (await check()) return { ok: true, elapsed: Date.now() - started };
    if (Date.now() - started >= ms) return { ok: false, elapsed: Date.now() - started };
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The `jti` of a JWT (not verified: the tests only use it as a name). */
export function jtiOf(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
}
