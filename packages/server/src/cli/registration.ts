import type { Command } from 'commander';
import { seconds } from '../config/load.js';
import { createInitialAccessToken } from '../engine/registration/index.js';
import { withContext } from './context.js';
import { fail, isoTime } from './util.js';

/**
 * `tessera registration token create`: an initial access token for gated dynamic registration
 * (RFC 7591 §3, `registration.open: false`). Printed once; only its hash is stored.
 */
export function registrationCommands(program: Command, configFile: () => string | undefined): void {
  const registration = program.command('registration').description('dynamic client registration (RFC 7591)');
  const token = registration.command('token').description('initial access tokens for POST /register');
  token
    .command('create')
    .description('create an initial access token (printed once)')
    .option('--label <text>', 'what it is for (shown to operators only)', 'initial access token')
    .option('--uses <n>', 'how many registrations it allows', '1')
    .option('--ttl <duration>', 'how long it is valid, e.g. 1h or 7d', '1d')
    .action(async (o: { label: string; uses: string; ttl: string }) => {
      const problems: string[] = [];
      const uses = /^\d+$/.test(o.uses) ? Number(o.uses) : NaN;
      if (!(uses >= 1 && uses <= 100000)) problems.push('--uses must be a whole number from 1 to 100000');
      const ttl = /^\d+(s|m|h|d)?$/.test(o.ttl) ? seconds(/^\d+$/.test(o.ttl) ? Number(o.ttl) : o.ttl) : NaN;
      if (!(ttl >= 60 && ttl <= 366 * 86400)) problems.push('--ttl must be a duration from 60s to 366d');
      // eslint-disable-next-line no-control-regex
      if (o.label.length > 200 || /[\x00-\x1F\x7F]/.test(o.label)) problems.push('--label must be at most 200 printable characters');
      if (problems.length) fail(problems);
      await withContext(configFile(), async (ctx) => {
        if (!ctx.config.registration.enabled) console.error('warning: registration.enabled is false in this configuration; POST /register is not served');
        const r = await createInitialAccessToken(ctx.stores.registrations, { label: o.label, uses, ttl, now: Math.floor(Date.now() / 1000) });
        console.error(`initial access token for ${uses} registration(s), valid until ${isoTime(r.expiresAt)} (shown once):`);
        console.log(r.token);
      });
    });
}
