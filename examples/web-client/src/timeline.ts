import { maskAuthorization, maskBody, maskParams, maskUrl } from './mask.js';

/** One HTTP exchange made by the app (back channel) or a redirect it sent the browser through (front channel). */
export interface Exchange {
  seq: number;
  at: string;
  channel: 'back' | 'front';
  step: string;
  method: string;
  /** Credential query parameters masked. */
  url: string;
  status: number | undefined;
  requestHeaders: [string, string][];
  requestBody: string;
  responseHeaders: [string, string][];
  /** JSON pretty-printed, credentials masked. */
  responseBody: string;
  ms: number | undefined;
}

const REQUEST_HEADERS = ['authorization', 'content-type', 'accept'];
const RESPONSE_HEADERS = ['content-type', 'cache-control', 'www-authenticate', 'location', 'retry-after', 'deprecation'];
const MAX_ENTRIES = 200;

/** The exchanges of one browser session, oldest first (the newest MAX_ENTRIES kept). */
export class Timeline {
  readonly entries: Exchange[] = [];
  #seq = 0;

  add(entry: Omit<Exchange, 'seq' | 'at'>): Exchange {
    const full = { seq: ++this.#seq, at: new Date().toISOString(), ...entry };
    this.entries.push(full);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    return full;
  }

  /** A redirect the app sends the browser through, or one the browser brings back. */
  front(step: string, method: string, url: string, status?: number): Exchange {
    return this.add({ channel: 'front', step, method, url: maskUrl(url), status, requestHeaders: [], requestBody: '', responseHeaders: [], responseBody: '', ms: undefined });
  }

  get last(): Exchange | undefined {
    return this.entries.at(-1);
  }
}

type FetchInit = { method?: string; headers?: Record<string, string>; body?: unknown; redirect?: 'manual' | 'follow' | 'error'; signal?: AbortSignal | null };

/**
 * A `fetch` that records every request and response in `timeline` (credentials masked). `step`
 * names the exchange from its URL and body (e.g. "token: refresh_token").
 */
export function recordingFetch(timeline: Timeline, step: (url: URL, body: URLSearchParams | undefined) => string) {
  return async (input: string | URL, init: FetchInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const headers = new Headers(init.headers);
    const form = formOf(init.body);
    const started = performance.now();
    const response = await fetch(url, init as RequestInit);
    const text = await response.clone().text();
    timeline.add({
      channel: 'back',
      step: step(url, form),
      method: init.method ?? 'GET',
      url: maskUrl(url.href),
      status: response.status,
      requestHeaders: pick(headers, REQUEST_HEADERS).map(([k, v]) => [k, k === 'authorization' ? maskAuthorization(v) : v]),
      requestBody: form ? maskParams(form) : typeof init.body === 'string' ? maskBody(init.body) : '',
      responseHeaders: pick(response.headers, RESPONSE_HEADERS),
      responseBody: maskBody(text),
      ms: Math.round(performance.now() - started),
    });
    return response;
  };
}

function formOf(body: unknown): URLSearchParams | undefined {
  if (body instanceof URLSearchParams) return body;
  if (typeof body === 'string' && /^[\w.~%+-]+=/.test(body)) return new URLSearchParams(body);
  return undefined;
}

function pick(headers: Headers, names: string[]): [string, string][] {
  return names.flatMap((n) => {
    const v = headers.get(n);
    return v === null ? [] : [[n, v] as [string, string]];
  });
}
