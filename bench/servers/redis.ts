import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from '../lib/fixtures.ts';
import type { Started } from './child.ts';

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ port, host: '127.0.0.1' }, () => s.write('PING\r\n'));
    s.once('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
    s.once('error', () => resolve(false));
  });
}

/** A private, memory-only redis-server on a free loopback port (never the shared one on 6379). */
export async function start(): Promise<Started> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await ping(port))) throw new Error('redis-server did not start');
  return {
    url: `redis://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
