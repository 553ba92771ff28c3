import autocannon from 'autocannon';

export interface LoadSpec {
  url: string;
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Per-request body or headers (e.g. a fresh code or a token from a pool). */
  next?: () => { body?: string; headers?: Record<string, string> };
  seconds: number;
  connections?: number;
}

export interface LoadResult {
  /** 2xx responses per second: failures never count as throughput. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
}

/** One bounded autocannon run against one server (loopback only). */
export async function load(spec: LoadSpec): Promise<LoadResult> {
  const base = { method: spec.method ?? 'GET', path: spec.path, headers: spec.headers ?? {}, ...(spec.body ? { body: spec.body } : {}) };
  const next = spec.next;
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections ?? 10,
    duration: spec.seconds,
    requests: [
      next
        ? {
          ...base,
          setupRequest: (req: autocannon.Request) => {
            const n = next();
            return { ...req, ...(n.body !== undefined ? { body: n.body } : {}), headers: { ...req.headers, ...n.headers } };
          },
        }
        : base,
    ],
  });
  return {
    rps: result['2xx'] / result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}
