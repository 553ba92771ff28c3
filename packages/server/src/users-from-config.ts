import type { UserConfig } from './config/schema.js';
import { normalizeUsername } from './config/auth-settings.js';
import { hashPassword, verifyPassword } from './engine/users/password.js';
import { checkRoles, newSubject } from './engine/users/service.js';
import type { Stores, User } from './storage/stores.js';

/**
 * Applies the users declared in the config file idempotently, keyed by username: the `sub` of an
 * existing user is kept (so tokens and consents stay valid), a plain development password is re-hashed
 * only when it changed, and a config-declared user that left the file is deleted. CLI users are left alone.
 */
export async function applyConfigUsers(declared: UserConfig[], stores: Pick<Stores, 'users'>, now: number): Promise<void> {
  const existing = await stores.users.list();
  const byName = new Map(existing.map((u) => [u.username, u]));
  const keep = new Set<string>();
  for (const c of declared) {
    const username = normalizeUsername(c.username);
    const prior = byName.get(username);
    const sub = c.sub ?? prior?.sub ?? newSubject();
    if (prior && prior.sub !== sub) await stores.users.delete(prior.sub);
    const same = prior?.sub === sub ? prior : undefined;
    await stores.users.upsert({
      sub,
      username,
      email: c.email?.toLowerCase(),
      emailVerified: c.emailVerified ?? false,
      name: c.name,
      passwordHash: await passwordHashFor(c, same),
      roles: checkRoles(c.roles ?? ['user']),
      mfaRequired: c.mfa === 'required',
      source: 'config',
      createdAt: same?.createdAt ?? now,
      updatedAt: now,
    });
    keep.add(sub);
  }
  for (const u of existing) {
    if (u.source === 'config' && !keep.has(u.sub)) await stores.users.delete(u.sub);
  }
}

async function passwordHashFor(c: UserConfig, prior: User | undefined): Promise<string> {
  if (c.passwordHash) return c.passwordHash;
  if (prior && (await verifyPassword(c.password!, prior.passwordHash))) return prior.passwordHash;
  return hashPassword(c.password!);
}
