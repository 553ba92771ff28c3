import { createPrivateKey, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, type JWK } from 'jose';
import type { KeyStore, StoredKey } from '../../storage/stores.js';
import type { SecretBox } from './secret-box.js';
import { generateSigningKey, isSigningAlgorithm, signParams, type SigningAlgorithm } from './algorithms.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

export interface ActiveKey {
  kid: string;
  alg: SigningAlgorithm;
  key: KeyObject;
}

export interface KeyringOptions {
  /** The access-token algorithm (`keys.algorithm`). */
  algorithm: SigningAlgorithm;
  /** Longest lifetime of anything signed (seconds): a retired key stays published this long. */
  maxTokenTtl: number;
  now?: () => number;
}

/** OIDC Discovery §3: RS256 must be in `id_token_signing_alg_values_supported`, so an RS256 key always exists. */
export const ID_TOKEN_DEFAULT_ALG: SigningAlgorithm = 'RS256';

export interface Rotation {
  alg: SigningAlgorithm;
  activated: string;
  retired: string | undefined;
}

/**
 * Signing keys (DESIGN.md §4): `next` (published, not yet signing) → `active` → `retired` (published
 * until every token it signed has expired). One such chain per algorithm the server signs with: the
 * access-token algorithm and RS256 for ID tokens (one chain when they are the same). State lives in the
 * database; this class holds the parsed `KeyObject`s, imported once, and the JWKS document built from them.
 */
export class Keyring {
  readonly #active = new Map<SigningAlgorithm, ActiveKey>();
  #jwks: { keys: JWK[] } = { keys: [] };
  #localSet: ReturnType<typeof createLocalJWKSet> | undefined;
  #keys: StoredKey[] = [];
  readonly #now: () => number;
  /** The algorithms with a chain of their own: the access-token one first. */
  readonly algorithms: readonly SigningAlgorithm[];

  constructor(
    private readonly store: KeyStore,
    private readonly box: SecretBox,
    private readonly options: KeyringOptions,
  ) {
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
    this.algorithms = [...new Set([options.algorithm, ID_TOKEN_DEFAULT_ALG])];
  }

  /**
   * Loads keys, creating an active and a next key per algorithm on first start (or when the algorithm
   * changed); keys of an algorithm no longer used are retired (published until their tokens expire).
   */
  async init(): Promise<void> {
    await this.reload();
    const now = this.#now();
    let retired = false;
    for (const k of this.#keys) {
      if (k.state !== 'retired' && !(this.algorithms as readonly string[]).includes(k.alg)) {
        retired = (await this.store.retire(k.kid, now, now + this.options.maxTokenTtl + 60)) || retired;
      }
    }
    if (retired) await this.reload();
    for (const alg of this.algorithms) {
      if (!this.#keys.some((k) => k.state === 'next' && k.alg === alg)) await this.#insertNext(alg);
      if (!this.#active.has(alg)) await this.#rotate(alg);
    }
  }

  /** Re-reads the key table (another instance may have rotated). */
  async reload(): Promise<void> {
    const now = this.#now();
    const keys = (await this.store.list()).filter((k) => k.state !== 'retired' || (k.publishUntil ?? 0) >= now);
    const newest = keys.filter((k) => k.state === 'active').sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0));
    for (const alg of this.algorithms) {
      const row = newest.find((k) => k.alg === alg);
      // No active key of this alg: an instance with a newer keys.algorithm retired the chain during a
      // rolling change. Keep signing with the last key (still published) until this instance restarts.
      if (row && row.kid !== this.#active.get(alg)?.kid) {
        if (!isSigningAlgorithm(row.alg)) throw new Error(`key ${row.kid} has unsupported alg ${row.alg}`);
        const jwk = JSON.parse(this.box.decrypt(row.privateJwkEnc, row.kid)) as JWK;
        this.#active.set(alg, { kid: row.kid, alg, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) });
      }
    }
    this.#keys = keys;
    this.#jwks = { keys: keys.map((k) => publicOnly(k.publicJwk)) };
    this.#localSet = undefined;
  }

  /**
   * Rotates every chain: promotes `next` to active, retires the old active key, publishes a fresh
   * `next`. `activated`/`retired` name the access-token key; `rotations` has one entry per algorithm.
   */
  async rotate(): Promise<{ activated: string; retired: string | undefined; rotations: Rotation[] }> {
    const rotations: Rotation[] = [];
    for (const alg of this.algorithms) rotations.push(await this.#rotate(alg));
    const first = rotations[0]!;
    return { activated: first.activated, retired: first.retired, rotations };
  }

  /** Rotates each chain whose active key is older than `maxAgeSeconds`; true when any rotated. */
  async rotateIfOlderThan(maxAgeSeconds: number): Promise<boolean> {
    await this.reload();
    let rotated = false;
    for (const alg of this.algorithms) {
      const activeRow = this.#keys.find((k) => k.kid === this.#active.get(alg)?.kid);
      if (activeRow && this.#now() - (activeRow.activatedAt ?? activeRow.createdAt) < maxAgeSeconds) continue;
      await this.#rotate(alg);
      rotated = true;
    }
    if (rotated) await this.store.purgeRetired(this.#now());
    return rotated;
  }

  /** The access-token signing key. */
  active(): ActiveKey {
    return this.activeFor(this.options.algorithm);
  }

  /** The active key of one algorithm (RS256 always exists for ID tokens). */
  activeFor(alg: SigningAlgorithm): ActiveKey {
    const key = this.#active.get(alg);
    if (!key) throw new Error(`no active ${alg} signing key`);
    return key;
  }

  jwks(): { keys: JWK[] } {
    return this.#jwks;
  }

  /** jose key resolver over the published keys, for verifying our own tokens (rebuilt after a reload). */
  verificationKeys(): ReturnType<typeof createLocalJWKSet> {
    this.#localSet ??= createLocalJWKSet(this.#jwks);
    return this.#localSet;
  }

  list(): StoredKey[] {
    return this.#keys;
  }

  /**
   * Signs a compact JWS on the thread pool (node:crypto, key imported once) with the active key of `alg`,
   * by default the access-token algorithm.
   */
  async signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, alg: SigningAlgorithm = this.options.algorithm): Promise<string> {
    const { kid, key } = this.activeFor(alg);
    const input = `${b64(JSON.stringify({ ...header, alg, kid }))}.${b64(JSON.stringify(payload))}`;
    const p = signParams(alg, key);
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign(p.digest, Buffer.from(input), p.key, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    return `${input}.${signature.toString('base64url')}`;
  }

  async #rotate(alg: SigningAlgorithm): Promise<Rotation> {
    await this.reload();
    let next = this.#keys.find((k) => k.state === 'next' && k.alg === alg);
    if (!next) next = await this.#insertNext(alg);
    const previous = this.#active.get(alg)?.kid;
    const now = this.#now();
    // Only the instance that won the conditional update publishes the following `next` key.
    if (await this.store.rotate(next.kid, now, now + this.options.maxTokenTtl + 60)) await this.#insertNext(alg);
    await this.reload();
    return { alg, activated: this.#active.get(alg)?.kid ?? next.kid, retired: previous };
  }

  async #insertNext(alg: SigningAlgorithm): Promise<StoredKey> {
    const { privateKey, publicKey } = await generateSigningKey(alg);
    const pub = publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(pub, 'sha256');
    const row: StoredKey = {
      kid,
      alg,
      state: 'next',
      publicJwk: { ...pub, kid, alg, use: 'sig' },
      privateJwkEnc: this.box.encrypt(JSON.stringify(privateKey.export({ format: 'jwk' })), kid),
      createdAt: this.#now(),
      activatedAt: undefined,
      retiredAt: undefined,
      publishUntil: undefined,
    };
    await this.store.insert(row);
    this.#keys.push(row);
    return row;
  }
}

function publicOnly(jwk: Record<string, unknown>): JWK {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(jwk)) if (!PRIVATE_MEMBERS.includes(k)) out[k] = v;
  return out as JWK;
}

function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64url');
}
