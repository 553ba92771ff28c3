import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './cluster.ts';

const BIN = fileURLToPath(new URL('../../bin/tessera.mjs', import.meta.url));
/** Variables that would override the config file (load.ts): the child must see only the file. */
const OVERRIDES = ['PORT', 'HOST', 'MANAGEMENT_PORT', 'TESSERA_ISSUER', 'DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'TESSERA_CONFIG', 'TESSERA_SECRET'];

export interface ChildServer {
  proc: ChildProcess;
  /** Everything the process wrote (JSON log lines), for failure messages. */
  output(): string;
  /** SIGKILL: no shutdown hook runs, nothing is flushed. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait (the graceful path), or SIGKILL after `ms`. */
  stop(ms?: number): Promise<void>;
}

/** Runs `tessera --config <file> serve` as a real process and waits until `${url}/readyz` answers 200. */
export async function startChild(configFile: string, url: string, secret: string): Promise<ChildServer> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test' };
  for (const k of OVERRIDES) delete env[k];
  env.TESSERA_SECRET = secret;
  // Children run side by side: the management listener on an ephemeral port, not the default 9464.
  env.MANAGEMENT_PORT = '0';
  const proc = spawn(process.execPath, [BIN, '--config', configFile, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-20_000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const gone = () => proc.exitCode !== null || proc.signalCode !== null;
  const ready = await waitFor(async () => {
    if (gone()) return true;
    return fetch(`${url}/readyz`).then((r) => r.status === 200, () => false);
  }, 30_000, 100);
  if (!ready.ok || gone()) {
    proc.kill('SIGKILL');
    throw new Error(`tessera did not become ready:\n${out}`);
  }
  return {
    proc,
    output: () => out,
    async kill9() {
      if (!gone()) proc.kill('SIGKILL');
      await exited;
    },
    async stop(ms = 10_000) {
      if (gone()) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    },
  };
}
