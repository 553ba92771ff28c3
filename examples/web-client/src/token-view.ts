import { decodeJwt, decodeProtectedHeader } from 'jose';
import { maskToken } from './mask.js';
import type { Session } from './sessions.js';

/** A JWT as the page shows it: masked string, decoded header and claims (decoded, not verified: display only). */
export interface JwtView {
  masked: string;
  header: string;
  claims: string;
  expiresAt: number | undefined;
}

export interface TokensView {
  access: JwtView;
  id: JwtView | undefined;
  refresh: string | undefined;
  previousRefresh: string | undefined;
  scopes: string[];
  roles: string[];
  subject: string | undefined;
  name: string | undefined;
}

function jwt(token: string): JwtView {
  try {
    const claims = decodeJwt(token);
    return {
      masked: maskToken(token),
      header: JSON.stringify(decodeProtectedHeader(token), null, 2),
      claims: JSON.stringify(claims, null, 2),
      expiresAt: typeof claims.exp === 'number' ? claims.exp : undefined,
    };
  } catch {
    return { masked: maskToken(token), header: '(not a JWT)', claims: '(opaque token)', expiresAt: undefined };
  }
}

/** What the tokens say, for the page. Verification is the resource server's job; here we only read. */
export function tokensView(session: Session): TokensView | undefined {
  const t = session.tokens;
  if (!t) return undefined;
  const access = jwt(t.accessToken);
  const id = t.idToken ? jwt(t.idToken) : undefined;
  const accessClaims = safeDecode(t.accessToken);
  const idClaims = t.idToken ? safeDecode(t.idToken) : {};
  const scope = typeof accessClaims.scope === 'string' ? accessClaims.scope : t.scope ?? '';
  const roles = Array.isArray(accessClaims.roles) ? accessClaims.roles.filter((r): r is string => typeof r === 'string') : [];
  const name = [session.profile?.name, session.profile?.email, idClaims.name, idClaims.email].find((v): v is string => typeof v === 'string');
  return {
    access: { ...access, expiresAt: access.expiresAt ?? t.expiresAt },
    id,
    refresh: t.refreshToken ? maskToken(t.refreshToken) : undefined,
    previousRefresh: session.previousRefreshToken ? maskToken(session.previousRefreshToken) : undefined,
    scopes: scope.split(' ').filter(Boolean),
    roles,
    subject: typeof accessClaims.sub === 'string' ? accessClaims.sub : undefined,
    name,
  };
}

function safeDecode(token: string): Record<string, unknown> {
  try {
    return decodeJwt(token);
  } catch {
    return {};
  }
}
