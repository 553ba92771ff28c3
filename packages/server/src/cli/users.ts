import type { Command } from 'commander';
import { hashPassword } from '../engine/users/password.js';
import { UserService } from '../engine/users/service.js';
import type { User } from '../storage/stores.js';
import { withContext, type CliContext } from './context.js';
import { fail, list, readStdin } from './util.js';

/** Passwords come on stdin (never argv, which other users can read in `ps` and shell history). */
async function passwordFromStdin(): Promise<string> {
  if (process.stdin.isTTY) console.error('password (then Enter, Ctrl-D):');
  const pw = (await readStdin()).replace(/\r?\n$/, '');
  if (!pw) fail(['a password is required on stdin']);
  return pw;
}

async function withUsers(configFile: string | undefined, fn: (users: UserService, ctx: CliContext) => Promise<void>): Promise<void> {
  await withContext(configFile, async (ctx) => {
    try {
      await fn(new UserService(ctx.stores), ctx);
    } catch (e) {
      if (e instanceof TypeError) fail([e.message]);
      throw e;
    }
  });
}

/** Ends every session of the user and revokes their refresh-token families and live access tokens. */
async function signOutEverywhere(ctx: CliContext, user: User, reason: string): Promise<void> {
  await ctx.stores.sessions.deleteForUser(user.sub);
  await ctx.revoker.revokeUser(user.sub, reason);
}

export function userCommands(program: Command, configFile: () => string | undefined): void {
  const users = program.command('users').description('manage users (passwords are read from stdin)');

  users
    .command('create <username>')
    .description('create a user; the password is read from stdin')
    .option('--email <email>', 'e-mail address (users may sign in with it)')
    .option('--name <name>', 'display name (the name claim)')
    .option('--role <role...>', 'roles (default: user)')
    .option('--email-verified', 'mark the e-mail address verified')
    .action(async (username: string, o: { email?: string; name?: string; role?: string[]; emailVerified?: boolean }) => {
      const password = await passwordFromStdin();
      await withUsers(configFile(), async (svc, ctx) => {
        const u = await svc.create({ username, password, email: o.email, name: o.name, roles: o.role, emailVerified: o.emailVerified });
        await ctx.audit('user_created', { sub: u.sub, username: u.username, roles: u.roles });
        console.log(`user ${u.username} created (sub ${u.sub})`);
      });
    });

  users.command('list').description('list users (username, sub, e-mail, roles, where they come from)').action(() =>
    withUsers(configFile(), async (svc) => {
      list((await svc.list()).map((u) => [u.username, u.sub, u.email ?? '-', u.roles.join(','), u.source]), ['USERNAME', 'SUB', 'EMAIL', 'ROLES', 'SOURCE']);
    }),
  );

  users
    .command('set-password <user>')
    .description('new password from stdin; signs the user out everywhere (sessions, refresh tokens, access tokens)')
    .action(async (login: string) => {
      const password = await passwordFromStdin();
      await withUsers(configFile(), async (svc, ctx) => {
        const u = await svc.setPassword(login, password);
        await signOutEverywhere(ctx, u, 'password_changed');
        await ctx.audit('user_password_changed', { sub: u.sub, username: u.username });
        console.log(`password of ${u.username} changed; all sessions and tokens revoked`);
      });
    });

  users.command('set-roles <user> <roles...>').description('replace the roles of a user (new tokens carry them)').action((login: string, roles: string[]) =>
    withUsers(configFile(), async (svc, ctx) => {
      const u = await svc.setRoles(login, roles);
      await ctx.audit('user_roles_changed', { sub: u.sub, username: u.username, roles: u.roles });
      console.log(`roles of ${u.username}: ${u.roles.join(', ')} (new tokens carry them)`);
    }),
  );

  users
    .command('logout <user>')
    .description('end every session of the user and revoke their refresh and access tokens')
    .action((login: string) =>
      withUsers(configFile(), async (svc, ctx) => {
        const u = await svc.find(login);
        if (!u) fail([`no such user: ${login.slice(0, 64)}`]);
        await signOutEverywhere(ctx, u, 'admin_logout');
        await ctx.audit('user_signed_out', { sub: u.sub, username: u.username });
        console.log(`${u.username} signed out everywhere`);
      }),
    );

  users.command('delete <user>').description('delete a user; signs them out everywhere first').action((login: string) =>
    withUsers(configFile(), async (svc, ctx) => {
      const u = await svc.find(login);
      if (!u) fail([`no such user: ${login.slice(0, 64)}`]);
      await signOutEverywhere(ctx, u, 'user_deleted');
      await svc.delete(login);
      await ctx.audit('user_deleted', { sub: u.sub, username: u.username });
      console.log(`user ${u.username} deleted`);
    }),
  );

  // Issue 15: second factors. `reset` is for a lost device; `require`/`optional` set the user's policy.
  const mfa = users.command('mfa').description('second factors of a user (TOTP, recovery codes) and the per-user MFA policy');
  mfa
    .command('reset <user>')
    .description('remove the TOTP factor and recovery codes (lost device); signs the user out everywhere')
    .action((login: string) =>
      withUsers(configFile(), async (svc, ctx) => {
        const u = await svc.find(login);
        if (!u) fail([`no such user: ${login.slice(0, 64)}`]);
        const had = await ctx.stores.mfa.reset(u.sub);
        await signOutEverywhere(ctx, u, 'mfa_reset');
        console.log(had ? `second factor of ${u.username} removed; all sessions and tokens revoked` : `${u.username} had no second factor; all sessions and tokens revoked`);
      }),
    );
  for (const [name, required] of [['require', true], ['optional', false]] as const) {
    mfa
      .command(`${name} <user>`)
      .description(required ? 'every sign-in of the user needs a second factor (set up at the next sign-in)' : 'a second factor is used when the user has one, not required')
      .action((login: string) =>
        withUsers(configFile(), async (svc, ctx) => {
          const u = await svc.find(login);
          if (!u) fail([`no such user: ${login.slice(0, 64)}`]);
          if (u.source === 'config') fail([`${u.username} comes from the config file: set mfa: ${required ? 'required' : 'optional'} there`]);
          await ctx.stores.users.upsert({ ...u, mfaRequired: required, updatedAt: Math.floor(Date.now() / 1000) });
          console.log(`${u.username}: second factor ${required ? 'required' : 'optional'}`);
        }),
      );
  }
  mfa.command('status <user>').description('whether the user has TOTP, how many recovery codes are left, the policy').action((login: string) =>
    withUsers(configFile(), async (svc, ctx) => {
      const u = await svc.find(login);
      if (!u) fail([`no such user: ${login.slice(0, 64)}`]);
      const totp = await ctx.stores.mfa.getTotp(u.sub);
      const state = totp?.confirmedAt !== undefined ? 'on' : totp ? 'set-up started' : 'off';
      console.log(`${u.username}: totp ${state}, recovery codes left ${await ctx.stores.mfa.unusedRecoveryCodes(u.sub)}, policy ${u.mfaRequired ? 'required' : 'optional'}`);
    }),
  );

  users
    .command('hash-password')
    .description('read a password on stdin and print the passwordHash (argon2id) for the config file')
    .action(async () => {
      const password = await passwordFromStdin();
      if (password.length < 8) fail(['the password must be at least 8 characters']);
      try {
        console.log(await hashPassword(password));
      } catch (e) {
        if (e instanceof TypeError) fail([e.message]);
        throw e;
      }
    });
}
