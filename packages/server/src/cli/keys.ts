import type { Command } from 'commander';
import { announce, withContext } from './context.js';
import { isoTime, list } from './util.js';

export function keyCommands(program: Command, configFile: () => string | undefined): void {
  const keys = program.command('keys').description('signing keys');

  keys
    .command('list')
    .description('keys in the JWKS: next (published, not yet signing), active, retired (published until their tokens expire)')
    .action(async () => {
      await withContext(configFile(), async (ctx) => {
        await ctx.keyring.reload();
        list(ctx.keyring.list().map((k) => [k.kid, k.alg, k.state, isoTime(k.createdAt), isoTime(k.activatedAt), isoTime(k.publishUntil)]), ['KID', 'ALG', 'STATE', 'CREATED', 'ACTIVATED', 'PUBLISHED UNTIL']);
      });
    });

  keys
    .command('rotate')
    .description('for each signing algorithm (keys.algorithm, RS256 for ID tokens): activate the published next key, retire the active one, publish a new next key')
    .action(async () => {
      await withContext(configFile(), async (ctx) => {
        await ctx.keyring.init();
        const r = await ctx.keyring.rotate();
        await ctx.audit('key_rotated', { kid: r.activated, rotations: r.rotations });
        for (const x of r.rotations) console.log(`${x.alg} active: ${x.activated}${x.retired ? `\n${x.alg} retired: ${x.retired}` : ''}`);
        await announce(ctx.config, 'keys', r.activated);
        console.log(ctx.config.redisUrl ? 'running servers were told through Redis' : `running servers pick the change up within ${ctx.config.keys.reloadEvery}s`);
      });
    });
}
