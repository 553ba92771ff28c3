import type { Command } from 'commander';
import { withContext } from './context.js';
import { list } from './util.js';

/**
 * `tessera resources list`: the registered resource servers (config `resourceServers`, RFC 8707) with
 * their scopes and the clients (config file and database) that may ask for each; and any resource a
 * client names that is not registered (the config file refuses those at start; CLI clients are listed).
 */
export function resourceCommands(program: Command, configFile: () => string | undefined): void {
  const resources = program.command('resources').description('registered resource servers (RFC 8707 resource indicators)');
  resources
    .command('list')
    .description('list the registered resources, their scopes and the clients that may request them')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const rows = await withContext(configFile(), async (ctx) => {
        const stored = await ctx.stores.clients.list();
        // The file's clients reach the database at the next start; list them from the file meanwhile.
        const clients = [
          ...ctx.config.clients.map((c) => ({ id: c.id, audience: c.audience, resources: c.resources ?? [] })),
          ...stored.filter((c) => !ctx.config.clients.some((f) => f.id === c.id)),
        ];
        const registered = ctx.config.resourceServers ?? [];
        const users = (r: string) => clients.filter((c) => c.audience === r || c.resources.includes(r)).map((c) => c.id);
        const known = new Set(registered.map((r) => r.resource));
        const out = registered.map((r) => ({ resource: r.resource, name: r.name, scopes: r.scopes, clients: users(r.resource), registered: true }));
        if (ctx.config.resourceServers) {
          const named = [...new Set(clients.flatMap((c) => [...(c.audience ? [c.audience] : []), ...c.resources]))];
          for (const r of named.filter((x) => !known.has(x))) out.push({ resource: r, name: undefined, scopes: undefined, clients: users(r), registered: false });
        }
        return { out, require: ctx.config.requireResourceIndicator === true };
      });
      if (o.json) {
        console.log(JSON.stringify({ requireResourceIndicator: rows.require, resources: rows.out }, null, 2));
        return;
      }
      list(rows.out.map((r) => [r.resource, r.registered ? (r.scopes ? r.scopes.join(' ') : '(any)') : 'NOT REGISTERED', r.clients.join(' ') || '-']), ['RESOURCE', 'SCOPES', 'CLIENTS']);
      if (rows.require) console.log('requireResourceIndicator: every request must name a resource');
    });
}
