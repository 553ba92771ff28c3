import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequest } from '@tessera/protocol';
import type { RawParams } from '../../engine/params.js';
import type { Outcome } from '../../engine/authorize/flow.js';
import { parseForm } from '../form.js';
import { isForm } from './token.js';
import { Forbidden } from '../pages/errors.js';
import { securityHeaders } from '../pages/render.js';

/** The query string, parsed strictly (repeated names kept as arrays, empty values dropped). */
export function queryParams(request: FastifyRequest): RawParams {
  const q = request.url.indexOf('?');
  return q < 0 ? (Object.create(null) as RawParams) : parseForm(request.url.slice(q + 1));
}

/** A form-encoded POST body; anything else is rejected. */
export function formBody(request: FastifyRequest): RawParams {
  if (!isForm(request.headers['content-type'])) throw new InvalidRequest('expected a form submission');
  return (request.body ?? Object.create(null)) as RawParams;
}

/** One value of a form field; a repeated field counts as absent. */
export function field(params: RawParams, name: string): string | undefined {
  const v = params[name];
  return typeof v === 'string' ? v : undefined;
}

/**
 * Defence in depth for state-changing form posts (login, consent, logout confirmation; A16), before
 * the CSRF token is checked: a request the browser marks as cross-site or same-site (a sibling
 * sub-domain is not us), or with a foreign Origin, is refused. `Origin: null` (sandboxed frames,
 * `data:` pages, opaque origins) is refused too — except together with `Sec-Fetch-Site: same-origin`,
 * which only the browser can set: that pair is what browsers send for POSTs from our own
 * `Referrer-Policy: no-referrer` pages (A14; Fetch §3.2.5 serialises the origin as null then).
 */
export function assertSameOrigin(request: FastifyRequest, issuer: string): void {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new Forbidden(`Sec-Fetch-Site: ${String(site).slice(0, 20)}`);
  const origin = request.headers.origin;
  if (origin === 'null') {
    if (site !== 'same-origin') throw new Forbidden('Origin: null without Sec-Fetch-Site: same-origin');
  } else if (origin !== undefined && origin !== new URL(issuer).origin) throw new Forbidden('foreign Origin');
}

/** 303 See Other (A12: never 307 after a POST with credentials), with page headers. */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  securityHeaders(reply);
  return reply.code(303).header('location', location).send();
}

/** Sends an authorization-flow outcome: the client redirect, or the next page of the interaction. */
export function sendOutcome(reply: FastifyReply, outcome: Outcome): FastifyReply {
  if (outcome.kind === 'redirect') return seeOther(reply, outcome.location);
  const page = outcome.kind === 'enrol' ? '/mfa/totp/setup' : `/${outcome.kind}`;
  return seeOther(reply, `${page}?iid=${encodeURIComponent(outcome.interactionId)}`);
}
