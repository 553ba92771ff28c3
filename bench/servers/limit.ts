import { generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Alg } from '../lib/fixtures.ts';
import type { Started } from './child.ts';

export interface CryptoRates {
  /** Synchronous node:crypto sign() on the main thread: one core. */
  signSync: number;
  /** Callback sign() (libuv thread pool, 32 in flight): what one process gets from every core. */
  signPool: number;
  /** Synchronous verify() on the main thread. */
  verifySync: number;
}

interface Keys {
  priv: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' };
  pub: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' };
  digest: string | null;
}

function keys(alg: Alg): Keys {
  if (alg === 'RS256') {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { priv: privateKey, pub: publicKey, digest: 'sha256' };
  }
  if (alg === 'ES256') {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { priv: { key: privateKey, dsaEncoding: 'ieee-p1363' }, pub: { key: publicKey, dsaEncoding: 'ieee-p1363' }, digest: 'sha256' };
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { priv: privateKey, pub: publicKey, digest: null };
}

/** A JWS signing input the size of a real access token's header and claims. */
const INPUT = Buffer.from(`${'e'.repeat(100)}.${'p'.repeat(300)}`);

function loop(ms: number, fn: () => void): number {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

function pool(ms: number, k: Keys): Promise<number> {
  return new Promise((resolve) => {
    let done = 0;
    const start = performance.now();
    let inFlight = 0;
    const fire = () => {
      inFlight++;
      sign(k.digest, INPUT, k.priv, () => {
        inFlight--;
        done++;
        if (performance.now() - start < ms) fire();
        else if (inFlight === 0) resolve((done * 1000) / (performance.now() - start));
      });
    };
    for (let i = 0; i < 32; i++) fire();
  });
}

/** The physical limit: raw node:crypto rates per algorithm, measured in this one process. */
export async function start(): Promise<Started> {
  return {
    url: 'ipc:',
    close: async () => {},
    async handle(m) {
      const alg = m.alg as Alg;
      const ms = Number(m.ms);
      const k = keys(alg);
      const sig = sign(k.digest, INPUT, k.priv);
      loop(100, () => sign(k.digest, INPUT, k.priv));
      const signSync = loop(ms, () => sign(k.digest, INPUT, k.priv));
      const verifySync = loop(ms, () => verify(k.digest, INPUT, k.pub, sig));
      const signPool = await pool(ms, k);
      return { signSync, signPool, verifySync } satisfies CryptoRates;
    },
  };
}
