import { fork, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('../servers/child.ts', import.meta.url));

/** What a child reports once it listens (never a secret or a token). */
export interface Ready {
  url: string;
  info?: Record<string, unknown>;
}

export interface Memory {
  /** VmRSS in MiB. */
  rss: number;
  /** VmHWM (peak RSS since start) in MiB. */
  hwm: number;
}

/** Reads VmRSS and VmHWM of a process from /proc (Linux). */
export function memoryOf(pid: number): Memory {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  info: Record<string, unknown>;
  /** Resident memory right after start (before any load). */
  idle: Memory;
  memory(): Memory;
  /** Sends a message and resolves the child's answer (e.g. `{ type: 'stats' }`). */
  ask<T>(message: Record<string, unknown>): Promise<T>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Module under servers/ (without .ts) exporting `start(args)`. */
  kind: string;
  args: Record<string, unknown>;
  logDir: string;
  /** Extra node flags for this child, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
  timeoutMs?: number;
}

/**
 * Starts one server under test in its own Node process on 127.0.0.1 and waits for its URL. The
 * child's stdout/stderr go to a log file in `logDir` so nothing it prints reaches the report.
 */
export async function startServer(name: string, o: StartOptions): Promise<ServerProcess> {
  const logFile = join(o.logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = fork(CHILD, [o.kind], {
    execArgv: ['--import', 'tsx', ...(o.nodeFlags ?? [])],
    env: { ...process.env, BENCH_ARGS: JSON.stringify(o.args), NODE_ENV: 'bench' },
    stdio: ['ignore', fd, fd, 'ipc'],
  });
  closeSync(fd);
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in time; see ${logFile}`)), o.timeoutMs ?? 60_000);
    child.once('exit', (code) => (clearTimeout(timer), reject(new Error(`${name} exited with ${code} during start; see ${logFile}`))));
    child.on('message', function onMessage(m: { type?: string } & Partial<Ready> & { error?: string }) {
      if (m.type === 'ready') (clearTimeout(timer), child.off('message', onMessage), resolve({ url: m.url!, info: m.info ?? {} }));
      if (m.type === 'failed') (clearTimeout(timer), reject(new Error(`${name} failed to start: ${m.error}; see ${logFile}`)));
    });
  });
  child.removeAllListeners('exit');
  const pid = child.pid!;
  return {
    name,
    pid,
    url: ready.url,
    info: ready.info ?? {},
    idle: memoryOf(pid),
    memory: () => memoryOf(pid),
    ask: (message) => ask(child, message),
    stop: () => stop(child),
  };
}

let seq = 0;
function ask<T>(child: ChildProcess, message: Record<string, unknown>): Promise<T> {
  const id = ++seq;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer to ${String(message.type)}`)), 600_000);
    child.on('message', function onMessage(m: { id?: number; result?: T; error?: string }) {
      if (m.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (m.error) reject(new Error(m.error));
      else resolve(m.result as T);
    });
    child.send({ ...message, id });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => (clearTimeout(kill), resolve()));
    child.send({ type: 'stop' });
  });
}
