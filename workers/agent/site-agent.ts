// The site agent, in the site's worker: probes its own database every probeEvery, writes the heartbeat and
// holds the lease while its database is the primary, fences itself when the lease is lost, and reports what
// it sees to the control plane. It runs in the site, so it is cut off, and powered off, with it.
import type { Site } from '../../config/schema';
import type { LoadedConfig } from '../../config/load';
import type { DetectionPlan, AgentReport } from '../../domain/detection';
import { DatabaseWatch, type DatabaseProbe } from '../../activities/database-watch';
import { tcpAnswers } from '../../activities/vote';
import { LeaseHolder } from './lease-holder';
import type { AgentMetrics } from './agent-metrics';
import type { IncidentReporter } from './reporter';
import { SourceGap } from './source-gap';

export interface AgentDeps {
  loaded: LoadedConfig;
  site: Site;
  detection: DetectionPlan;
  metrics: AgentMetrics;
  reporter: IncidentReporter;
  /** The site's own fence (database read-only, its ProxySQL writer out): the fenceSite activity, called directly. */
  fence: () => Promise<unknown>;
  log: (line: string) => void;
}

export class SiteAgent {
  private readonly db: DatabaseWatch;
  private readonly holders: LeaseHolder[];
  private readonly gap: SourceGap;
  private readonly timers: NodeJS.Timeout[] = [];
  private last: DatabaseProbe = { up: false, writable: false };
  /** Whether this site's database was the primary, writable with the lease, when last seen: only then is its death an incident. */
  private wasPrimary = false;
  private reportedDown = false;
  private ticks = 0;
  private probing = false;
  private fencing = false;

  constructor(private readonly d: AgentDeps) {
    this.db = new DatabaseWatch(d.site, d.loaded.baseDir);
    this.gap = new SourceGap(d.loaded);
    this.holders = this.groups().map((g) => new LeaseHolder(g, d.site.id, vantageOf(d.loaded, g, d.site.id), d.detection.lease.fenceAfterMs, now));
  }

  start(): void {
    const { probeEveryMs, lease } = this.d.detection;
    void this.tick().then(() => this.renew());
    this.timers.push(setInterval(() => void this.tick(), probeEveryMs));
    this.timers.push(setInterval(() => void this.renew(), lease.renewEveryMs));
    // The expiry is checked often, so the self-fence comes well inside the 1 s margin of promoteAfter.
    this.timers.push(setInterval(() => void this.checkExpiry(), 50));
  }

  stop(): void {
    this.timers.forEach(clearInterval);
    this.db.close();
    this.gap.close();
  }

  private groups(): string[] {
    return this.d.loaded.config.groups.filter((g) => g.sites.includes(this.d.site.id)).map((g) => g.id);
  }

  /** A probe that outlasts the interval (a stalled server) is not overlapped by the next one. */
  private async tick(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await this.look();
    } finally {
      this.probing = false;
    }
  }

  private async look(): Promise<void> {
    const full = this.ticks++ % 4 === 0;
    const probe = await this.db.probe(full);
    this.last = full || !probe.up ? probe : { ...this.last, ...probe };
    const holding = this.holders.some((h) => h.held);
    // Only with the lease: a returning old primary that restarts writable must not add a transaction.
    if (probe.up && probe.writable && holding) await this.db.writeHeartbeat();
    if (!probe.up || !probe.writable) await this.releaseAll();
    await this.reportTransitions(probe);
    if (probe.up) this.wasPrimary = probe.writable && holding;
    if (full) await this.publish();
  }

  /** Own database down while it was the primary: report it, and its return. Retried each tick until delivered. */
  private async reportTransitions(probe: DatabaseProbe): Promise<void> {
    const down = !probe.up && this.wasPrimary;
    if (down === this.reportedDown || (!down && !probe.up)) return;
    const report: AgentReport = {
      kind: 'agent',
      from: this.d.site.id,
      suspect: this.d.site.id,
      what: down ? 'database down' : 'recovered',
      detail: down ? (probe.error ?? 'no answer') : 'the database answers again',
      at: new Date().toISOString(),
    };
    try {
      await Promise.all(this.groups().map((g) => this.d.reporter.report(g, report)));
      this.reportedDown = down;
      this.d.log(`agent ${this.d.site.id}: reported ${report.what} (${report.detail})`);
    } catch (err) {
      this.d.log(`agent ${this.d.site.id}: cannot report ${report.what} yet: ${(err as Error).message}`);
    }
  }

  private async renew(): Promise<void> {
    if (!this.last.up || !this.last.writable || this.fencing) return;
    await Promise.all(this.holders.map((h) => h.renew()));
  }

  private async checkExpiry(): Promise<void> {
    const expired = this.holders.filter((h) => h.expired);
    if (expired.length === 0 || this.fencing) return;
    this.fencing = true;
    try {
      const ages = expired.map(
        (h) => `${h.group}: ${h.renewalAgeMs} ms since a majority granted (last grants: ${h.lastGrants.join(', ') || 'none'})`,
      );
      this.d.log(`agent ${this.d.site.id}: lease lost (${ages.join('; ')}): fencing this site's database`);
      await this.d.fence();
      for (const h of expired) this.d.metrics.selfFences.inc({ group: h.group, site: this.d.site.id });
      await this.releaseAll();
      this.wasPrimary = false;
    } catch (err) {
      this.d.log(`agent ${this.d.site.id}: self-fence failed, retrying: ${(err as Error).message}`);
    } finally {
      this.fencing = false;
    }
  }

  private async releaseAll(): Promise<void> {
    await Promise.all(this.holders.filter((h) => h.held).map((h) => h.release()));
  }

  private async publish(): Promise<void> {
    const m = this.d.metrics;
    const p = this.last;
    const router = this.d.site.proxysql ? (await tcpAnswers(this.d.site.proxysql, 300)) === true : null;
    const gap = p.up && !p.writable && p.replication ? await this.gap.of(p, this.db.dialect) : null;
    for (const group of this.groups()) {
      const l = { group, site: this.d.site.id };
      const h = this.holders.find((x) => x.group === group)!;
      m.databaseUp.set(l, p.up ? 1 : 0);
      m.databaseWritable.set(l, p.up && p.writable ? 1 : 0);
      if (router !== null) m.routerUp.set(l, router ? 1 : 0);
      setOrRemove(m.replicationRunning, { ...l, thread: 'io' }, p.replication ? Number(p.replication.ioRunning) : null);
      setOrRemove(m.replicationRunning, { ...l, thread: 'sql' }, p.replication ? Number(p.replication.sqlRunning) : null);
      setOrRemove(m.replicationLag, l, p.replication?.secondsBehind ?? null);
      setOrRemove(m.heartbeatAge, l, p.up ? (p.heartbeatAgeSeconds ?? null) : null);
      setOrRemove(m.gtidGap, l, gap);
      m.leaseHeld.set(l, h.held ? 1 : 0);
      setOrRemove(m.leaseAge, l, h.renewalAgeMs === null ? null : h.renewalAgeMs / 1000);
    }
  }
}

const now = (): number => performance.now();

function setOrRemove<L extends Record<string, string>>(g: { set(l: L, v: number): void; remove(l: L): void }, labels: L, value: number | null): void {
  if (value === null) g.remove(labels);
  else g.set(labels, value);
}

/** The other sites of the group that have an agent, and the control plane. */
function vantageOf(loaded: LoadedConfig, group: string, self: string): Array<{ name: string; url: string }> {
  const { config } = loaded;
  const sites = config.groups.find((g) => g.id === group)!.sites.filter((s) => s !== self);
  const out = sites.flatMap((id) => {
    const agent = config.sites.find((s) => s.id === id)?.agent;
    return agent ? [{ name: id, url: `http://${agent.host}:${agent.port}` }] : [];
  });
  const c = config.detection!.control;
  return [...out, { name: c.name, url: `http://${c.host}:${c.port}` }];
}
