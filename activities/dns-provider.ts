// The DNS provider the config names: Route 53 (UPSERT, then GetChange until INSYNC) or RFC 2136 (a TSIG-signed
// update to the primary, in sync when every authoritative server answers it). One shape for the runbooks.
import type { DnsConfig, InsyncResult, PointedRecord, PointResult, RecordReading, RestoreResult } from './dns';
import { pointRecordsAt, readRecords, restoreRecords, waitForInsync } from './dns';
import { resolveThroughSite, rfc2136PointAt, rfc2136Read, rfc2136Restore, rfc2136WaitInsync } from './dns-rfc2136';
import { zoneSerial } from './dns-query';
import { heartbeat } from './heartbeat';

export interface DnsWaitInput {
  changeId: string | null;
  timeoutMs: number;
  /** RFC 2136: the records the change set, each server must answer them; Route 53 ignores it. */
  records?: Array<Pick<PointedRecord, 'name' | 'type' | 'value'>>;
  /** RFC 2136: sites whose server is not waited for (found unreachable by the runbook). */
  unreachableSites?: string[];
}

export interface DnsProvider {
  pointAt(i: { site: string; comment?: string }): Promise<PointResult>;
  waitInsync(i: DnsWaitInput): Promise<InsyncResult | { changeId: null; status: string; polls: 0; elapsedMs: 0 }>;
  restore(i: { records: Array<Pick<PointedRecord, 'name' | 'type' | 'previous'>> }): Promise<RestoreResult>;
  read(): Promise<RecordReading[]>;
  /** Before a change: every authoritative server answers, in step with the primary (RFC 2136; Route 53: nothing to ask). */
  serversReady(i: { timeoutMs: number; unreachableSites?: string[] }): Promise<Record<string, unknown>>;
}

export function dnsProvider(dns: DnsConfig, baseDir: string): DnsProvider {
  const nothing = { changeId: null, status: 'nothing submitted', polls: 0, elapsedMs: 0 } as const;
  if (dns.provider === 'rfc2136') {
    return {
      pointAt: (i) => rfc2136PointAt({ dns, baseDir, ...i }),
      waitInsync: async (i) =>
        i.changeId
          ? rfc2136WaitInsync({ dns, changeId: i.changeId, records: i.records, unreachableSites: i.unreachableSites, timeoutMs: i.timeoutMs })
          : nothing,
      restore: (i) => rfc2136Restore({ dns, baseDir, records: i.records }),
      read: () => rfc2136Read({ dns }),
      async serversReady(i) {
        const serial = await zoneSerial(dns.rfc2136!.primary, dns.zoneName);
        const ready = await rfc2136WaitInsync({ dns, changeId: String(serial), unreachableSites: i.unreachableSites, timeoutMs: i.timeoutMs });
        return { provider: 'rfc2136', serial, servers: ready.servers.map((s) => s.name), skipped: ready.skipped };
      },
    };
  }
  return {
    pointAt: (i) => pointRecordsAt({ dns, baseDir, ...i }),
    waitInsync: async (i) => (i.changeId ? waitForInsync({ dns, baseDir, changeId: i.changeId, timeoutMs: i.timeoutMs }) : nothing),
    restore: (i) => restoreRecords({ dns, baseDir, records: i.records }),
    read: () => readRecords({ dns, baseDir }),
    serversReady: async () => ({ provider: 'route53' }),
  };
}

/**
 * A site's worker: polls what its own resolver answers until every record names `site` (the new primary's
 * values), and says when that was first so. RFC 2136 only (null otherwise): Route 53 has no per-site servers.
 */
export async function resolvedHere(dns: DnsConfig, here: string, i: { site: string; timeoutMs: number }) {
  if (dns.provider !== 'rfc2136' || !dns.rfc2136?.resolvers?.[here]) return null;
  const t0 = Date.now();
  for (let polls = 1; ; polls++) {
    const seen = await resolveThroughSite({ dns, site: here });
    if (seen.records.every((r) => r.site === i.site))
      return { site: here, resolves: i.site, firstAt: seen.answeredAt, afterMs: Date.now() - t0, polls };
    if (Date.now() - t0 > i.timeoutMs) {
      throw new Error(
        `clients in ${here} still resolve ${seen.records.map((r) => `${r.name} → ${r.site ?? 'another value'}`).join(', ')} after ${i.timeoutMs} ms`,
      );
    }
    heartbeat({ polls });
    await new Promise((r) => setTimeout(r, 100));
  }
}
