import { lookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/** Why a document (or a key set it names) was not used: for the operator's log, never a 500. */
export class DocumentRefused extends Error {}

export interface FetchPolicy {
  /** Outside production only (tests): loopback addresses, and plain http to them. */
  allowLoopback: boolean;
  /** The whole fetch, DNS to last byte (ms). */
  timeoutMs: number;
  /** Largest body accepted (bytes); a larger one is refused, never truncated. */
  maxBytes: number;
}

export interface Fetched {
  body: unknown;
  /** Seconds from `Cache-Control: max-age`; 0 for `no-store`/`no-cache`; undefined when absent. */
  maxAge: number | undefined;
}

/**
 * True for an address we may connect to: public unicast only; loopback too when allowed (tests). IPv4
 * addresses inside IPv6 (mapped, 6to4, Teredo, NAT64) are not "unicast" to ipaddr.js and are refused.
 */
export function addressAllowed(address: string, allowLoopback: boolean): boolean {
  if (!ipaddr.isValid(address)) return false;
  let a = ipaddr.parse(address);
  if (a.kind() === 'ipv6' && (a as ipaddr.IPv6).isIPv4MappedAddress()) a = (a as ipaddr.IPv6).toIPv4Address();
  const range = a.range();
  return range === 'unicast' || (allowLoopback && range === 'loopback');
}

/**
 * GET a JSON document with the SSRF defences of the CIMD draft (§6): https only (http only to loopback
 * when allowed), the host resolved here and every address checked, the connection made to the checked
 * address (no second resolution an attacker's DNS could answer differently), no redirects, a size cap
 * and one timeout over everything.
 */
export async function fetchJson(url: URL, policy: FetchPolicy): Promise<Fetched> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const https = url.protocol === 'https:';
  if (!https && !(policy.allowLoopback && url.protocol === 'http:')) throw new DocumentRefused('only https URLs are fetched');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const addresses = ipaddr.isValid(host)
    ? [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }]
    : await raceAbort(lookup(host, { all: true, verbatim: true }), deadline).catch((e: unknown) => {
      throw new DocumentRefused(e instanceof DocumentRefused ? e.message : `${host} does not resolve`);
    });
  if (addresses.length === 0) throw new DocumentRefused(`${host} does not resolve`);
  const bad = addresses.find((a) => !addressAllowed(a.address, policy.allowLoopback));
  if (bad) throw new DocumentRefused(`${host} resolves to a non-public address (${bad.address})`);
  if (!https && !addresses.every((a) => ipaddr.parse(a.address).range() === 'loopback')) throw new DocumentRefused('only https URLs are fetched');
  const pinned = addresses[0]!;
  const pin: LookupFunction = (_hostname, options, callback) => {
    if (options.all) (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };

  return new Promise<Fetched>((resolve, reject) => {
    const fail = (e: unknown) => reject(e instanceof DocumentRefused ? e : new DocumentRefused(deadline.aborted ? `no answer within ${policy.timeoutMs} ms` : 'the fetch failed'));
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      lookup: pin,
      agent: false,
      signal: deadline,
    }, (res: IncomingMessage) => {
      // §6: redirects are not followed (each would need the checks again; the draft forbids them).
      if (res.statusCode !== 200) {
        res.destroy();
        return fail(new DocumentRefused(res.statusCode! >= 300 && res.statusCode! < 400 ? 'the document URL redirects' : `status ${res.statusCode}`));
      }
      const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') {
        res.destroy();
        return fail(new DocumentRefused('the document is not application/json'));
      }
      if (Number(res.headers['content-length'] ?? 0) > policy.maxBytes) {
        res.destroy();
        return fail(new DocumentRefused(`the document is larger than ${policy.maxBytes} bytes`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) {
          res.destroy(new DocumentRefused(`the document is larger than ${policy.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', fail);
      res.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)));
        } catch {
          return fail(new DocumentRefused('the document is not valid JSON'));
        }
        resolve({ body, maxAge: maxAgeOf(res.headers['cache-control']) });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

/** RFC 9111 §5.2.2: `no-store`/`no-cache` → 0, else `max-age` when present. */
export function maxAgeOf(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const directives = header.toLowerCase().split(',').map((d) => d.trim());
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return 0;
  const m = directives.map((d) => /^max-age=(\d{1,10})$/.exec(d)).find((x) => x);
  return m ? Number(m[1]) : undefined;
}

async function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DocumentRefused('DNS lookup timed out'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
