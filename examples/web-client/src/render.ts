import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { Eta } from 'eta';

const views = fileURLToPath(new URL('./views', import.meta.url));
const eta = new Eta({ views, autoEscape: true, cache: true, autoTrim: false });

/**
 * The headers Tessera's own pages send, on every response of this app: a CSP allowing only our own
 * stylesheet and script, no framing, no referrer (the callback URL carries a code), no caching.
 * `formTargets` are the origins our forms may redirect to: Chromium applies `form-action` to the
 * redirects after a POST, and "Sign in" and "Log out" answer with a 303 to the authorization server.
 */
export function securityHeaders(reply: FastifyReply, formTargets: string[]): void {
  reply
    .header('content-security-policy', `default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self' ${formTargets.join(' ')}; frame-ancestors 'none'; base-uri 'none'`)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache');
}

export function sendPage(reply: FastifyReply, template: string, data: Record<string, unknown>, status = 200): FastifyReply {
  const html = eta.render(`./${template}`, { title: 'Tessera demo client', ...data });
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}
