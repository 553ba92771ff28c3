import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { freePort } from '../lib/fixtures.ts';
import type { Started } from './child.ts';

/**
 * The framework ceiling for a token endpoint: Fastify, a form-encoded POST parsed, the Basic header
 * read, and a canned JSON answer the size of a real token response (no signature, no database).
 */
export async function start(args: { tokenBytes?: number }): Promise<Started> {
  const port = await freePort();
  const app = Fastify({ logger: false });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  const token = randomBytes(Math.ceil((args.tokenBytes ?? 700) * 0.75)).toString('base64url');
  app.post('/token', async (req, reply) => {
    const body = req.body as Record<string, string>;
    if (!req.headers.authorization || body.grant_type !== 'client_credentials') return reply.code(400).send({ error: 'invalid_request' });
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
      .send({ access_token: token, token_type: 'Bearer', expires_in: 900, scope: body.scope });
  });
  await app.listen({ port, host: '127.0.0.1' });
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
