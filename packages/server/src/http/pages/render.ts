import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { Eta } from 'eta';

const views = fileURLToPath(new URL('./views', import.meta.url));
const eta = new Eta({ views, autoEscape: true, cache: true, autoTrim: false });

export interface PageOptions {
  status?: number;
  /** Where forms on this page may lead (redirect targets after the POST), besides 'self'. */
  formTargets?: string[];
  /** An image origin besides 'self' (a metadata-document client's logo from its own origin). */
  imageOrigin?: string;
}

/**
 * Renders a server-side page (no JavaScript needed) with the headers every Tessera page sends
 * (SECURITY-CHECKLIST A13, A14): a CSP that allows only our own stylesheet and forbids framing,
 * `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, `Cache-Control: no-store`.
 */
export function sendPage(reply: FastifyReply, template: string, data: Record<string, unknown>, options: PageOptions = {}): FastifyReply {
  const html = eta.render(`./${template}`, { title: 'Tessera', ...data });
  securityHeaders(reply, options.formTargets ?? [], options.imageOrigin);
  return reply.code(options.status ?? 200).type('text/html; charset=utf-8').send(html);
}

/** Headers for pages and for redirects that carry codes or errors. */
export function securityHeaders(reply: FastifyReply, formTargets: string[] = [], imageOrigin?: string): void {
  // Chromium applies form-action to the redirects that follow a form POST, so the client's redirect
  // target must be listed or the final 303 to the application would be blocked.
  const targets = ["'self'", ...formTargets.map(cspSource).filter((s): s is string => s !== undefined)];
  reply
    .header('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self'${imageOrigin ? ` ${imageOrigin}` : ''}; form-action ${[...new Set(targets)].join(' ')}; frame-ancestors 'none'; base-uri 'none'`)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache');
}

/** A CSP source expression for a URI's origin (scheme-only for private-use schemes), or undefined. */
function cspSource(uri: string): string | undefined {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return undefined;
  }
  const source = u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol;
  return /^[A-Za-z0-9.+\-:/[\]]+$/.test(source) ? source : undefined;
}
