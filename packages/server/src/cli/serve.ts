import { loadConfig } from '../config/load.js';
import { createTessera, type Tessera } from '../server.js';
import { VERSION } from '../version.js';

/** `sqlite` or `postgresql`, from the database URL (never the URL itself: it may hold a password). */
export function storageKind(databaseUrl: string): 'sqlite' | 'postgresql' {
  return /^postgres(ql)?:\/\//.test(databaseUrl) ? 'postgresql' : 'sqlite';
}

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (in-flight requests finish, DB closes). */
export async function serve(configFile: string | undefined): Promise<Tessera> {
  const config = loadConfig({ file: configFile });
  const tessera = await createTessera(config);
  const address = await tessera.listen();
  // One start-up line with what an operator checks first; no secret, no database URL (it may hold a password).
  tessera.app.log.info(
    { version: VERSION, address, issuer: config.issuer, storage: storageKind(config.databaseUrl), keyAlgorithm: config.keys.algorithm, redis: Boolean(config.redisUrl), node: process.version },
    'tessera listening',
  );
  if (tessera.managementUrl()) tessera.app.log.info({ address: tessera.managementUrl() }, 'management listener (/metrics) listening');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    tessera.app.log.info({ signal }, 'shutting down');
    tessera.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return tessera;
}
