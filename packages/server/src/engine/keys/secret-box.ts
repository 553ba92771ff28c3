import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Everything derived from the deployment secret (`TESSERA_SECRET`): the key-encryption key that
 * protects private signing keys at rest (AES-256-GCM, the key id as associated data) and the HMAC key
 * for client-secret hashes. Separate keys per purpose via HKDF-SHA-256.
 */
export class SecretBox {
  readonly #kek: Buffer;
  readonly #hmacKey: Buffer;
  readonly #purposeKeys = new Map<string, Buffer>();
  readonly #secret: string;

  constructor(secret: string) {
    if (Buffer.byteLength(secret) < 32) throw new TypeError('TESSERA_SECRET must be at least 32 characters');
    this.#kek = derive(secret, 'tessera key-encryption v1');
    this.#hmacKey = derive(secret, 'tessera client-secret v1');
    this.#secret = secret;
  }

  /** HMAC-SHA-256 under a key derived for `purpose` alone (e.g. CSRF tokens), base64url. */
  mac(purpose: string, data: string): string {
    let key = this.#purposeKeys.get(purpose);
    if (!key) {
      key = derive(this.#secret, `tessera mac ${purpose} v1`);
      this.#purposeKeys.set(purpose, key);
    }
    return createHmac('sha256', key).update(data, 'utf8').digest('base64url');
  }

  encrypt(plaintext: string, aad: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, iv);
    cipher.setAAD(Buffer.from(aad));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** Throws when the ciphertext was made with another secret or tampered with. */
  decrypt(box: string, aad: string): string {
    const [v, iv, ct, tag] = box.split('.');
    if (v !== 'v1' || !iv || !ct || !tag) throw new Error('unrecognised encrypted key format');
    const decipher = createDecipheriv('aes-256-gcm', this.#kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  }

  /**
   * Hash for a client secret. Server-generated secrets carry 256 bits of entropy, so a keyed fast hash
   * is as strong as a slow one and keeps the token endpoint fast (never bcrypt/argon2 on this path).
   */
  hashClientSecret(secret: string): string {
    return `hmac-sha256$${createHmac('sha256', this.#hmacKey).update(secret, 'utf8').digest('base64url')}`;
  }

  /** Constant-time check; `hash` undefined still costs one HMAC so unknown clients time like wrong secrets. */
  verifyClientSecret(secret: string, hash: string | undefined): boolean {
    const actual = Buffer.from(this.hashClientSecret(secret));
    const expected = Buffer.from(hash ?? DUMMY_HASH);
    const ok = actual.length === expected.length && timingSafeEqual(actual, expected);
    return ok && hash !== undefined;
  }
}

const DUMMY_HASH = `hmac-sha256$${'A'.repeat(43)}`;

function derive(secret: string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.from('tessera'), Buffer.from(info), 32));
}

/** A new random secret: 256 bits, base64url. */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}
