/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --profile`): self time per function and per
 * package, the quickest way to see where a server's time goes without extra tools.
 *   node --import tsx profile-summary.ts results/profiles-…/tessera-RS256.cpuprofile [top]
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.includes('/packages/')) return `tessera:${url.split('/packages/')[1]!.split('/src/')[0]}`;
  return url.startsWith('node:') ? 'node' : url === '' ? '(native/gc/idle)' : url.split('/').slice(-2).join('/');
};
const fns = new Map<string, number>();
const pkgs = new Map<string, number>();
for (const [id, t] of self) {
  const n = byId.get(id)!;
  const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + t);
  pkgs.set(where(n.callFrame.url), (pkgs.get(where(n.callFrame.url)) ?? 0) + t);
}
const show = (m: Map<string, number>, top: number) =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, t]) => `${((t / total) * 100).toFixed(1).padStart(5)} %  ${k}`).join('\n');
console.log(`total ${(total / 1e6).toFixed(1)} s sampled\n\nby package:\n${show(pkgs, 15)}\n\nby function (self time):\n${show(fns, Number(topArg ?? 30))}`);
