import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import Provider from 'oidc-provider';
import { AUDIENCE, SVC, freePort, type Alg } from '../lib/fixtures.ts';
import type { Started } from './child.ts';

function signingJwk(alg: Alg): Record<string, unknown> {
  let privateKey: KeyObject;
  if (alg === 'RS256') ({ privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  else if (alg === 'ES256') ({ privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  else ({ privateKey } = generateKeyPairSync('ed25519'));
  return { ...privateKey.export({ format: 'jwk' }), kid: `bench-${alg}`, alg, use: 'sig' };
}

/**
 * node-oidc-provider 8 (the Node 20 line) with the same confidential client, client credentials, and
 * RFC 9068 JWT access tokens for the resource indicated by RFC 8707 `resource`; its built-in in-memory
 * adapter; no request logging.
 */
export async function start(args: { alg?: Alg }): Promise<Started> {
  const alg = args.alg ?? 'RS256';
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: SVC.id,
      client_secret: SVC.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'orders:read orders:write',
      // Client metadata defaults to RS256 ID tokens; with one key of another type that would be invalid.
      id_token_signed_response_alg: alg,
    }],
    jwks: { keys: [signingJwk(alg) as never] },
    scopes: ['orders:read', 'orders:write'],
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'orders:read orders:write',
          audience: AUDIENCE,
          accessTokenTTL: 900,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg } },
        }),
      },
    },
  });
  const server = createServer(provider.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: issuer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
