import type { Plan, Row } from './contest.ts';
import { startServer, type ServerProcess } from './proc.ts';
import type { Spread } from './stats.ts';
import type { Alg } from './fixtures.ts';

export type Mode = 'quick' | 'full';

export interface CryptoLimit {
  signSync: Spread;
  signPool: Spread;
  verifySync: Spread;
}

export interface ScenarioResult {
  id: string;
  title: string;
  rows: Row[];
  /** Named figures computed from the rows (ratios, limits), for targets and the JSON. */
  derived: Record<string, number>;
  notes: string[];
  /** A scenario-specific table (when its figures are not autocannon rows). */
  table?: { header: string[]; rows: string[][] };
  /** Set when the scenario could not run (e.g. the endpoint does not exist yet). */
  skipped?: string;
}

export interface Results {
  limit: Partial<Record<Alg, CryptoLimit>>;
  scenarios: ScenarioResult[];
}

export interface Ctx {
  mode: Mode;
  plan: Plan;
  /** Child logs and data directories (removed at the end). */
  tmp: string;
  /** When set, Tessera and resource-server children run with --cpu-prof into this folder. */
  profileDir: string | undefined;
  results: Results;
  log(s: string): void;
  /** Starts a child server; it is stopped by `stopAll` if the scenario does not stop it. */
  start(name: string, kind: string, args: Record<string, unknown>): Promise<ServerProcess>;
  stopAll(): Promise<void>;
}

export function createCtx(mode: Mode, plan: Plan, tmp: string, profileDir: string | undefined, log: (s: string) => void): Ctx {
  const running = new Set<ServerProcess>();
  return {
    mode,
    plan,
    tmp,
    profileDir,
    results: { limit: {}, scenarios: [] },
    log,
    async start(name, kind, args) {
      const nodeFlags = profileDir && (kind === 'tessera' || kind === 'rs') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${name}`] : [];
      const s = await startServer(name, { kind, args, logDir: tmp, nodeFlags });
      const stop = s.stop;
      s.stop = async () => (running.delete(s), stop());
      running.add(s);
      return s;
    },
    async stopAll() {
      await Promise.all([...running].map((s) => s.stop()));
    },
  };
}
