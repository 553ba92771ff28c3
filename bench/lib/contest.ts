import { load, type LoadResult, type LoadSpec } from './load.ts';
import { spread, type Spread } from './stats.ts';
import type { ServerProcess } from './proc.ts';

export interface Plan {
  warmupSeconds: number;
  seconds: number;
  runs: number;
  connections: number;
}

export interface Contestant {
  name: string;
  server: ServerProcess;
  spec: Omit<LoadSpec, 'url' | 'seconds' | 'connections'>;
  /** Runs before each of this contestant's runs, outside the timed window (e.g. signing DPoP proofs). */
  prepare?: (seconds: number) => void | Promise<void>;
}

export interface Row {
  name: string;
  server: string;
  rate: Spread;
  p50: Spread;
  p99: Spread;
  /** Non-2xx answers and connection errors over every timed run: anything above 0 is flagged. */
  non2xx: number;
  errors: number;
  idleRssMiB: number;
  peakRssMiB: number;
}

/**
 * Runs contestants alternately: a warm-up each, then `runs` rounds in which every contestant gets one
 * timed run, the starting contestant rotating per round so drift and noise hit all alike. `eachRound`
 * runs once per round after the contestants (e.g. a raw crypto measurement in the same time window).
 */
export async function contest(list: Contestant[], plan: Plan, log: (s: string) => void, eachRound?: () => Promise<void>): Promise<Row[]> {
  const runs = new Map<string, LoadResult[]>(list.map((c) => [c.name, []]));
  const go = async (c: Contestant, seconds: number) => {
    await c.prepare?.(seconds);
    return load({ ...c.spec, url: c.server.url, seconds, connections: plan.connections });
  };
  for (const c of list) {
    const w = await go(c, plan.warmupSeconds);
    if (w.ok === 0) throw new Error(`${c.name}: no successful response during warm-up (${w.non2xx} non-2xx, ${w.errors} errors)`);
  }
  for (let r = 0; r < plan.runs; r++) {
    for (let i = 0; i < list.length; i++) {
      const c = list[(i + r) % list.length]!;
      const res = await go(c, plan.seconds);
      runs.get(c.name)!.push(res);
      log(`    ${c.name.padEnd(34)} run ${r + 1}/${plan.runs}: ${res.rps.toFixed(0)}/s p99 ${res.p99} ms${res.non2xx || res.errors ? ` (${res.non2xx} non-2xx, ${res.errors} errors)` : ''}`);
    }
    await eachRound?.();
  }
  return list.map((c) => {
    const rs = runs.get(c.name)!;
    const mem = c.server.memory();
    return {
      name: c.name,
      server: c.server.name,
      rate: spread(rs.map((x) => x.rps)),
      p50: spread(rs.map((x) => x.p50)),
      p99: spread(rs.map((x) => x.p99)),
      non2xx: rs.reduce((n, x) => n + x.non2xx, 0),
      errors: rs.reduce((n, x) => n + x.errors, 0),
      idleRssMiB: c.server.idle.rss,
      peakRssMiB: mem.hwm,
    };
  });
}
