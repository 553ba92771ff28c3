import { existsSync } from 'node:fs';
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
import { CONFIG_FILE, initCommand } from './init.js';
import { registrationCommands } from './registration.js';
import { auditCommands } from './audit.js';

const program = new Command('tessera')
  .description('Tessera OAuth 2.1 / OpenID Connect authorization server')
  .version(packageVersion(), '-V, --version', 'print the version')
  .option('-c, --config <file>', `config file (JSON or YAML); default $TESSERA_CONFIG, else ./${CONFIG_FILE} if present`)
  .showHelpAfterError();
const configFile = (): string | undefined =>
  program.opts<{ config?: string }>().config ?? (process.env.TESSERA_CONFIG || !existsSync(CONFIG_FILE) ? undefined : CONFIG_FILE);

program.command('serve').description('run the server').action(async () => {
  await serve(configFile());
});

program.command('migrate').description('apply pending database migrations').action(async () => {
  const ctx = await openContext(configFile());
  await ctx.close();
  console.log('migrations applied');
});

initCommand(program);
clientCommands(program, configFile);
keyCommands(program, configFile);
userCommands(program, configFile);
resourceCommands(program, configFile);
tokenCommands(program, configFile);
configCommands(program, configFile);
registrationCommands(program, configFile);
auditCommands(program, configFile);

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
