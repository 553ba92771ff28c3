import { setTimeout as sleep } from 'node:timers/promises';
import { TemporarilyUnavailable } from '@tessera/protocol';
import { basicAuth, fetchJson, isObject } from '../http-client.js';
import { SseParser, type SseEvent } from './sse.js';
import type { Denylist } from './denylist.js';

export interface FeedOptions {
  /** `${issuer}/revocations`; the stream is `${url}/stream`. */
  url: string;
  clientId: string;
  clientSecret: string;
  fetch: typeof fetch;
  onRevoked: (jti: string) => void;
  onError: (error: unknown, context: string) => void;
  /** Reconnect backoff: first delay and cap, ms. */
  backoffMs?: [number, number];
  /** Abort and reconnect when the stream is silent this long (heartbeats count), ms. */
  idleMs?: number;
}

/**
 * Subscribes to Tessera's revocation feed (DESIGN §3): `GET /revocations[?since=cursor]` for the
 * current denylist, then `GET /revocations/stream` (SSE, `Last-Event-ID` resume). On any drop it
 * reconnects with exponential backoff, re-reading the list since the last cursor first.
 */
export class FeedSubscriber {
  private cursor: string | undefined;
  private synced = false;
  private readonly stop = new AbortController();
  private readonly firstAttempt: Promise<void>;
  private settleFirst!: () => void;
  private readonly loop: Promise<void>;
  private readonly auth: string;

  constructor(private readonly o: FeedOptions, private readonly denylist: Denylist) {
    this.auth = basicAuth(o.clientId, o.clientSecret);
    this.firstAttempt = new Promise((r) => (this.settleFirst = r));
    this.loop = this.run();
  }

  /** Throws TemporarilyUnavailable (503) until the first denylist has been loaded: fail closed. */
  async ready(): Promise<void> {
    if (this.synced) return;
    await this.firstAttempt;
    if (!this.synced) throw new TemporarilyUnavailable('token status is temporarily unavailable', { retryAfter: 5, debug: 'revocation feed not yet synchronised' });
  }

  async close(): Promise<void> {
    this.stop.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const [first, cap] = this.o.backoffMs ?? [250, 30_000];
    let attempt = 0;
    while (!this.stop.signal.aborted) {
      try {
        await this.sync();
        this.synced = true;
        this.settleFirst();
        await this.stream(() => (attempt = 0));
      } catch (e) {
        this.settleFirst();
        if (!this.stop.signal.aborted) this.o.onError(e, 'revocation feed');
      }
      const delay = Math.min(cap, first * 2 ** attempt++) * (0.5 + Math.random() / 2);
      await sleep(delay, undefined, { signal: this.stop.signal }).catch(() => {});
    }
  }

  private async sync(): Promise<void> {
    const url = this.cursor === undefined ? this.o.url : `${this.o.url}?since=${encodeURIComponent(this.cursor)}`;
    const t = this.linked(5000);
    const body = await fetchJson(this.o.fetch, url, { headers: { authorization: this.auth }, signal: t.signal }).finally(t.dispose);
    if (!isObject(body) || !Array.isArray(body.revocations) || typeof body.cursor !== 'string') throw new Error('malformed revocation list');
    for (const r of body.revocations) this.apply(r);
    this.cursor = body.cursor;
  }

  private apply(r: unknown): void {
    if (!isObject(r) || typeof r.jti !== 'string' || typeof r.exp !== 'number') return this.o.onError(new Error('malformed revocation entry'), 'revocation feed');
    this.denylist.add(r.jti, r.exp);
    this.o.onRevoked(r.jti);
  }

  /** A signal aborted by close() or after `ms` without `reset()` (no AbortSignal.any: it can lose aborts on Node 20). */
  private linked(ms: number): { signal: AbortSignal; reset: () => void; dispose: () => void } {
    const ac = new AbortController();
    const abort = () => ac.abort();
    this.stop.signal.addEventListener('abort', abort, { once: true });
    if (this.stop.signal.aborted) ac.abort();
    let timer = setTimeout(abort, ms);
    return {
      signal: ac.signal,
      reset: () => (clearTimeout(timer), (timer = setTimeout(abort, ms))),
      dispose: () => (clearTimeout(timer), this.stop.signal.removeEventListener('abort', abort)),
    };
  }

  private async stream(onOpen: () => void): Promise<void> {
    const idle = this.linked(this.o.idleMs ?? 60_000);
    const headers: Record<string, string> = { accept: 'text/event-stream', authorization: this.auth };
    if (this.cursor !== undefined) headers['last-event-id'] = this.cursor;
    try {
      const res = await this.o.fetch(`${this.o.url}/stream`, { headers, redirect: 'error', signal: idle.signal });
      if (!res.ok || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
        await res.body?.cancel();
        throw new Error(`revocation stream answered ${res.status}`);
      }
      onOpen();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      // Cancel the read directly on abort: a pending read() does not always settle on Node 20 otherwise.
      idle.signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
      while (!idle.signal.aborted) {
        const { value, done } = await reader.read();
        if (done) return;
        idle.reset();
        let events: SseEvent[];
        try {
          events = parser.push(decoder.decode(value, { stream: true }));
        } catch (e) {
          // A runaway event (over the parser's buffer bound): drop this connection, then reconnect.
          await reader.cancel().catch(() => {});
          throw e;
        }
        for (const ev of events) this.event(ev);
      }
    } finally {
      idle.dispose();
    }
  }

  private event(ev: SseEvent): void {
    if (ev.type === 'revoked') {
      let data: unknown;
      try {
        data = JSON.parse(ev.data);
      } catch {
        data = undefined;
      }
      this.apply(data);
    }
    if (ev.id !== undefined) this.cursor = ev.id;
  }
}
