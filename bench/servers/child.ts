/**
 * Entry point of every child process: `node --import tsx servers/child.ts <kind>` with the kind's
 * arguments in BENCH_ARGS. The kind module exports `start(args)`; the parent talks over IPC.
 */
export interface Started {
  url: string;
  info?: Record<string, unknown>;
  close(): Promise<void>;
  /** Optional request handler for `ask` messages from the parent. */
  handle?(message: Record<string, unknown>): Promise<unknown>;
}

const kind = process.argv[2] ?? '';
if (!/^[a-z0-9-]+$/.test(kind)) throw new Error('bad server kind');
const send = (m: Record<string, unknown>) => process.send?.(m);

try {
  const mod = (await import(`./${kind}.ts`)) as { start(args: Record<string, unknown>): Promise<Started> };
  const server = await mod.start(JSON.parse(process.env.BENCH_ARGS ?? '{}') as Record<string, unknown>);
  process.on('message', (m: { type: string; id?: number }) => {
    if (m.type === 'stop') {
      server.close().finally(() => {
        process.disconnect?.();
        process.exit(0);
      });
      return;
    }
    if (!server.handle) return send({ id: m.id, error: `${kind} answers no messages` });
    server.handle(m).then(
      (result) => send({ id: m.id, result }),
      (e: unknown) => send({ id: m.id, error: e instanceof Error ? e.message : String(e) }),
    );
  });
  process.on('disconnect', () => void server.close().finally(() => process.exit(0)));
  send({ type: 'ready', url: server.url, info: server.info ?? {} });
} catch (e) {
  console.error(e);
  send({ type: 'failed', error: e instanceof Error ? e.message : String(e) });
  process.exitCode = 1;
}
