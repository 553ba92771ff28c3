/** Median with min and max of repeated runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, runs: values };
}

export function fmtRate(v: number): string {
  if (!Number.isFinite(v)) return '–';
  return v >= 10_000 ? `${(v / 1000).toFixed(1)}k` : v >= 1000 ? `${(v / 1000).toFixed(2)}k` : v.toFixed(0);
}

export function fmtSpread(s: Spread): string {
  return `${fmtRate(s.median)} (${fmtRate(s.min)}–${fmtRate(s.max)})`;
}

export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : NaN;
}

export function fmtRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : '–';
}
