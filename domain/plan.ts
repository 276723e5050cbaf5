// What a workflow may know of the config. Pure types: safe inside the workflow sandbox.
import type { DetectionPlan } from './detection';
import type { DrillPlan } from './drill';
import type { SemiSyncConfig } from './semi-sync';

export type SiteRole = 'primary' | 'standby' | 'dr';

/** Ids, roles, policy and timeouts. No endpoints, no secrets. */
export interface Plan {
  name: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  /** `haproxy`: absent in plans recorded before it existed. */
  sites: Array<{
    id: string;
    role: SiteRole;
    name: string;
    timezone: string;
    proxysql: boolean;
    haproxy?: boolean;
    kubernetes: boolean;
    rclone: boolean;
  }>;
  /** `semiSync`: absent in plans recorded before it existed, null when the group has none. */
  /** `ownDatabases`: the group has servers of its own (not the sites' own); absent in plans recorded before it existed. */
  groups: Array<{ id: string; sites: string[]; services: string[]; semiSync?: SemiSyncConfig | null; ownDatabases?: boolean }>;
  /** Absent in plans recorded before site failover existed. */
  siteFailover?: { concurrency: number };
  dnsRecords: string[];
  approval: {
    policy: 'auto' | 'manual' | 'auto-after';
    afterMs: number | null;
    approvers: string[];
    /** Absent in plans recorded before signed approvals (replayed histories): read through quorumFor / signaturesRequired. */
    requireSignature?: boolean;
    maxAgeMs?: number;
    quorum?: Record<QuorumKind, number>;
  };
  timeouts: {
    siteScheduleToStartMs: number;
    activityMs: number;
    /** Absent in plans recorded before it existed: activityMs applies then. */
    shortStepMs?: number;
    heartbeatMs?: number;
    catchUpMs: number;
    dnsInsyncMs: number;
    scaleReadyMs: number;
  };
  /** Absent in plans recorded before failback existed. */
  failback?: { maxLagSeconds: number; returnWaitMs: number; reseedMs: number; catchUpMs: number };
  /** How close the candidate must be before a switchover fences. Absent in plans recorded before it existed. */
  switchover?: { nearlyTransactions: number; nearlyApplyMs: number; nearlyTimeoutMs: number };
  /** Absent in plans recorded before drills existed. */
  drills?: DrillPlan;
  /** Absent in plans recorded before detection existed, null when the config has none or it is off. */
  detection?: DetectionPlan | null;
}

/** The decisions that may ask for more than one approver. */
export type QuorumKind = 'default' | 'unplanned' | 'lossOverBudget' | 'discardErrant' | 'drillOutsideWindow';

/** The distinct approvers a decision needs: the strictest of the kinds that apply. */
export function quorumFor(plan: Plan, kinds: QuorumKind[]): number {
  const q = plan.approval.quorum;
  return Math.max(q?.default ?? 1, ...kinds.map((k) => q?.[k] ?? 1));
}

/** The group when it has servers of its own, whose fences and re-points on return are its own; else undefined. */
export const ownGroup = (plan: Plan, group: string): string | undefined =>
  plan.groups.find((g) => g.id === group)?.ownDatabases ? group : undefined;

export const signaturesRequired = (plan: Plan): boolean => plan.approval.requireSignature === true;
