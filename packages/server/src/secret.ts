import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateSecret } from './engine/keys/secret-box.js';

/**
 * The deployment secret: `TESSERA_SECRET`, or outside production a secret generated once into the
 * data directory (mode 0600) so keys stay decryptable across restarts.
 */
export function resolveSecret(dataDir: string, production: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_SECRET) return env.TESSERA_SECRET;
  if (production) throw new Error('TESSERA_SECRET must be set in production (at least 32 random characters)');
  const file = join(resolve(dataDir), 'secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(resolve(dataDir), { recursive: true, mode: 0o700 });
  const secret = generateSecret();
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return secret;
}
