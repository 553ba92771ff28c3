import type { FastifyRequest } from 'fastify';
import type { RawParams } from '../../engine/params.js';
import type { PendingInteraction } from '../../engine/authorize/flow.js';
import type { BrowserDeps } from '../browser-deps.js';
import { Forbidden } from '../pages/errors.js';
import { assertSameOrigin, field, formBody } from './browser-util.js';

export interface InteractionPost {
  body: RawParams;
  browser: string;
  session: string | undefined;
  pending: PendingInteraction;
}

/**
 * The checks every form POST of a pending authorization (login, consent) passes first (A16): same
 * origin, the browser cookie the interaction was started with, and a CSRF token bound to browser,
 * session, purpose and interaction. Anything else is 403.
 */
export async function interactionPost(request: FastifyRequest, deps: BrowserDeps, issuer: string, purpose: 'login' | 'consent' | 'mfa'): Promise<InteractionPost> {
  assertSameOrigin(request, issuer);
  const body = formBody(request);
  const browser = deps.cookies.existingBrowser(request);
  const session = deps.cookies.session(request);
  if (browser === undefined) throw new Forbidden('no browser cookie');
  const pending = await deps.flow.pending(field(body, 'iid'), { id: browser, session });
  if (!deps.csrf.verify(field(body, 'csrf'), purpose, browser, session, pending.id)) throw new Forbidden('bad CSRF token');
  return { body, browser, session, pending };
}
