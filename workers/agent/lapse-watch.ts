// A vantage point's watch on the leases it grants: a holder that stops renewing (its site powered off or cut
// off) is reported as a suspect, once per lapse, and again when it renews. This is the fast path for a site
// whose own agent can no longer say anything.
import type { AgentReport } from '../../domain/detection';
import type { LeaseTable } from '../../domain/lease';
import type { IncidentReporter } from './reporter';

export class LapseWatch {
  /** group → the holder reported as lapsed (until delivered, the report is retried each look). */
  private readonly lapsed = new Map<string, { holder: string; delivered: boolean }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly vantage: string,
    private readonly leases: LeaseTable,
    private readonly reporter: IncidentReporter,
    private readonly lapseAfterMs: number,
    private readonly log: (line: string) => void,
  ) {}

  start(everyMs: number): void {
    this.timer = setInterval(() => void this.look(), everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async look(): Promise<void> {
    for (const group of this.leases.groups()) {
      const v = this.leases.view(group);
      const was = this.lapsed.get(group);
      const lapsed = v.holder !== null && !v.released && (v.ageMs ?? 0) > this.lapseAfterMs;
      if (was && was.holder !== v.holder) this.lapsed.delete(group); // a new holder: the old one's lapse is history
      if (lapsed && (!was || !was.delivered || was.holder !== v.holder))
        await this.send(group, v.holder!, 'lease lapsed', `no renewal for ${Math.round(v.ageMs!)} ms`);
      else if (!lapsed && was?.holder === v.holder && v.holder && !v.released) await this.send(group, v.holder, 'recovered', 'renewing again');
    }
  }

  private async send(group: string, holder: string, what: AgentReport['what'], detail: string): Promise<void> {
    const report: AgentReport = { kind: 'agent', from: this.vantage, suspect: holder, what, detail, at: new Date().toISOString() };
    try {
      await this.reporter.report(group, report);
      if (what === 'recovered') this.lapsed.delete(group);
      else this.lapsed.set(group, { holder, delivered: true });
      this.log(`vantage ${this.vantage}: reported ${holder} ${what} (${detail})`);
    } catch (err) {
      if (what !== 'recovered') this.lapsed.set(group, { holder, delivered: false });
      this.log(`vantage ${this.vantage}: cannot report ${holder} ${what} yet: ${(err as Error).message}`);
    }
  }
}
