import { randomBytes } from 'node:crypto';
import { USER_SUB_PREFIX } from '../../config/load.js';
import { isValidUsername, normalizeUsername } from '../../config/auth-settings.js';
import type { Stores, User } from '../../storage/stores.js';
import { hashPassword, passwordProblem } from './password.js';

/** A new subject: `usr_` + 128 random bits, base64url (stable, opaque, never a client id — C11). */
export function newSubject(): string {
  return `${USER_SUB_PREFIX}${randomBytes(16).toString('base64url')}`;
}

const ROLE = /^[A-Za-z0-9:._-]{1,64}$/;

export interface NewUser {
  username: string;
  password: string;
  email?: string | undefined;
  emailVerified?: boolean | undefined;
  name?: string | undefined;
  roles?: string[] | undefined;
}

/**
 * User administration shared by the config loader and the `tessera users` CLI. Throws `TypeError`
 * with a one-line message for invalid input (operator misuse, not an OAuth error).
 */
export class UserService {
  constructor(
    private readonly stores: Pick<Stores, 'users' | 'sessions'>,
    private readonly now: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  async create(input: NewUser, source: User['source'] = 'cli'): Promise<User> {
    const username = checkUsername(input.username);
    const problem = passwordProblem(input.password);
    if (problem) throw new TypeError(`password ${problem}`);
    if (await this.stores.users.findByLogin(username)) throw new TypeError(`user ${username} already exists`);
    const email = input.email?.toLowerCase();
    if (email && (await this.stores.users.findByLogin(email))) throw new TypeError(`e-mail ${email} is already used`);
    const now = this.now();
    const user: User = {
      sub: newSubject(),
      username,
      email,
      emailVerified: input.emailVerified ?? false,
      name: input.name,
      passwordHash: await hashPassword(input.password),
      roles: checkRoles(input.roles ?? ['user']),
      source,
      createdAt: now,
      updatedAt: now,
    };
    await this.stores.users.upsert(user);
    return user;
  }

  /** By subject, username or e-mail address. */
  async find(login: string): Promise<User | undefined> {
    const bySub = login.startsWith(USER_SUB_PREFIX) ? await this.stores.users.get(login) : undefined;
    return bySub ?? this.stores.users.findByLogin(normalizeUsername(login));
  }

  /** Sets a new password and ends the user's sessions (a password change signs out everywhere). */
  async setPassword(login: string, password: string): Promise<User> {
    const user = await this.#require(login);
    const problem = passwordProblem(password);
    if (problem) throw new TypeError(`password ${problem}`);
    const updated = { ...user, passwordHash: await hashPassword(password), updatedAt: this.now() };
    await this.stores.users.upsert(updated);
    await this.stores.sessions.deleteForUser(user.sub);
    return updated;
  }

  async setRoles(login: string, roles: string[]): Promise<User> {
    const user = await this.#require(login);
    const updated = { ...user, roles: checkRoles(roles), updatedAt: this.now() };
    await this.stores.users.upsert(updated);
    return updated;
  }

  /** Deletes the user with their sessions and consents. */
  async delete(login: string): Promise<User> {
    const user = await this.#require(login);
    await this.stores.users.delete(user.sub);
    return user;
  }

  list(): Promise<User[]> {
    return this.stores.users.list();
  }

  async #require(login: string): Promise<User> {
    const user = await this.find(login);
    if (!user) throw new TypeError(`no such user: ${login.slice(0, 64)}`);
    return user;
  }
}

function checkUsername(name: string): string {
  if (!isValidUsername(name)) throw new TypeError('username: 1-64 letters, digits and . _ - @');
  return normalizeUsername(name);
}

export function checkRoles(roles: string[]): string[] {
  for (const r of roles) if (!ROLE.test(r)) throw new TypeError(`invalid role name: ${r.slice(0, 64)}`);
  return [...new Set(roles)];
}
