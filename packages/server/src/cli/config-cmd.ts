import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Document } from 'yaml';
import { clientToConfig, userToConfig } from './config-shapes.js';
import { withContext } from './context.js';
import { fail } from './util.js';

export function configCommands(program: Command, configFile: () => string | undefined): void {
  const config = program.command('config').description('the configuration file');

  config
    .command('export')
    .description('print the clients and users in the database as a config file (secrets and passwords as hashes only)')
    .option('--format <format>', 'yaml or json', 'yaml')
    .option('-o, --output <file>', 'write to a new file (mode 0600) instead of stdout')
    .addHelpText(
      'after',
      '\nA client\'s secretHash is keyed by TESSERA_SECRET: the export re-imports on deployments that share it.\n' +
        'Users keep their sub, so their tokens and consents stay valid.',
    )
    .action(async (o: { format: string; output?: string }) => {
      if (o.format !== 'yaml' && o.format !== 'json') fail(['--format: yaml or json']);
      const text = await withContext(configFile(), async (ctx) => {
        const clients = (await ctx.stores.clients.list()).map(clientToConfig);
        const users = (await ctx.stores.users.list()).map(userToConfig);
        const body = { clients, users };
        if (o.format === 'json') return `${JSON.stringify(body, null, 2)}\n`;
        const doc = new Document(body);
        doc.commentBefore =
          ` Clients and users exported from ${ctx.config.databaseUrl.split(':')[0]} at ${new Date().toISOString()}.\n` +
          ' Hashes only: each secretHash is valid with this deployment\'s TESSERA_SECRET.';
        return doc.toString({ lineWidth: 0 });
      });
      if (o.output) {
        try {
          writeFileSync(o.output, text, { mode: 0o600, flag: 'wx' });
        } catch (e) {
          fail([`--output ${o.output}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`]);
        }
        console.log(`wrote ${o.output}`);
      } else {
        process.stdout.write(text);
      }
    });
}
