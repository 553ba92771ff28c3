import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * How a cut looks to the client:
 * - `reset`: every open connection is destroyed and new ones are closed at once (the service crashed
 *   or was stopped: the client sees "Connection terminated" / ECONNRESET quickly);
 * - `blackhole`: open connections stay open but go silent, new ones are accepted but nothing is ever
 *   forwarded (a network partition: the client only learns through its own timeouts).
 */
export type CutMode = 'reset' | 'blackhole';

/**
 * A TCP proxy between Tessera and a shared service (PostgreSQL, Redis) that a test can cut and
 * restore, so outages are simulated without touching the machine's service that other tests use.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #open = new Set<Socket>();
  #mode: CutMode | undefined;
  port = 0;

  private constructor(private readonly targetHost: string, private readonly targetPort: number) {
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target.host, target.port);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = proxy.#server.address();
    if (typeof addr !== 'object' || !addr) throw new Error('proxy has no address');
    proxy.port = addr.port;
    return proxy;
  }

  /** `url` with its host and port replaced by this proxy's. */
  via(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  get connections(): number {
    return this.#open.size;
  }

  cut(mode: CutMode = 'reset'): void {
    this.#mode = mode;
    if (mode === 'reset') return this.#dropAll();
    // Silence: stop forwarding in both directions; nothing is closed, nothing arrives.
    for (const s of this.#open) {
      s.unpipe();
      s.pause();
    }
  }

  restore(): void {
    this.#mode = undefined;
    // Connections silenced or accepted during a blackhole cannot resume cleanly: end them so clients reconnect.
    this.#dropAll();
  }

  async close(): Promise<void> {
    this.#dropAll();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dropAll(): void {
    for (const s of this.#open) s.destroy();
    this.#open.clear();
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#mode === 'reset') {
      client.destroy();
      return;
    }
    this.#open.add(client);
    client.on('close', () => this.#open.delete(client));
    if (this.#mode === 'blackhole') return;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    this.#open.add(upstream);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => {
      this.#open.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
