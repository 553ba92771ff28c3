import type { Command } from 'commander';
import { KNOWN_GRANTS, USER_SUB_PREFIX } from '../config/load.js';
import { redirectUriProblem, resourceUriProblem } from '../config/validate-uri.js';
import { generateSecret } from '../engine/keys/secret-box.js';
import type { Client, TokenEndpointAuthMethod } from '../storage/stores.js';
import type { ClientConfig, RawConfig } from '../config/schema.js';
import { clientAuthProblems } from '../config/client-auth-settings.js';
import { clientSecretAad } from '../engine/client-auth/jwt-assertion.js';
import { readFileSync } from 'node:fs';
import { isScopeToken } from '@tessera/protocol';
import { announce, withContext } from './context.js';
import { fail, list, readStdin } from './util.js';

function show(c: Client): Record<string, unknown> {
  const { secretHash: _hidden, secretEnc: _encrypted, ...rest } = c;
  return rest;
}

export function clientCommands(program: Command, configFile: () => string | undefined): void {
  const clients = program.command('clients').description('manage OAuth clients');

  clients
    .command('create')
    .description('register a client; a confidential client\'s secret is printed once')
    .requiredOption('--id <id>', 'client id')
    .option('--name <name>', 'display name')
    .option('--type <type>', 'confidential or public', 'confidential')
    .option('--grant <grant...>', `allowed grants (${KNOWN_GRANTS.join(', ')})`, ['client_credentials'])
    .option('--scope <scope...>', 'allowed scopes', [])
    .option('--redirect-uri <uri...>', 'registered redirect URIs (exact match)', [])
    .option('--audience <uri>', 'default audience (aud) of its access tokens')
    .option('--resource <uri...>', 'further resource indicators it may request', [])
    .option('--auth-method <method>', 'token_endpoint_auth_method: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none')
    .option('--jwks-uri <uri>', 'private_key_jwt: https URL of the client\'s public keys')
    .option('--jwks-file <file>', 'private_key_jwt: a JSON file with the client\'s public JWK Set')
    .option('--signing-alg <alg>', 'the one JWS alg its client assertions use')
    .option('--require-par', 'refuse authorization requests that were not pushed (RFC 9126)')
    .action(async (o: CreateOptions) => {
      const problems: string[] = [];
      if (!/^[A-Za-z0-9._~-]{1,128}$/.test(o.id)) problems.push('--id: 1-128 characters of A-Z a-z 0-9 . _ ~ -');
      if (o.id.startsWith(USER_SUB_PREFIX)) problems.push(`--id: the prefix ${USER_SUB_PREFIX} is reserved for users`);
      if (o.type !== 'confidential' && o.type !== 'public') problems.push('--type: confidential or public');
      for (const g of o.grant) if (!(KNOWN_GRANTS as readonly string[]).includes(g)) problems.push(`--grant: unknown grant ${g}`);
      if (o.type === 'public' && o.grant.includes('client_credentials')) problems.push('--grant: client_credentials needs a confidential client');
      for (const s of o.scope) if (!isScopeToken(s)) problems.push(`--scope: invalid scope ${s}`);
      for (const u of o.redirectUri) {
        const p = redirectUriProblem(u);
        if (p) problems.push(`--redirect-uri ${u}: ${p}`);
      }
      for (const r of [...(o.audience ? [o.audience] : []), ...o.resource]) {
        const p = resourceUriProblem(r);
        if (p) problems.push(`${r}: ${p}`);
      }
      const methods = ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'none'];
      if (o.authMethod !== undefined && !methods.includes(o.authMethod)) problems.push(`--auth-method: one of ${methods.join(', ')}`);
      const algs = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519', 'HS256'];
      if (o.signingAlg !== undefined && !algs.includes(o.signingAlg)) problems.push(`--signing-alg: one of ${algs.join(', ')}`);
      let jwks: { keys: Record<string, unknown>[] } | undefined;
      if (o.jwksFile) {
        try {
          jwks = JSON.parse(readFileSync(o.jwksFile, 'utf8')) as { keys: Record<string, unknown>[] };
          if (!Array.isArray(jwks.keys) || jwks.keys.length === 0) problems.push('--jwks-file: a JSON object with a non-empty "keys" array');
        } catch {
          problems.push('--jwks-file: cannot read it as JSON');
        }
      }
      if (problems.length) fail(problems);
      await withContext(configFile(), async (ctx) => {
        if (await ctx.stores.clients.get(o.id)) fail([`client ${o.id} already exists`]);
        const method = o.authMethod as TokenEndpointAuthMethod | undefined;
        const asConfig = {
          id: o.id, type: o.type as ClientConfig['type'], grants: o.grant,
          ...(method ? { tokenEndpointAuthMethod: method } : {}),
          // The secret is generated below; a stand-in of its length lets the config rules run.
          ...(method === 'client_secret_jwt' ? { secret: 'x'.repeat(43) } : {}),
          ...(jwks ? { jwks } : {}), ...(o.jwksUri ? { jwksUri: o.jwksUri } : {}),
          ...(o.signingAlg ? { tokenEndpointAuthSigningAlg: o.signingAlg } : {}),
        } as ClientConfig;
        const authProblems = clientAuthProblems({ clients: [asConfig] } as unknown as RawConfig, ctx.config.production).map((p) => p.replace(/^clients\.0 \([^)]*\)\.?/, ''));
        if (authProblems.length) fail(authProblems);
        const secret = o.type === 'confidential' && method !== 'private_key_jwt' ? generateSecret() : undefined;
        const jwtSecret = method === 'client_secret_jwt';
        const now = Math.floor(Date.now() / 1000);
        await ctx.stores.clients.upsert({
          id: o.id,
          name: o.name ?? o.id,
          type: o.type as Client['type'],
          secretHash: secret && !jwtSecret ? ctx.box.hashClientSecret(secret) : undefined,
          redirectUris: o.redirectUri,
          grantTypes: o.grant,
          scopes: o.scope,
          audience: o.audience,
          resources: o.resource,
          accessTokenTtl: undefined,
          firstParty: false,
          ...(method ? { tokenEndpointAuthMethod: method } : {}),
          ...(o.signingAlg ? { tokenEndpointAuthSigningAlg: o.signingAlg } : {}),
          ...(jwks ? { jwks } : {}),
          ...(o.jwksUri ? { jwksUri: o.jwksUri } : {}),
          ...(secret && jwtSecret ? { secretEnc: ctx.box.encrypt(secret, clientSecretAad(o.id)) } : {}),
          ...(o.requirePar ? { requirePushedAuthorizationRequests: true } : {}),
          source: 'cli',
          createdAt: now,
          updatedAt: now,
        });
        await announce(ctx.config, 'clients', o.id);
        console.log(`client ${o.id} created`);
        if (secret) console.log(`client_secret: ${secret}\n(shown once; store it now)`);
      });
    });

  clients
    .command('list')
    .action(async () => {
      await withContext(configFile(), async (ctx) => {
        list((await ctx.stores.clients.list()).map((c) => [c.id, c.type, c.grantTypes.join(','), c.scopes.join(' '), c.source]), ['ID', 'TYPE', 'GRANTS', 'SCOPES', 'SOURCE']);
      });
    });

  clients
    .command('show <id>')
    .action(async (id: string) => {
      await withContext(configFile(), async (ctx) => {
        const c = await ctx.stores.clients.get(id);
        if (!c) fail([`no client ${id}`]);
        console.log(JSON.stringify(show(c), null, 2));
      });
    });

  clients
    .command('delete <id>')
    .action(async (id: string) => {
      await withContext(configFile(), async (ctx) => {
        if (!(await ctx.stores.clients.delete(id))) fail([`no client ${id}`]);
        await announce(ctx.config, 'clients', id);
        console.log(`client ${id} deleted`);
      });
    });

  clients
    .command('encrypt-secret')
    .description('read a client_secret_jwt secret on stdin and print secretEncrypted for the config file (bound to --id and this TESSERA_SECRET)')
    .requiredOption('--id <id>', 'the client it is for')
    .action(async (o: { id: string }) => {
      const secret = (await readStdin()).replace(/\r?\n$/, '');
      if (secret.length < 32) fail(['a client_secret_jwt secret must be at least 32 characters (HS256, RFC 7518 §3.2)']);
      await withContext(configFile(), async (ctx) => {
        console.log(ctx.box.encrypt(secret, clientSecretAad(o.id)));
      });
    });

  clients
    .command('hash-secret')
    .description('read a client secret on stdin and print the secretHash for the config file')
    .action(async () => {
      const secret = (await readStdin()).replace(/\r?\n$/, '');
      if (secret.length < 16) fail(['the secret must be at least 16 characters']);
      await withContext(configFile(), async (ctx) => {
        console.log(ctx.box.hashClientSecret(secret));
      });
    });
}

interface CreateOptions {
  id: string;
  name?: string;
  type: string;
  grant: string[];
  scope: string[];
  redirectUri: string[];
  audience?: string;
  resource: string[];
  authMethod?: string;
  jwksUri?: string;
  jwksFile?: string;
  signingAlg?: string;
  requirePar?: boolean;
}
