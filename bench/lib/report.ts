import { cpus, loadavg, totalmem } from 'node:os';
import type { Plan } from './contest.ts';
import type { Mode, Results } from './context.ts';
import type { TargetCheck } from './targets.ts';
import { fmtRate, fmtRatio, fmtSpread } from './stats.ts';

export interface Machine {
  nproc: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadavgStart: number[];
  loadavgEnd?: number[];
}

export function machine(): Machine {
  return {
    nproc: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavgStart: loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

export interface Report {
  date: string;
  mode: Mode;
  command: string;
  machine: Machine;
  plan: Plan;
  versions: Record<string, string>;
  targets: TargetCheck[];
  results: Results;
  durationSeconds: number;
}

const fmtMeasured = (t: TargetCheck) => (t.measured === undefined ? '–' : t.unit === '×' ? fmtRatio(t.measured) : `${t.measured.toFixed(0)}${t.unit}`);
const fmtGoal = (t: TargetCheck) => (t.kind === 'ratio' ? `≥ ${t.goal}×` : `≤ ${t.goal}${t.unit}`);
const STATUS = { met: '✅ met', missed: '❌ missed', pending: '⏳ pending' } as const;

/** The Markdown report: header, targets, limit, one table per scenario. */
export function markdown(r: Report): string {
  const m = r.machine;
  const out: string[] = [
    `# Tessera benchmark — ${r.mode === 'quick' ? 'QUICK run (harness validation, short runs: indicative only)' : 'full run'}`,
    '',
    `- Date: ${r.date} (took ${Math.round(r.durationSeconds)} s)`,
    `- Machine: ${m.nproc} cores (${m.cpu}), ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}; load average at start ${m.loadavgStart.join(' / ')}${m.loadavgEnd ? `, at end ${m.loadavgEnd.join(' / ')}` : ''}`,
    `- Command: \`${r.command}\``,
    `- Plan: ${r.plan.runs} timed runs of ${r.plan.seconds} s per contestant after a ${r.plan.warmupSeconds} s warm-up, ${r.plan.connections} connections, autocannon on the same machine; contestants alternate, the first rotating per round. Figures: median (min–max) of 2xx responses per second.`,
    `- Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## Targets',
    '',
    '| target | goal | measured | status |',
    '|---|---|---|---|',
    ...r.targets.map((t) => `| ${t.target} | ${fmtGoal(t)} | ${fmtMeasured(t)} | ${STATUS[t.status]}${t.gap ? ` — ${t.gap}` : ''} |`),
    '',
    '## The limit: raw node:crypto in one process',
    '',
    '| alg | sign, one thread /s | sign, thread pool /s | verify, one thread /s |',
    '|---|---|---|---|',
    ...Object.entries(r.results.limit).map(([alg, l]) => `| ${alg} | ${fmtSpread(l.signSync)} | ${fmtSpread(l.signPool)} | ${fmtSpread(l.verifySync)} |`),
    '',
  ];
  for (const s of r.results.scenarios) {
    out.push(`## ${s.title}`, '');
    if (s.skipped) {
      out.push(`Skipped: ${s.skipped}`, '');
      continue;
    }
    if (s.table) out.push(`| ${s.table.header.join(' | ')} |`, `|${s.table.header.map(() => '---').join('|')}|`, ...s.table.rows.map((r) => `| ${r.join(' | ')} |`), '');
    if (s.rows.length) out.push('| contestant | 2xx/s median (min–max) | p50 ms | p99 ms | idle RSS MiB | peak RSS MiB | failures |', '|---|---|---|---|---|---|---|');
    for (const row of s.rows) {
      const fail = row.non2xx || row.errors ? `⚠ ${row.non2xx} non-2xx, ${row.errors} errors` : '0';
      out.push(`| ${row.name} | ${fmtSpread(row.rate)} | ${row.p50.median} | ${row.p99.median} | ${row.idleRssMiB.toFixed(0)} | ${row.peakRssMiB.toFixed(0)} | ${fail} |`);
    }
    if (s.rows.length) out.push('');
    const d = Object.entries(s.derived).map(([k, v]) => `${k} ${/^(vs|fraction)|Vs|Gain/.test(k) ? fmtRatio(v) : /Ms$/.test(k) ? `${v.toFixed(0)} ms` : fmtRate(v)}`);
    if (d.length) out.push(`Derived: ${d.join(' · ')}`, '');
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length) out.push('');
  }
  return out.join('\n');
}
