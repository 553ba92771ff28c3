/** Prints problems to stderr and exits 2. */
export function fail(problems: string[]): never {
  for (const p of problems) console.error(`error: ${p}`);
  process.exit(2);
}

export function list(rows: string[][], header: string[]): void {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  for (const r of all) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function isoTime(epoch: number | undefined): string {
  return epoch === undefined ? '-' : new Date(epoch * 1000).toISOString();
}
