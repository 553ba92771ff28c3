/** Revoked `jti`s, each kept until its token's `exp` (+ clock tolerance) and then purged (RFC 7662 §4). */
export class Denylist {
  private readonly until = new Map<string, number>();
  constructor(private readonly graceSec: number) {}

  add(jti: string, exp: number): void {
    const t = exp + this.graceSec;
    if ((this.until.get(jti) ?? -Infinity) < t) this.until.set(jti, t);
  }

  has(jti: string, nowSec: number): boolean {
    const t = this.until.get(jti);
    if (t === undefined) return false;
    if (t >= nowSec) return true;
    this.until.delete(jti);
    return false;
  }

  purge(nowSec: number): void {
    for (const [jti, t] of this.until) if (t < nowSec) this.until.delete(jti);
  }

  get size(): number {
    return this.until.size;
  }
}
