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
  groups: Array<{ id: string; sites: string[]; services: string[]; semiSync?: SemiSyncConfig | null }>;
  dnsRecords: string[];
  approval: { policy: 'auto' | 'manual' | 'auto-after'; afterMs: number | null; approvers: string[] };
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
