/**
 * The sandbox's notion of "now". Tests move it to create secrets "200 days ago" or to let
 * rotation schedules come due; time keeps flowing from wherever it was set.
 */
export class SandboxClock {
  private offsetMs = 0;
  private frozenAt: number | undefined;

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  /** Jump to `date`; time flows on from there (unless frozen). */
  set(date: Date | string): void {
    const target = new Date(date).getTime();
    if (Number.isNaN(target)) throw new Error(`Clock: not a date: ${String(date)}`);
    if (this.frozenAt !== undefined) this.frozenAt = target;
    else this.offsetMs = target - Date.now();
  }

  advance(ms: number): void {
    this.set(new Date(this.now().getTime() + ms));
  }

  advanceDays(days: number): void {
    this.advance(days * 86_400_000);
  }

  /** Stop time at the current instant, so dates in assertions are exact. */
  freeze(): void {
    this.frozenAt = this.now().getTime();
  }

  unfreeze(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs = this.frozenAt - Date.now();
    this.frozenAt = undefined;
  }

  /** Back to real time. */
  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = undefined;
  }
}
