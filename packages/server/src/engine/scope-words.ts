/** What the consent page says for a scope (OIDC Core §5.4 standard scopes, then API scopes verbatim). */
const WORDS: Record<string, string> = {
  openid: 'Know who you are (your user ID)',
  profile: 'See your name and username',
  email: 'See your e-mail address',
  offline_access: 'Keep access while you are away',
};

export function describeScopes(scopes: string[]): Array<{ scope: string; text: string }> {
  return scopes.map((scope) => ({ scope, text: WORDS[scope] ?? `Use the API permission` }));
}

/** The host a redirect goes to, as shown on the consent page (A18); the scheme for app redirects. */
export function redirectHost(uri: string): string {
  try {
    const u = new URL(uri);
    return u.host || u.protocol.slice(0, -1);
  } catch {
    return uri.slice(0, 100);
  }
}
