// A vantage point's side of the primary's lease: who holds it per group, and since when on this process's own
// monotonic clock. Every site agent and the control plane keep one. Pure: the clock is passed in.
import type { LeaseView } from './detection';

export const HEARTBEAT_TABLE = 'dr_meta.heartbeat';

interface Grant {
  holder: string;
  grantedAt: number;
  released: boolean;
}

export type RenewAnswer = { granted: true } | { granted: false; holder: string; ageMs: number };

export class LeaseTable {
  private readonly grants = new Map<string, Grant>();
  private readonly startedAt: number;

  constructor(
    private readonly promoteAfterMs: number,
    private readonly now: () => number,
  ) {
    this.startedAt = now();
  }

  /**
   * Granted to the holder it is already granted to, or when nobody holds it: never granted, released, or not
   * renewed for promoteAfter (the old holder has fenced itself by then).
   */
  renew(group: string, holder: string): RenewAnswer {
    const g = this.grants.get(group);
    const ageMs = g ? this.now() - g.grantedAt : 0;
    if (g && g.holder !== holder && !g.released && ageMs < this.promoteAfterMs) return { granted: false, holder: g.holder, ageMs };
    this.grants.set(group, { holder, grantedAt: this.now(), released: false });
    return { granted: true };
  }

  /** Only the holder releases its own lease. */
  release(group: string, holder: string): boolean {
    const g = this.grants.get(group);
    if (!g || g.holder !== holder) return false;
    g.released = true;
    return true;
  }

  view(group: string): LeaseView {
    const g = this.grants.get(group);
    const sinceStartMs = this.now() - this.startedAt;
    return g
      ? { holder: g.holder, released: g.released, ageMs: this.now() - g.grantedAt, sinceStartMs }
      : { holder: null, released: false, ageMs: null, sinceStartMs };
  }

  groups(): string[] {
    return [...this.grants.keys()];
  }
}
