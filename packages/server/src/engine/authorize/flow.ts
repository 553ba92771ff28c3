import { AccessDenied, InvalidRequest, OAuthError } from '@tessera/protocol';
import type { EngineContext } from '../context.js';
import type { RawParams } from '../params.js';
import type { Client, Interaction, Session, User } from '../../storage/stores.js';
import type { SessionManager } from '../sessions/session-manager.js';
import { isRandomToken, randomToken, sha256 } from '../sessions/secrets.js';
import { AuthorizationError } from './errors.js';
import { decide } from './decide.js';
import { issueCode } from './issue-code.js';
import type { AuthorizationRequest } from './request.js';
import { resolveAuthorizationRequest } from '../par/index.js';
import { errorResponseUri } from './response.js';
import { mfaRequired } from '../mfa/policy.js';

/** The browser's cookies: a random browser id (always set by the HTTP layer) and the session, if any. */
export interface Browser {
  id: string;
  session: string | undefined;
}

export type Outcome = { kind: 'redirect'; location: string } | { kind: 'login' | 'consent' | 'enrol'; interactionId: string };

/** A pending authorization request, loaded for a page. */
export interface PendingInteraction {
  id: string;
  interaction: Interaction;
  request: AuthorizationRequest;
  client: Client;
  session: Session | undefined;
}

/** How long a user has to sign in and approve before the request must be restarted. */
const INTERACTION_TTL = 15 * 60;

/**
 * The authorization endpoint's processing (RFC 6749 §4.1; OIDC Core §3.1.2) across the pages it may
 * need: validate → decide (sign in? consent?) → issue a code. The pending request is stored server-side
 * as an *interaction*, bound to the browser that started it, single use.
 */
export class AuthorizationFlow {
  constructor(
    private readonly ctx: EngineContext,
    private readonly sessions: SessionManager,
  ) {}

  async start(raw: RawParams, browser: Browser): Promise<Outcome> {
    // RFC 9126 §4: a pushed request (request_uri) or a direct one, where PAR is not required.
    const { client, request } = await resolveAuthorizationRequest(raw, this.ctx);
    const session = await this.sessions.load(browser.session);
    return this.#proceed(client, request, session, undefined, browser);
  }

  async resume(interactionId: string | undefined, browser: Browser): Promise<Outcome> {
    const p = await this.pending(interactionId, browser);
    return this.#proceed(p.client, p.request, p.session, p, browser);
  }

  /** Loads the interaction for a page; an unknown, expired or foreign one is a page error (never a redirect). */
  async pending(interactionId: string | undefined, browser: Browser): Promise<PendingInteraction> {
    const now = this.ctx.now();
    const interaction = isRandomToken(interactionId) ? await this.ctx.stores.interactions.get(sha256(interactionId), now) : undefined;
    if (!interaction || interaction.browserHash !== sha256(browser.id)) {
      throw new AuthorizationError(new InvalidRequest('this sign-in request has expired or was already completed; return to the application and start again'));
    }
    const request = interaction.request as unknown as AuthorizationRequest;
    const client = await this.ctx.stores.clients.get(interaction.clientId);
    if (!client) throw new AuthorizationError(new InvalidRequest('unknown client'));
    return { id: interactionId!, interaction, request, client, session: await this.sessions.load(browser.session) };
  }

  /** Records who signed in for this interaction (satisfies prompt=login and max_age). */
  async loggedIn(p: PendingInteraction, user: User): Promise<void> {
    await this.ctx.stores.interactions.recordLogin(p.interaction.idHash, user.sub, this.ctx.now());
  }

  /** Allow: remember the grant and continue. Deny: `access_denied` to the registered URI (A18). */
  async consent(p: PendingInteraction, allow: boolean, browser: Browser): Promise<Outcome> {
    if (!p.session) return this.#proceed(p.client, p.request, undefined, p, browser);
    if (!allow) {
      await this.ctx.stores.interactions.consume(p.interaction.idHash);
      const denied = new AccessDenied('the user denied the request');
      return { kind: 'redirect', location: errorResponseUri(p.request.redirectUri, this.ctx.config.issuer, denied, p.request.state) };
    }
    await this.ctx.stores.consents.grant(p.session.sub, p.client.id, p.request.scopes, this.ctx.now());
    await this.ctx.stores.interactions.recordConsent(p.interaction.idHash);
    return this.#proceed(p.client, p.request, p.session, { ...p, interaction: { ...p.interaction, consented: true } }, browser);
  }

  /** Turns an error into its outcome: a redirect when the redirect URI is verified, else rethrown for a page. */
  errorOutcome(e: unknown): Outcome {
    if (e instanceof AuthorizationError && e.redirect) {
      return { kind: 'redirect', location: errorResponseUri(e.redirect.uri, this.ctx.config.issuer, e.oauth, e.redirect.state) };
    }
    throw e;
  }

  async #proceed(client: Client, request: AuthorizationRequest, session: Session | undefined, p: PendingInteraction | undefined, browser: Browser): Promise<Outcome> {
    const redirect = { uri: request.redirectUri, state: request.state };
    try {
      const consented = session ? await this.ctx.stores.consents.get(session.sub, client.id) : [];
      const user = session ? await this.ctx.stores.users.get(session.sub) : undefined;
      const enrolled = session ? (await this.ctx.stores.mfa.getTotp(session.sub))?.confirmedAt !== undefined : false;
      const mfa = { required: mfaRequired(user, client, request.acrValues), enrolled };
      const decision = decide(request, client, session, p?.interaction, consented, this.ctx.now(), mfa);
      if (decision.next !== 'issue') {
        const id = p?.id ?? (await this.#createInteraction(client, request, browser));
        return { kind: decision.next, interactionId: id };
      }
      // The interaction is single use: a second tab replaying it gets the page error, not a second code.
      if (p && !(await this.ctx.stores.interactions.consume(p.interaction.idHash))) {
        throw new AuthorizationError(new InvalidRequest('this sign-in request was already completed'));
      }
      return { kind: 'redirect', location: await issueCode(request, decision.session, this.ctx) };
    } catch (e) {
      if (e instanceof OAuthError) return this.errorOutcome(new AuthorizationError(e, redirect));
      throw e;
    }
  }

  async #createInteraction(client: Client, request: AuthorizationRequest, browser: Browser): Promise<string> {
    const id = randomToken();
    const now = this.ctx.now();
    await this.ctx.stores.interactions.insert({
      idHash: sha256(id),
      browserHash: sha256(browser.id),
      clientId: client.id,
      request: request as unknown as Record<string, unknown>,
      loginSub: undefined,
      loginAt: undefined,
      consented: false,
      createdAt: now,
      expiresAt: now + INTERACTION_TTL,
    });
    return id;
  }
}
