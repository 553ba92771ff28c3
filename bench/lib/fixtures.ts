import { createServer } from 'node:net';

/** Bench-only credentials, shared by every server under test. Never printed. */
export const SVC = { id: 'svc', secret: 'bench-service-secret-0123456789abcdef' };
export const RS = { id: 'orders-api', secret: 'bench-resource-server-secret-0123456789' };
export const WEB = { id: 'webapp', secret: 'bench-webapp-secret-0123456789abcdef', redirect: 'https://app.example/cb' };
export const ALICE = { username: 'alice', password: 'bench-alice-password-1' };
export const AUDIENCE = 'https://orders.example';
export const SCOPE = 'orders:read';

export type Alg = 'RS256' | 'ES256' | 'EdDSA';
export const ALGS: Alg[] = ['RS256', 'ES256', 'EdDSA'];

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

/** The same client-credentials request for every token endpoint (RFC 6749 §4.4.2 + RFC 8707 resource). */
export const CC_BODY = new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, resource: AUDIENCE }).toString();
export const FORM = 'application/x-www-form-urlencoded';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}
