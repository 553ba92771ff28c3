import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ConfigError, KNOWN_GRANTS, loadConfig } from '../config/load.js';
import type { ClientConfig } from '../config/schema.js';
import { fromConfig } from '../clients-from-config.js';
import { generateSecret } from '../engine/keys/secret-box.js';
import { clientSecretAad } from '../engine/client-auth/jwt-assertion.js';
import type { Client } from '../storage/stores.js';
import { clientToConfig } from './config-shapes.js';
import { announce, withContext, type CliContext } from './context.js';
import { fail, list, readStdin } from './util.js';

function show(c: Client): Record<string, unknown> {
  const { secretHash: _hidden, secretEnc: _encrypted, ...rest } = c;
  return rest;
}

/** Flags as commander parses them; `true` for a list flag given without values (an empty list). */
interface ClientFlags {
  name?: string;
  type?: string;
  public?: boolean;
  grant?: string[];
  scope?: string[] | true;
  redirectUri?: string[] | true;
  postLogoutRedirectUri?: string[] | true;
  audience?: string | false;
  resource?: string[] | true;
  accessTokenTtl?: string | false;
  firstParty?: boolean;
  permission?: string[] | true;
  allowedOrigin?: string[] | true;
  idTokenAlg?: string;
  authMethod?: string;
  jwksUri?: string | false;
  jwksFile?: string;
  signingAlg?: string | false;
  requirePar?: boolean;
  dpopBound?: boolean;
  requireMfa?: boolean;
  rotateSecret?: boolean;
}

/** Config field → the flag that sets it, for messages. */
const FLAG: Record<string, string> = {
  id: '--id', name: '--name', type: '--type', grants: '--grant', scopes: '--scope', redirectUris: '--redirect-uri',
  postLogoutRedirectUris: '--post-logout-redirect-uri', audience: '--audience', resources: '--resource',
  accessTokenTtl: '--access-token-ttl', firstParty: '--first-party', permissions: '--permission',
  allowedOrigins: '--allowed-origin', idTokenSignedResponseAlg: '--id-token-alg',
  tokenEndpointAuthMethod: '--auth-method', jwksUri: '--jwks-uri', jwks: '--jwks-file', tokenEndpointAuthSigningAlg: '--signing-alg',
  requirePushedAuthorizationRequests: '--require-par', dpopBoundAccessTokens: '--dpop-bound', requireMfa: '--require-mfa',
};

/** The flags that say what a client's config entry says, shared by `create` and `update`. */
function clientFlags(cmd: Command, update: boolean): Command {
  cmd
    .option('--name <name>', 'display name (on the consent page)')
    .option('--type <type>', 'confidential or public')
    .option('--public', 'same as --type public: no secret, PKCE mandatory')
    .option('--grant <grant...>', `allowed grants (${KNOWN_GRANTS.join(', ')})${update ? '' : '; default client_credentials, or authorization_code refresh_token for a public client'}`)
    .option('--scope [scope...]', 'allowed scopes')
    .option('--redirect-uri [uri...]', 'registered redirect URIs (exact match; http only for loopback)')
    .option('--post-logout-redirect-uri [uri...]', 'where RP-initiated logout may send the browser back to')
    .option('--audience <uri>', 'default audience (aud) of its access tokens')
    .option('--resource [uri...]', 'further resource indicators (RFC 8707) it may request')
    .option('--access-token-ttl <duration>', 'its access-token lifetime, e.g. 600 or 10m (at most tokens.maxAccessTokenTtl)')
    .option('--first-party', 'skip the consent page (the operator vouches for the client)')
    .option('--permission [permission...]', 'extra rights: introspect (call /introspect, read the revocation feed)')
    .option('--allowed-origin [origin...]', 'browser origins that may call /token, /revoke, /userinfo (CORS)')
    .option('--id-token-alg <alg>', 'ID token signing alg: RS256 (default) or keys.algorithm')
    .option('--auth-method <method>', 'token_endpoint_auth_method: client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, none')
    .option('--jwks-uri <uri>', 'private_key_jwt: https URL of the client\'s public keys')
    .option('--jwks-file <file>', 'private_key_jwt: a JSON file with the client\'s public JWK Set')
    .option('--signing-alg <alg>', 'the one JWS alg its client assertions use')
    .option('--require-par', 'refuse authorization requests that were not pushed (RFC 9126)')
    .option('--dpop-bound', 'refuse token requests without a DPoP proof (RFC 9449 dpop_bound_access_tokens)')
    .option('--require-mfa', 'users signing in to this client need a second factor');
  if (update) {
    cmd
      .option('--no-audience', 'remove the default audience')
      .option('--no-access-token-ttl', 'use the server default tokens.accessTokenTtl')
      .option('--no-first-party', 'show the consent page again')
      .option('--no-jwks-uri', 'remove the jwks_uri')
      .option('--no-signing-alg', 'accept any allowed assertion alg')
      .option('--no-require-par', 'accept authorization requests that were not pushed')
      .option('--no-dpop-bound', 'issue bearer tokens again to requests without a DPoP proof')
      .option('--no-require-mfa', 'a password alone is enough for this client')
      .option('--rotate-secret', 'issue a new client secret (printed once); the old one stops working');
  }
  return cmd.addHelpText('after', update ? '\nList flags replace the whole list; a list flag without values empties it.' : '');
}

function applyFlags(base: ClientConfig, o: ClientFlags): ClientConfig {
  const c: ClientConfig = { ...base };
  const asList = (v: string[] | true) => (v === true ? [] : v);
  if (o.name !== undefined) c.name = o.name;
  if (o.public) c.type = 'public';
  else if (o.type !== undefined) c.type = o.type as ClientConfig['type'];
  if (o.grant) c.grants = o.grant;
  if (o.scope !== undefined) c.scopes = asList(o.scope);
  if (o.redirectUri !== undefined) c.redirectUris = asList(o.redirectUri);
  if (o.postLogoutRedirectUri !== undefined) c.postLogoutRedirectUris = asList(o.postLogoutRedirectUri);
  if (o.audience === false) delete c.audience;
  else if (o.audience !== undefined) c.audience = o.audience;
  if (o.resource !== undefined) c.resources = asList(o.resource);
  if (o.accessTokenTtl === false) delete c.accessTokenTtl;
  else if (o.accessTokenTtl !== undefined) c.accessTokenTtl = /^[0-9]+$/.test(o.accessTokenTtl) ? Number(o.accessTokenTtl) : o.accessTokenTtl;
  if (o.firstParty !== undefined) c.firstParty = o.firstParty;
  if (o.permission !== undefined) c.permissions = asList(o.permission) as ClientConfig['permissions'];
  if (o.allowedOrigin !== undefined) c.allowedOrigins = asList(o.allowedOrigin);
  if (o.idTokenAlg !== undefined) c.idTokenSignedResponseAlg = o.idTokenAlg as ClientConfig['idTokenSignedResponseAlg'];
  if (o.authMethod !== undefined) c.tokenEndpointAuthMethod = o.authMethod as ClientConfig['tokenEndpointAuthMethod'];
  if (o.jwksUri === false) delete c.jwksUri;
  else if (o.jwksUri !== undefined) c.jwksUri = o.jwksUri;
  if (o.jwksFile !== undefined) c.jwks = readJwksFile(o.jwksFile);
  if (o.signingAlg === false) delete c.tokenEndpointAuthSigningAlg;
  else if (o.signingAlg !== undefined) c.tokenEndpointAuthSigningAlg = o.signingAlg as ClientConfig['tokenEndpointAuthSigningAlg'];
  if (o.requirePar !== undefined) c.requirePushedAuthorizationRequests = o.requirePar;
  if (o.dpopBound !== undefined) c.dpopBoundAccessTokens = o.dpopBound;
  if (o.requireMfa !== undefined) c.requireMfa = o.requireMfa;
  return c;
}

function readJwksFile(file: string): NonNullable<ClientConfig['jwks']> {
  try {
    const jwks = JSON.parse(readFileSync(file, 'utf8')) as NonNullable<ClientConfig['jwks']>;
    if (Array.isArray(jwks.keys) && jwks.keys.length > 0) return jwks;
  } catch {
    fail(['--jwks-file: cannot read it as JSON']);
  }
  fail(['--jwks-file: a JSON object with a non-empty "keys" array']);
}

const PLACEHOLDER_HASH = `hmac-sha256$${'A'.repeat(43)}`;

/**
 * Checks a client exactly as an entry of the config file is checked (same schema, same rules), so the
 * CLI cannot store a client the file could not declare. Problems are named by flag.
 */
function clientProblems(configFile: string | undefined, candidate: ClientConfig): string[] {
  try {
    loadConfig({ file: configFile, overrides: { clients: [{ ...candidate, ...(candidate.secretHash ? { secretHash: PLACEHOLDER_HASH } : {}) }] } });
    return [];
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return e.problems.map((p) => {
      const m = /^clients\.0(?: \([^)]*\))?(?:\.([A-Za-z]+)(?:\.([0-9]+))?)?: (.*)$/.exec(p);
      if (!m) return p;
      const [, field, index, message] = m;
      if (!field) return message!;
      const value = index !== undefined ? (candidate[field as keyof ClientConfig] as unknown[] | undefined)?.[Number(index)] : undefined;
      return `${FLAG[field] ?? field}${typeof value === 'string' ? ` ${value}` : ''}: ${message}`;
    });
  }
}

/** Validates, stores and announces a client; returns a newly issued secret (to print once). */
async function save(ctx: CliContext, configFile: string | undefined, candidate: ClientConfig, o: { newSecret: boolean; createdAt: number }): Promise<string | undefined> {
  const c = { ...candidate };
  const method = c.tokenEndpointAuthMethod;
  // A client has one kind of secret: none (public, private_key_jwt), recoverable (client_secret_jwt), or hashed.
  const secretless = c.type === 'public' || method === 'private_key_jwt';
  if (secretless || method === 'client_secret_jwt') delete c.secretHash;
  if (secretless || method !== 'client_secret_jwt') delete c.secretEncrypted;
  if (secretless && o.newSecret) fail([`--rotate-secret: a ${c.type === 'public' ? 'public client' : 'private_key_jwt client'} has no secret`]);
  const held = method === 'client_secret_jwt' ? c.secretEncrypted : c.secretHash;
  const secret = !secretless && (o.newSecret || !held) ? generateSecret() : undefined;
  if (secret && method === 'client_secret_jwt') c.secretEncrypted = ctx.box.encrypt(secret, clientSecretAad(c.id));
  else if (secret) c.secretHash = ctx.box.hashClientSecret(secret);
  const problems = clientProblems(configFile, c);
  if (problems.length) fail(problems);
  await ctx.stores.clients.upsert({ ...fromConfig(c, ctx.box, o.createdAt, Math.floor(Date.now() / 1000)), source: 'cli' });
  await announce(ctx.config, 'clients', c.id);
  return secret;
}

function printSecret(secret: string | undefined): void {
  if (secret) console.log(`client_secret: ${secret}\n(shown once; store it now)`);
}

export function clientCommands(program: Command, configFile: () => string | undefined): void {
  const clients = program.command('clients').description('manage OAuth clients');

  clientFlags(
    clients
      .command('create')
      .description('register a client; a confidential client\'s secret is printed once')
      .requiredOption('--id <id>', 'client id (A-Z a-z 0-9 . _ ~ -)'),
    false,
  ).action(async (o: ClientFlags & { id: string }) => {
    const type = o.public ? 'public' : (o.type ?? 'confidential');
    const base = { id: o.id, type, grants: type === 'public' ? ['authorization_code', 'refresh_token'] : ['client_credentials'] } as ClientConfig;
    await withContext(configFile(), async (ctx) => {
      if (await ctx.stores.clients.get(o.id)) fail([`client ${o.id} already exists (change it with \`tessera clients update ${o.id}\`)`]);
      const secret = await save(ctx, configFile(), applyFlags(base, o), { newSecret: false, createdAt: Math.floor(Date.now() / 1000) });
      await ctx.audit('client_created', { clientId: o.id });
      console.log(`client ${o.id} created`);
      printSecret(secret);
    });
  });

  clientFlags(
    clients
      .command('update <id>')
      .description('change a client made with the CLI; only the flags given change'),
    true,
  ).action(async (id: string, o: ClientFlags) => {
    await withContext(configFile(), async (ctx) => {
      const existing = await ctx.stores.clients.get(id);
      if (!existing) fail([`no client ${id}`]);
      if (existing.source === 'config') fail([`client ${id} is declared in the config file; change it there (the file is applied at every start)`]);
      if (existing.source === 'registration') fail([`client ${id} registered itself (RFC 7591); it changes itself through its registration_client_uri, you can disable or delete it`]);
      const secret = await save(ctx, configFile(), applyFlags(clientToConfig(existing), o), { newSecret: o.rotateSecret === true, createdAt: existing.createdAt });
      await ctx.audit('client_updated', { clientId: id, rotated: o.rotateSecret === true });
      console.log(`client ${id} updated`);
      printSecret(secret);
    });
  });

  clients
    .command('list')
    .description('list clients (id, type, grants, scopes, where they come from)')
    .action(async () => {
      await withContext(configFile(), async (ctx) => {
        list((await ctx.stores.clients.list()).map((c) => [c.id, c.type, c.grantTypes.join(','), c.scopes.join(' '), c.disabled ? `${c.source} (disabled)` : c.source]), ['ID', 'TYPE', 'GRANTS', 'SCOPES', 'SOURCE']);
      });
    });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    clients
      .command(`${verb} <id>`)
      .description(disabled ? 'refuse the client at every endpoint until enabled again (not for config-file clients)' : 'accept a disabled client again')
      .action(async (id: string) => {
        await withContext(configFile(), async (ctx) => {
          const c = await ctx.stores.clients.get(id);
          if (!c) fail([`no client ${id}`]);
          if (c.source === 'config') fail([`client ${id} is declared in the config file; remove it there (the file is applied at every start)`]);
          const { disabled: _was, ...rest } = c;
          await ctx.stores.clients.upsert({ ...rest, ...(disabled ? { disabled: true } : {}), updatedAt: Math.floor(Date.now() / 1000) });
          await announce(ctx.config, 'clients', id);
          console.log(`client ${id} ${disabled ? 'disabled' : 'enabled'}`);
        });
      });
  }

  clients
    .command('show <id>')
    .description('print one client as JSON (without its secret hash)')
    .action(async (id: string) => {
      await withContext(configFile(), async (ctx) => {
        const c = await ctx.stores.clients.get(id);
        if (!c) fail([`no client ${id}`]);
        console.log(JSON.stringify(show(c), null, 2));
      });
    });

  clients
    .command('delete <id>')
    .description('delete a client')
    .action(async (id: string) => {
      await withContext(configFile(), async (ctx) => {
        if (!(await ctx.stores.clients.delete(id))) fail([`no client ${id}`]);
        await ctx.stores.registrations.markDeleted(id, Math.floor(Date.now() / 1000));
        await ctx.audit('client_deleted', { clientId: id });
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
