// The drift audit: what cleanup must return the estate to, and every way the estate now differs from it.
// Pure: the snapshot is taken by activities, compared here.
import type { DriftItem } from './drill';

export interface DatabaseSnapshot {
  readOnly: boolean | null;
  /** host:port it replicates from, or null for none. */
  source: string | null;
  replicating: boolean | null;
  lagSeconds: number | null;
  /** Why it could not be read. */
  why?: string;
}

export interface EstateSnapshot {
  takenAt: string;
  primary: string | null;
  databases: Record<string, DatabaseSnapshot>;
  /** Per site, its ProxySQL runtime servers as `hostgroup host:port STATUS`; null without ProxySQL. */
  proxysql: Record<string, string[] | null>;
  /** Record name → the site whose value it holds (or the raw value). */
  dns: Record<string, string | null>;
  /** Per site, `service replicas (min..max)`. */
  scale: Record<string, string[]>;
  /** Schedule id → paused. */
  schedules: Record<string, boolean>;
}

/** Every difference from the baseline; a replica's lag only counts when it is over the budget. */
export function auditDrift(baseline: EstateSnapshot, now: EstateSnapshot, maxLagSeconds: number): DriftItem[] {
  const drift: DriftItem[] = [];
  const differ = (what: string, before: unknown, after: unknown) => {
    const b = text(before);
    const a = text(after);
    if (b !== a) drift.push({ what, baseline: b, now: a });
  };
  differ('primary', baseline.primary, now.primary);
  for (const [site, db] of Object.entries(baseline.databases)) {
    const after = now.databases[site];
    differ(`${site} read-only`, db.readOnly, after?.readOnly ?? after?.why ?? 'unknown');
    differ(`${site} replicates from`, db.source, after?.source ?? null);
    differ(`${site} replication running`, db.replicating, after?.replicating ?? null);
    const lag = after?.lagSeconds;
    if (db.source && after?.source && (lag === null || lag === undefined || lag > maxLagSeconds))
      drift.push({
        what: `${site} replication lag`,
        baseline: `≤ ${maxLagSeconds} s`,
        now: lag === null || lag === undefined ? 'unknown' : `${lag} s`,
      });
  }
  for (const site of keys(baseline.proxysql, now.proxysql)) differ(`${site} ProxySQL runtime servers`, baseline.proxysql[site], now.proxysql[site]);
  for (const name of keys(baseline.dns, now.dns)) differ(`DNS ${name}`, baseline.dns[name], now.dns[name]);
  for (const site of keys(baseline.scale, now.scale)) differ(`${site} Kubernetes sizes`, baseline.scale[site], now.scale[site]);
  for (const id of keys(baseline.schedules, now.schedules))
    differ(`schedule ${id}`, pausedText(baseline.schedules[id]), pausedText(now.schedules[id]));
  return drift;
}

const pausedText = (paused: boolean | undefined) => (paused === undefined ? 'missing' : paused ? 'paused' : 'running');

const keys = (a: Record<string, unknown>, b: Record<string, unknown>) => [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();

function text(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'none';
  if (Array.isArray(v)) return [...v].map(String).sort().join('; ') || 'none';
  return String(v);
}
