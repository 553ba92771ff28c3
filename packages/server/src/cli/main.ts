import { Command } from 'commander';
import { ConfigError } from '../config/load.js';
import { clientCommands } from './clients.js';
import { configCommands } from './config-cmd.js';
import { tokenCommands } from './token.js';
import { packageVersion } from './version.js';
import { keyCommands } from './keys.js';
import { userCommands } from './users.js';
import { resourceCommands } from './resources.js';
import { openContext } from './context.js';
import { serve } from './serve.js';

const program = new Command('tessera')
  .description('Tessera OAuth 2.1 / OpenID Connect authorization server')
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('-c, --config <file>', 'config file (JSON or YAML); default $TESSERA_CONFIG')
  .showHelpAfterError();
const configFile = (): string | undefined => program.opts<{ config?: string }>().config;

program.command('serve').description('run the server').action(async () => {
  await serve(configFile());
});

program.command('migrate').description('apply pending database migrations').action(async () => {
  const ctx = await openContext(configFile());
  await ctx.close();
  console.log('migrations applied');
});

clientCommands(program, configFile);
keyCommands(program, configFile);
userCommands(program, configFile);
resourceCommands(program, configFile);
tokenCommands(program, configFile);
configCommands(program, configFile);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof ConfigError) {
    console.error(e.message);
    process.exit(2);
  }
  console.error(`error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
