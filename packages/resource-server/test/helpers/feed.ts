// A stand-in for Tessera's revocation feed contract (GET /revocations[?since], GET /revocations/stream SSE)
// and RFC 7662 introspection, mounted on a TestIssuer. Replace with the real AS once it lands.
import type { ServerResponse } from 'node:http';
import { json, type TestIssuer } from './issuer.ts';

export const RS_CLIENT = { clientId: 'orders-api', clientSecret: 's3cret:with/odd chars' };
const expectedAuth = `Basic ${Buffer.from(`orders-api:${encodeURIComponent(RS_CLIENT.clientSecret).replace(/%20/g, '+')}`).toString('base64')}`;

export interface FeedServer {
  /** Adds a revocation and pushes it to connected streams (unless silent). */
  revoke(jti: string, exp: number, silent?: boolean): void;
  /** Destroys every open stream (simulates a dropped connection). */
  dropStreams(): void;
  streams: Set<ServerResponse>;
  /** Query `since` of each GET /revocations ('' when absent). */
  sinces: string[];
  /** Last-Event-ID of each stream connection ('' when absent). */
  lastEventIds: string[];
  /** When set, every feed request answers this status. */
  failWith: number | undefined;
  /** Tokens /introspect reports inactive, and the number of introspection calls. */
  inactive: Set<string>;
  introspections: number;
}

export function mountFeed(issuer: TestIssuer): FeedServer {
  const log: { jti: string; exp: number }[] = [];
  const cursor = () => `c-${log.length}`;
  const feed: FeedServer = {
    streams: new Set(),
    sinces: [],
    lastEventIds: [],
    failWith: undefined,
    inactive: new Set(),
    introspections: 0,
    revoke(jti, exp, silent = false) {
      log.push({ jti, exp });
      if (!silent) for (const s of feed.streams) s.write(`id: ${cursor()}\nevent: revoked\ndata: ${JSON.stringify({ jti, exp })}\n\n`);
    },
    dropStreams() {
      for (const s of feed.streams) s.destroy();
      feed.streams.clear();
    },
  };
  issuer.extra = (req, res, body) => {
    const url = new URL(req.url ?? '', issuer.url);
    if (req.headers.authorization !== expectedAuth) return json(res, 401, { error: 'invalid_client' });
    if (feed.failWith) return json(res, feed.failWith, {});
    if (url.pathname === '/revocations') {
      const since = url.searchParams.get('since');
      feed.sinces.push(since ?? '');
      const from = since ? Number(since.slice(2)) : 0;
      return json(res, 200, { revocations: log.slice(from), cursor: cursor() });
    }
    if (url.pathname === '/revocations/stream') {
      feed.lastEventIds.push(String(req.headers['last-event-id'] ?? ''));
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': connected\n\n');
      feed.streams.add(res);
      res.on('close', () => feed.streams.delete(res));
      return;
    }
    if (url.pathname === '/introspect' && req.method === 'POST') {
      feed.introspections++;
      const token = new URLSearchParams(body).get('token') ?? '';
      return json(res, 200, feed.inactive.has(token) ? { active: false } : { active: true });
    }
    json(res, 404, {});
  };
  return feed;
}

/** Polls until `check` passes or `ms` elapse. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
