import type { Command } from 'commander';
import { KNOWN_GRANTS, USER_SUB_PREFIX } from '../config/load.js';
import { redirectUriProblem, resourceUriProblem } from '../config/validate-uri.js';
import { generateSecret } from '../engine/keys/secret-box.js';
import type { Client } from '../storage/stores.js';
import { isScopeToken } from '@tessera/protocol';
import { announce, withContext } from './context.js';
import { fail, list, readStdin } from './util.js';

function show(c: Client): Record<string, unknown> {
  const { secretHash: _hidden, ...rest } = c;
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
    .option('--dpop-bound', 'refuse token requests without a DPoP proof (RFC 9449 dpop_bound_access_tokens)')
    .action(async (o: { id: string; name?: string; type: string; grant: string[]; scope: string[]; redirectUri: string[]; audience?: string; resource: string[]; dpopBound?: boolean }) => {
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
      if (problems.length) fail(problems);
      await withContext(configFile(), async (ctx) => {
        if (await ctx.stores.clients.get(o.id)) fail([`client ${o.id} already exists`]);
        const secret = o.type === 'confidential' ? generateSecret() : undefined;
        const now = Math.floor(Date.now() / 1000);
        await ctx.stores.clients.upsert({
          id: o.id,
          name: o.name ?? o.id,
          type: o.type as Client['type'],
          secretHash: secret ? ctx.box.hashClientSecret(secret) : undefined,
          redirectUris: o.redirectUri,
          grantTypes: o.grant,
          scopes: o.scope,
          audience: o.audience,
          resources: o.resource,
          accessTokenTtl: undefined,
          firstParty: false,
          dpopBoundAccessTokens: o.dpopBound === true,
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
