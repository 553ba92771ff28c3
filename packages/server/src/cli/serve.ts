import { loadConfig } from '../config/load.js';
import { createTessera, type Tessera } from '../server.js';

/** Starts the server and stops it gracefully on SIGTERM/SIGINT (in-flight requests finish, DB closes). */
export async function serve(configFile: string | undefined): Promise<Tessera> {
  const config = loadConfig({ file: configFile });
  const tessera = await createTessera(config);
  const address = await tessera.listen();
  tessera.app.log.info({ address, issuer: config.issuer, database: config.databaseUrl.split(':')[0] }, 'tessera listening');
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
