import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTessera, loadConfig, type Tessera } from '../src/index.ts';
import type { RawConfig } from '../src/config/schema.ts';

export interface Running {
  url: string;
  /** The management listener (/metrics), '' with `management: false`. */
  managementUrl: string;
  tessera: Tessera;
  dataDir: string;
  stop(): Promise<void>;
  /** Stops and removes the data directory. */
  dispose(): Promise<void>;
}

export const SERVICE_SECRET = 'service-secret-0123456789abcdef';

export const serviceClient = {
  id: 'svc',
  name: 'Service',
  type: 'confidential' as const,
  secret: SERVICE_SECRET,
  grants: ['client_credentials'],
  scopes: ['orders:read', 'orders:write'],
  audience: 'https://orders.example',
  resources: ['https://billing.example'],
};

/**
 * Starts a real Tessera on 127.0.0.1 (ephemeral port) over a real SQLite file in a fresh data dir.
 * The issuer is the bound URL so tokens and metadata agree.
 */
export async function startServer(overrides: Partial<RawConfig> = {}, dataDir = mkdtempSync(join(tmpdir(), 'tessera-test-'))): Promise<Running> {
  const port = overrides.port ?? (await freePort());
  const config = loadConfig({
    env: { NODE_ENV: 'test' },
    overrides: { issuer: `http://127.0.0.1:${port}`, host: '127.0.0.1', dataDir, logLevel: 'silent', clients: [serviceClient], management: { port: 0, host: '127.0.0.1' }, ...overrides, port },
  });
  const tessera = await createTessera(config, { logger: false, env: {} });
  await tessera.listen();
  const url = `http://127.0.0.1:${port}`;
  const stop = () => tessera.close();
  return { url, managementUrl: tessera.managementUrl() ?? '', tessera, dataDir, stop, dispose: async () => { await stop(); rmSync(dataDir, { recursive: true, force: true }); } };
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export async function postForm(url: string, body: string | Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  const text = typeof body === 'string' ? body : new URLSearchParams(body).toString();
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: text });
}
