// The estate as cleanup must leave it: each database's role and source, every ProxySQL's runtime servers, the
// DNS records, the Kubernetes sizes and the schedules. Each part is read through the worker of its own site.
import type { DatabaseSnapshot, EstateSnapshot } from '../../domain/drill-audit';
import { errorText } from '../../domain/errors';
import { control, inspectSite, isAvailable, siteActivities } from '../kit/sites';
import type { Drill } from '../drill';

export async function estateSnapshot(d: Drill, step: 'baseline' | 'audit'): Promise<EstateSnapshot> {
  const { run, input } = d;
  const group = run.plan.groups.find((g) => g.id === input.group)!;
  return run.progress.run(
    step,
    async () => {
      const [databases, proxysql, scale, schedules] = await Promise.all([
        each(group.sites, (site) => database(d, site)),
        each(
          run.plan.sites.filter((s) => s.proxysql).map((s) => s.id),
          (site) => proxysqlOf(d, site),
        ),
        each(
          run.plan.sites.filter((s) => s.kubernetes && group.sites.includes(s.id)).map((s) => s.id),
          (site) => scaleOf(d, site),
        ),
        control.scheduleStates(),
      ]);
      const primary = Object.entries(databases).find(([, db]) => db.readOnly === false && !db.source)?.[0] ?? null;
      return { takenAt: new Date().toISOString(), primary, databases, proxysql, dns: await dnsOf(d, primary), scale, schedules };
    },
    (snapshot) => ({ snapshot }),
  );
}

async function each<T>(sites: string[], read: (site: string) => Promise<T>): Promise<Record<string, T>> {
  return Object.fromEntries(await Promise.all(sites.map(async (site) => [site, await read(site)] as const)));
}

async function database(d: Drill, site: string): Promise<DatabaseSnapshot> {
  const db = await inspectSite(d.run.plan, site);
  if (!isAvailable(db)) return { readOnly: null, source: null, replicating: null, lagSeconds: null, why: db.why };
  const r = db.replication;
  return {
    readOnly: db.readOnly,
    source: r ? `${r.sourceHost}:${r.sourcePort}` : null,
    replicating: r ? r.ioRunning && r.sqlRunning : null,
    lagSeconds: r?.secondsBehind ?? null,
  };
}

async function proxysqlOf(d: Drill, site: string): Promise<string[] | null> {
  try {
    const rows = await siteActivities(d.run.plan, site).proxysqlRead();
    return rows ? rows.map((r) => `${r.hostgroup_id} ${r.hostname}:${r.port} ${r.status}`) : null;
  } catch (err) {
    return [`unreadable: ${errorText(err)}`];
  }
}

async function scaleOf(d: Drill, site: string): Promise<string[]> {
  try {
    const sizes = await siteActivities(d.run.plan, site).readScale({ group: d.input.group });
    return sizes.map((s) => `${s.service} ${s.replicas}${s.hpa ? ` (${s.hpa.minReplicas}..${s.hpa.maxReplicas})` : ''}`);
  } catch (err) {
    return [`unreadable: ${errorText(err)}`];
  }
}

/** The DNS records, read through the primary's worker (any reachable site would do). */
async function dnsOf(d: Drill, primary: string | null): Promise<Record<string, string | null>> {
  if (d.run.plan.dnsRecords.length === 0 || !primary) return {};
  try {
    const records = await siteActivities(d.run.plan, primary).dnsRead();
    return Object.fromEntries(records.map((r) => [r.name, r.site ?? (r.current ? r.current.values.join(',') : null)]));
  } catch (err) {
    return { error: `unreadable: ${errorText(err)}` };
  }
}
