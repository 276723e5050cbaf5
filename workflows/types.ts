// Shapes shared by workflows, activities and clients. Pure types: safe inside the workflow sandbox.
export type SiteRole = 'primary' | 'standby' | 'dr';

/** What a workflow may know of the config: ids, roles, policy and timeouts. No endpoints, no secrets. */
export interface Plan {
  name: string;
  objectives: { rtoSeconds: number; rpoSeconds: number };
  sites: Array<{ id: string; role: SiteRole; name: string; timezone: string; proxysql: boolean; kubernetes: boolean; rclone: boolean }>;
  groups: Array<{ id: string; sites: string[]; services: string[] }>;
  dnsRecords: string[];
  approval: { policy: 'auto' | 'manual' | 'auto-after'; afterMs: number | null; approvers: string[] };
  timeouts: { siteScheduleToStartMs: number; activityMs: number; catchUpMs: number; dnsInsyncMs: number; scaleReadyMs: number };
  /** Absent in plans recorded before failback existed. */
  failback?: { maxLagSeconds: number; returnWaitMs: number; reseedMs: number; catchUpMs: number };
}

export const controlTaskQueue = 'dr-control';
export const siteTaskQueue = (site: string): string => `dr-site-${site}`;
/** Polled first by a returning site's worker: fences queued while the site was away. */
export const returnTaskQueue = (site: string): string => `dr-site-${site}-return`;

/** One failover per group at a time: the fixed id makes a second start fail while one runs. */
export const failoverWorkflowId = (group: string): string => `failover-${group}`;
/** One failback per group at a time, like failover. */
export const failbackWorkflowId = (group: string): string => `failback-${group}`;
export const fenceOnReturnWorkflowId = (site: string): string => `fence-on-return-${site}`;

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'waiting';

export interface StepRecord {
  name: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  attempts?: number;
  /** What the step did: GTID sets, change ids, previous values. Enough to write a report from history. */
  detail?: Record<string, unknown>;
  error?: string;
}

export interface ProgressView {
  runbook: string;
  status: 'running' | 'waiting-approval' | 'needs-operator' | 'completed' | 'failed' | 'compensated';
  steps: StepRecord[];
  notes: string[];
}
