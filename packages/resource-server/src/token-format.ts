import { base64url } from 'jose';
import { InvalidToken } from '@tessera/protocol';
import { parseJsonNoDuplicates } from './strict-json.js';

/** Upper bound on a token we even look at; Tessera's are well under 2 KiB. */
const MAX_TOKEN_LENGTH = 8192;
/** RFC 7515 §7.1 compact serialization, three non-empty base64url segments (no JWE, no unsigned). */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface DecodedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  alg: string;
  kid: string;
}

const reject = (debug: string): never => {
  throw new InvalidToken('the access token is invalid', { debug });
};

function decodeObject(segment: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(base64url.decode(segment));
  } catch {
    return reject(`${what} is not base64url UTF-8`);
  }
  const value = parseJsonNoDuplicates(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject(`${what} is not a JSON object without duplicate members`);
  }
  return value as Record<string, unknown>;
}

/** Own string property or undefined — never reads through the prototype chain. */
export function ownString(o: Record<string, unknown>, name: string): string | undefined {
  const v = Object.hasOwn(o, name) ? o[name] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * Structural checks before any key lookup or crypto (RFC 9068 §4 steps 1 and 5, RFC 8725 §3.1, §3.11,
 * RFC 7515 §4.1.11). `jku`, `x5u`, `jwk` and `x5c` are never read (RFC 8725 §3.10).
 */
export function decodeAccessToken(token: string, algorithms: readonly string[]): DecodedToken {
  if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) reject('not a compact JWS');
  const [h, p] = token.split('.') as [string, string, string];
  const header = decodeObject(h, 'header');
  const payload = decodeObject(p, 'payload');
  const alg = ownString(header, 'alg');
  if (alg === undefined || !algorithms.includes(alg)) reject(`alg ${JSON.stringify(alg)} not allowed`);
  const typ = ownString(header, 'typ')?.toLowerCase().replace(/^application\//, '');
  if (typ !== 'at+jwt') reject('typ is not at+jwt');
  if (Object.hasOwn(header, 'crit')) reject('crit header present; no extension is understood');
  const kid = ownString(header, 'kid');
  if (kid === undefined || kid === '' || kid.length > 256) reject('kid missing or malformed');
  return { header, payload, alg: alg as string, kid: kid as string };
}
