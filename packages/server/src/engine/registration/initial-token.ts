import type { RegistrationStore } from '../../storage/stores.js';
import { randomToken, sha256 } from '../sessions/secrets.js';

/**
 * An initial access token for gated registration (RFC 7591 §3): 256 random bits, stored as SHA-256,
 * good for `uses` registrations until `ttl` seconds from now. The token itself is returned once.
 */
export async function createInitialAccessToken(store: RegistrationStore, o: { label: string; uses: number; ttl: number; now: number }): Promise<{ token: string; expiresAt: number }> {
  const token = randomToken();
  const expiresAt = o.now + o.ttl;
  await store.createInitialToken({ tokenHash: sha256(token), label: o.label, uses: o.uses, createdAt: o.now, expiresAt });
  return { token, expiresAt };
}
