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
  algorithm: SigningAlgorithm;
  /** Longest lifetime of anything signed (seconds): a retired key stays published this long. */
  maxTokenTtl: number;
  now?: () => number;
}

/**
 * Signing keys (DESIGN.md §4): `next` (published, not yet signing) → `active` → `retired` (published
 * until every token it signed has expired). State lives in the database; this class holds the parsed
 * `KeyObject`s, imported once, and the JWKS document built from them.
 */
export class Keyring {
  #active: ActiveKey | undefined;
  #jwks: { keys: JWK[] } = { keys: [] };
  #localSet: ReturnType<typeof createLocalJWKSet> | undefined;
  #keys: StoredKey[] = [];
  readonly #now: () => number;

  constructor(
    private readonly store: KeyStore,
    private readonly box: SecretBox,
    private readonly options: KeyringOptions,
  ) {
    this.#now = options.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Loads keys, creating an active and a next key on first start (or when the algorithm changed). */
  async init(): Promise<void> {
    await this.reload();
    const alg = this.options.algorithm;
    if (!this.#keys.some((k) => k.state === 'next' && k.alg === alg)) {
      await this.#insertNext();
    }
    if (!this.#active || this.#active.alg !== alg) {
      await this.rotate();
    }
  }

  /** Re-reads the key table (another instance may have rotated). */
  async reload(): Promise<void> {
    const now = this.#now();
    const keys = (await this.store.list()).filter((k) => k.state !== 'retired' || (k.publishUntil ?? 0) >= now);
    const activeRow = keys.filter((k) => k.state === 'active').sort((a, b) => (b.activatedAt ?? 0) - (a.activatedAt ?? 0))[0];
    if (activeRow && activeRow.kid !== this.#active?.kid) {
      if (!isSigningAlgorithm(activeRow.alg)) throw new Error(`key ${activeRow.kid} has unsupported alg ${activeRow.alg}`);
      const jwk = JSON.parse(this.box.decrypt(activeRow.privateJwkEnc, activeRow.kid)) as JWK;
      this.#active = { kid: activeRow.kid, alg: activeRow.alg, key: createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }) };
    } else if (!activeRow) {
      this.#active = undefined;
    }
    this.#keys = keys;
    this.#jwks = { keys: keys.map((k) => publicOnly(k.publicJwk)) };
    this.#localSet = undefined;
  }

  /** Promotes `next` to active, retires the old active key, and publishes a fresh `next`. */
  async rotate(): Promise<{ activated: string; retired: string | undefined }> {
    await this.reload();
    let next = this.#keys.find((k) => k.state === 'next' && k.alg === this.options.algorithm);
    if (!next) next = await this.#insertNext();
    const previous = this.#active?.kid;
    const now = this.#now();
    // Only the instance that won the conditional update publishes the following `next` key.
    if (await this.store.rotate(next.kid, now, now + this.options.maxTokenTtl + 60)) await this.#insertNext();
    await this.reload();
    return { activated: this.#active?.kid ?? next.kid, retired: previous };
  }

  /** Rotates when the active key is older than `maxAgeSeconds`. */
  async rotateIfOlderThan(maxAgeSeconds: number): Promise<boolean> {
    await this.reload();
    const activeRow = this.#keys.find((k) => k.kid === this.#active?.kid);
    if (activeRow && this.#now() - (activeRow.activatedAt ?? activeRow.createdAt) < maxAgeSeconds) return false;
    await this.rotate();
    await this.store.purgeRetired(this.#now());
    return true;
  }

  active(): ActiveKey {
    if (!this.#active) throw new Error('no active signing key');
    return this.#active;
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

  /** Signs a compact JWS with the active key on the thread pool (node:crypto, key imported once). */
  async signJwt(header: Record<string, unknown>, payload: Record<string, unknown>): Promise<string> {
    const { kid, alg, key } = this.active();
    const input = `${b64(JSON.stringify({ ...header, alg, kid }))}.${b64(JSON.stringify(payload))}`;
    const p = signParams(alg, key);
    const signature = await new Promise<Buffer>((resolve, reject) =>
      sign(p.digest, Buffer.from(input), p.key, (err, sig) => (err ? reject(err) : resolve(sig))),
    );
    return `${input}.${signature.toString('base64url')}`;
  }

  async #insertNext(): Promise<StoredKey> {
    const alg = this.options.algorithm;
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
