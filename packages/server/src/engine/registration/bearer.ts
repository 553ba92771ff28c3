import { InvalidToken } from '@tessera/protocol';

/** RFC 6750 §2.1: the one `Authorization: Bearer` credential; anything else is `invalid_token`. */
export function bearerToken(authorization: string | undefined, missing: string): string {
  const m = /^Bearer +([A-Za-z0-9_-]{1,200})$/i.exec(authorization ?? '');
  if (!m) throw new InvalidToken(missing, { debug: authorization === undefined ? 'no Authorization header' : 'not a Bearer token of our shape' });
  return m[1]!;
}
