import { createHash } from 'node:crypto';
import { calculateJwkThumbprint, errors as joseErrors, importJWK, jwtVerify, type CryptoKey, type JWK, type JWTHeaderParameters } from 'jose';
import { InvalidDpopProof } from '@tessera/protocol';
import { normaliseHtu } from './htu.js';

/**
 * JWS algorithms a DPoP proof may use (RFC 9449 §4.2: asymmetric only; RFC 7518 §3.1, RFC 8037).
 * `none` and every HS* are never accepted, whatever the configuration says.
 */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'EdDSA', 'Ed25519', 'PS256', 'RS256'];

/** Private JWK members (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a proof carrying one is refused. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const MAX_PROOF = 4096;
const MAX_JTI = 256;

export interface DpopProofInput {
  /** The `DPoP` header value(s) as received. */
  header: string | string[] | undefined;
  /** HTTP method of this request (`htm`). */
  method: string;
  /** The request URI as this server is reached (`htu`); query and fragment are ignored. */
  url: string;
  /** With a DPoP-bound access token: `ath` must be the base64url SHA-256 of it (RFC 9449 §4.3 step 12). */
  accessToken?: string | undefined;
}

export interface DpopProofOptions {
  /** Allowed `alg` values, a subset of {@link DPOP_ALGORITHMS}. */
  algorithms: readonly string[];
  /** How old `iat` may be, in seconds (the replay window). */
  maxAge: number;
  /** Leeway for an `iat` slightly in the future, in seconds. */
  clockTolerance: number;
  /** Seconds since the epoch (tests, and servers with their own clock). */
  now?: number;
}

export interface VerifiedProof {
  /** RFC 7638 SHA-256 thumbprint of the proof key: what `cnf.jkt` holds (RFC 9449 §6.1). */
  jkt: string;
  jti: string;
  iat: number;
  /** The `nonce` claim, when present (the caller checks it against its own nonces). */
  nonce: string | undefined;
  /** When the proof stops being acceptable: the end of its replay window (seconds). */
  expiresAt: number;
}

const reject = (debug: string, cause?: unknown): never => {
  throw new InvalidDpopProof('the DPoP proof is invalid', { debug, cause });
};

/** `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the ASCII access token. */
export function accessTokenHash(token: string): string {
  return createHash('sha256').update(token, 'ascii').digest('base64url');
}

/** Imported proof keys and their thumbprints by JWK text: a client signs every proof with one key. Bounded. */
const keyCache = new Map<string, { key: CryptoKey | Uint8Array; jkt: string }>();
const KEY_CACHE = 1000;

async function proofKey(header: JWTHeaderParameters): Promise<{ key: CryptoKey | Uint8Array; jkt: string }> {
  const jwk = header.jwk as JWK;
  const id = `${header.alg}:${JSON.stringify(jwk)}`;
  let entry = keyCache.get(id);
  if (!entry) {
    const key = await importJWK({ ...jwk, ext: true }, header.alg);
    if ((key as CryptoKey).type !== 'public') reject('jwk is not a public key');
    entry = { key, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
    if (keyCache.size >= KEY_CACHE) keyCache.delete(keyCache.keys().next().value!);
    keyCache.set(id, entry);
  }
  return entry;
}

/**
 * Checks a DPoP proof JWT as RFC 9449 §4.3 lists it: exactly one `DPoP` header, a compact JWS with
 * `typ: dpop+jwt`, an allow-listed asymmetric `alg`, a *public* `jwk` that verifies the signature,
 * `jti`, `htm` equal to the method, `htu` equal to the request URI after RFC 3986 §6.2.2–6.2.3
 * normalisation (query and fragment ignored), `iat` within the window, and `ath` when an access token
 * is presented. Replay (`jti`) and `nonce` are the caller's to check with the result. Every failure is
 * {@link InvalidDpopProof}; the reason is in `debug` only.
 *
 * @example
 * const proof = await verifyDpopProof({ header: req.headers.dpop, method: 'POST', url: 'https://as.example/token' },
 *   { algorithms: ['ES256'], maxAge: 60, clockTolerance: 5 });
 * // proof.jkt → cnf.jkt of the token to issue
 */
export async function verifyDpopProof(input: DpopProofInput, options: DpopProofOptions): Promise<VerifiedProof> {
  if (Array.isArray(input.header)) reject('more than one DPoP header');
  const proof = input.header as string | undefined;
  if (proof === undefined || proof === '') reject('no DPoP header');
  if (proof!.length > MAX_PROOF || !/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(proof!)) reject('not a compact JWS');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  let payload: Record<string, unknown>;
  let jkt = '';
  try {
    ({ payload } = await jwtVerify(proof!, async (h) => {
      if (typeof h.alg !== 'string' || !options.algorithms.includes(h.alg)) reject(`alg ${String(h.alg)} not allowed`);
      const jwk = h.jwk as unknown;
      if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) reject('jwk header missing');
      const priv = PRIVATE_MEMBERS.find((m) => Object.hasOwn(jwk as object, m));
      if (priv) reject(`jwk carries the private member ${priv}`);
      const entry = await proofKey(h);
      jkt = entry.jkt;
      return entry.key;
    }, {
      typ: 'dpop+jwt',
      algorithms: [...options.algorithms],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      currentDate: new Date(now * 1000),
      maxTokenAge: options.maxAge,
      clockTolerance: options.clockTolerance,
    }));
  } catch (e) {
    if (e instanceof InvalidDpopProof) throw e;
    const debug = e instanceof joseErrors.JOSEError ? `${e.code}: ${e.message}` : 'verification failed';
    return reject(debug, e);
  }
  const { jti, htm, htu, iat, ath, nonce } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI) reject('jti missing or malformed');
  if (typeof htm !== 'string' || htm !== input.method) reject(`htm ${String(htm).slice(0, 16)} is not ${input.method}`);
  const claimed = typeof htu === 'string' ? normaliseHtu(htu) : undefined;
  if (claimed === undefined || claimed !== normaliseHtu(input.url)) reject('htu does not match the request URI');
  if (typeof iat !== 'number') reject('iat is not a number');
  if (nonce !== undefined && typeof nonce !== 'string') reject('nonce is not a string');
  if (input.accessToken !== undefined) {
    if (typeof ath !== 'string') reject('ath missing');
    if (ath !== accessTokenHash(input.accessToken)) reject('ath does not match the access token');
  }
  return { jkt, jti: jti as string, iat: iat as number, nonce: nonce as string | undefined, expiresAt: (iat as number) + options.maxAge + options.clockTolerance };
}
