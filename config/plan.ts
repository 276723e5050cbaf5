// The workflow-safe view of the config: what runbooks may see and record in history.
import { approverName, durationMs } from './schema';
import type { LoadedConfig } from './load';
import type { DetectionPlan } from '../domain/detection';
import type { DrillPlan } from '../domain/drill';
import type { Plan, QuorumKind } from '../domain/plan';

export function planOf({ config: c }: LoadedConfig): Plan {
  return {
    name: c.name,
    objectives: c.objectives,
    sites: c.sites.map((s) => ({
      id: s.id,
      role: s.role,
      name: s.name,
      timezone: s.timezone,
      proxysql: s.proxysql !== undefined,
      haproxy: s.haproxy !== undefined,
      kubernetes: s.kubernetes !== undefined,
      rclone: s.rclone !== undefined,
    })),
    groups: c.groups.map((g) => ({
      id: g.id,
      sites: g.sites,
      services: g.services.map((s) => s.name),
      semiSync: g.semiSync ? { timeoutMs: durationMs(g.semiSync.timeout), acknowledgers: g.semiSync.acknowledgers } : null,
      ownDatabases: g.databases !== undefined,
    })),
    siteFailover: { concurrency: c.siteFailover.concurrency },
    dnsRecords: c.dns?.records.map((r) => r.name) ?? [],
    approval: {
      policy: c.approval.policy,
      afterMs: c.approval.after ? durationMs(c.approval.after) : null,
      approvers: c.approval.approvers.map(approverName),
      requireSignature: c.approval.requireSignature,
      maxAgeMs: durationMs(c.approval.maxAge),
      quorum: quorumOf(c.approval.quorum),
    },
    timeouts: {
      siteScheduleToStartMs: durationMs(c.timeouts.siteScheduleToStart),
      activityMs: durationMs(c.timeouts.activity),
      shortStepMs: durationMs(c.timeouts.shortStep),
      heartbeatMs: durationMs(c.timeouts.heartbeat),
      catchUpMs: durationMs(c.timeouts.catchUp),
      dnsInsyncMs: durationMs(c.timeouts.dnsInsync),
      scaleReadyMs: durationMs(c.timeouts.scaleReady),
    },
    failback: {
      maxLagSeconds: c.failback.maxLagSeconds,
      returnWaitMs: durationMs(c.failback.returnWait),
      reseedMs: durationMs(c.failback.reseed),
      catchUpMs: durationMs(c.failback.catchUp),
    },
    switchover: {
      nearlyTransactions: c.switchover.nearlyTransactions,
      nearlyApplyMs: durationMs(c.switchover.nearlyApplyTime),
      nearlyTimeoutMs: durationMs(c.switchover.nearlyTimeout),
    },
    drills: drillPlanOf(c.drills),
    detection: detectionPlanOf(c.detection),
  };
}

function detectionPlanOf(d: LoadedConfig['config']['detection']): DetectionPlan | null {
  if (!d?.enabled) return null;
  const fenceAfterMs = durationMs(d.lease.fenceAfter);
  return {
    control: d.control.name,
    confirmWindowMs: durationMs(d.confirmWindow),
    blockMs: durationMs(d.block),
    probeEveryMs: durationMs(d.probeEvery),
    policy: d.policy,
    lease: {
      renewEveryMs: durationMs(d.lease.renewEvery),
      fenceAfterMs,
      promoteAfterMs: d.lease.promoteAfter ? durationMs(d.lease.promoteAfter) : fenceAfterMs + 1000,
    },
    heartbeatEveryMs: durationMs(d.heartbeatEvery),
  };
}

/** The drill settings a workflow may record: no commands, no folder, no stream credentials. */
function drillPlanOf(drills: LoadedConfig['config']['drills']): DrillPlan {
  return {
    timezone: drills.timezone,
    windows: drills.windows.map((window) => ({ days: [...window.days], start: window.start, end: window.end })),
    holidays: [...drills.holidays],
    injector: drills.injector.kind,
    stream: { ratePerSecond: drills.stream.ratePerSecond },
    settleMs: durationMs(drills.settle),
    regressionShare: drills.regressionShare,
    cities: Object.fromEntries(Object.entries(drills.cities).map(([city, sites]) => [city, [...sites]])),
  };
}

function quorumOf(q: number | ({ default: number } & Partial<Record<QuorumKind, number>>)): Record<QuorumKind, number> {
  const d = typeof q === 'number' ? q : q.default;
  const of = (k: QuorumKind) => (typeof q === 'number' ? d : (q[k] ?? d));
  return {
    default: d,
    unplanned: of('unplanned'),
    lossOverBudget: of('lossOverBudget'),
    discardErrant: of('discardErrant'),
    drillOutsideWindow: of('drillOutsideWindow'),
  };
}
