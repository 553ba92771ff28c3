import * as oidc from 'openid-client';
import { recordingFetch, type Timeline } from './timeline.js';
import type { Profile, Tokens } from './sessions.js';

export interface RelyingPartyOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The app's public URL; the redirect URI is `${baseUrl}/callback`, the post-logout one `${baseUrl}/`. */
  baseUrl: string;
  scope: string;
}

/** Names a back-channel exchange for the timeline. */
function stepName(url: URL, form: URLSearchParams | undefined): string {
  if (url.pathname.startsWith('/.well-known/')) return 'discovery';
  const grant = form?.get('grant_type');
  if (grant) return `token request (${grant})`;
  return url.pathname === '/userinfo' ? 'userinfo (OIDC Core §5.3)' : url.pathname;
}

/**
 * The app as an OpenID Connect relying party, on openid-client: authorization code + PKCE (S256) +
 * nonce + state, client_secret_basic, refresh, RP-initiated logout. Every request it makes is recorded
 * in the calling session's timeline.
 */
export class RelyingParty {
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  #metadata: oidc.ServerMetadata | undefined;

  constructor(readonly options: RelyingPartyOptions) {
    this.redirectUri = `${options.baseUrl}/callback`;
    this.postLogoutRedirectUri = `${options.baseUrl}/`;
  }

  /** A configuration whose requests land in `timeline`; discovery runs once (retried until it succeeds). */
  async config(timeline: Timeline): Promise<oidc.Configuration> {
    const customFetch = recordingFetch(timeline, stepName) as oidc.CustomFetch;
    const auth = oidc.ClientSecretBasic(this.options.clientSecret);
    let config: oidc.Configuration;
    if (this.#metadata) {
      config = new oidc.Configuration(this.#metadata, this.options.clientId, undefined, auth);
      if (insecureAllowed(this.options.issuer)) oidc.allowInsecureRequests(config);
    } else {
      config = await oidc.discovery(new URL(this.options.issuer), this.options.clientId, undefined, auth, {
        [oidc.customFetch]: customFetch,
        ...(insecureAllowed(this.options.issuer) ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      this.#metadata = config.serverMetadata();
    }
    config[oidc.customFetch] = customFetch;
    return config;
  }

  /** The authorization request (RFC 6749 §4.1.1, with RFC 9470 step-up values when given, RFC 7636 S256, OIDC nonce) and the values to check at the callback. */
  async authorizationUrl(timeline: Timeline, prompt?: 'login', stepUp: StepUp = {}): Promise<{ url: URL; pending: { state: string; nonce: string; verifier: string } }> {
    const config = await this.config(timeline);
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.options.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
      ...(prompt ? { prompt } : {}),
      // RFC 9470 §4: what the resource server's challenge asked for.
      ...(stepUp.acrValues ? { acr_values: stepUp.acrValues } : {}),
      ...(stepUp.maxAge !== undefined ? { max_age: String(stepUp.maxAge) } : {}),
    });
    return { url, pending };
  }

  /**
   * The callback: checks state and `iss` (RFC 9207), redeems the code, validates the ID token (nonce,
   * aud, iss, exp), then asks /userinfo for the profile (its `sub` must match the ID token's).
   */
  async redeem(timeline: Timeline, callbackUrl: URL, pending: { state: string; nonce: string; verifier: string }): Promise<{ tokens: Tokens; profile: Profile }> {
    const config = await this.config(timeline);
    const response = await oidc.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedNonce: pending.nonce,
      expectedState: pending.state,
      idTokenExpected: true,
    });
    const info = await oidc.fetchUserInfo(config, response.access_token, response.claims()!.sub);
    const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { tokens: toTokens(response, undefined), profile: { name: text(info.name), email: text(info.email) } };
  }

  /** `grant_type=refresh_token`: the server rotates the refresh token (RFC 9700 §4.14.2). */
  async refresh(timeline: Timeline, tokens: Tokens, refreshToken: string): Promise<Tokens> {
    const response = await oidc.refreshTokenGrant(await this.config(timeline), refreshToken);
    return toTokens(response, tokens);
  }

  /** RP-initiated logout: the end_session_endpoint with the ID token as hint and our registered return URI. */
  async endSessionUrl(timeline: Timeline, idToken: string | undefined, state: string): Promise<URL> {
    return oidc.buildEndSessionUrl(await this.config(timeline), {
      ...(idToken ? { id_token_hint: idToken } : { client_id: this.options.clientId }),
      post_logout_redirect_uri: this.postLogoutRedirectUri,
      state,
    });
  }
}

function toTokens(response: oidc.TokenEndpointResponse, previous: Tokens | undefined): Tokens {
  return {
    accessToken: response.access_token,
    refreshToken: response.refresh_token ?? previous?.refreshToken,
    idToken: response.id_token ?? previous?.idToken,
    expiresAt: response.expires_in === undefined ? undefined : Math.floor(Date.now() / 1000) + response.expires_in,
    scope: response.scope ?? previous?.scope,
  };
}

/** Plain-HTTP issuers are accepted only on loopback (local demos and tests). */
function insecureAllowed(issuer: string): boolean {
  const u = new URL(issuer);
  return u.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

/** RFC 9470 §4: the `acr_values` / `max_age` of an `insufficient_user_authentication` challenge. */
export interface StepUp {
  acrValues?: string;
  maxAge?: number;
}

/** Reads a step-up challenge from a `WWW-Authenticate` value; undefined for any other challenge. */
export function stepUpChallenge(www: string | undefined): StepUp | undefined {
  if (www === undefined || !/\berror="insufficient_user_authentication"/.test(www)) return undefined;
  const acr = /\bacr_values="([^"\\]{1,512})"/.exec(www)?.[1];
  const maxAge = /\bmax_age="(\d{1,9})"/.exec(www)?.[1];
  return { ...(acr ? { acrValues: acr } : {}), ...(maxAge !== undefined ? { maxAge: Number(maxAge) } : {}) };
}
