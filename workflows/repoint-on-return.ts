// A re-point queued on an away replica's own return queue, like the fence on return: when the site's worker
// comes back, the replica is checked for transactions the new primary lacks, then replicates from the new
// primary with GTID auto-positioning (or is left stopped and read-only, and listed), and takes its semi-sync
// role: an acknowledger of the new primary turns its replica side on, and the primary its source side.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { SiteActivities } from '../activities';
import { repointOnReturnWorkflowId, returnTaskQueue } from '../domain/runs';
import { Progress } from './kit/progress';
import { bindGroup, control, longStep, ofGroup, siteActivities } from './kit/sites';
import { repointReplica, type ReplicaOutcome } from './failover/repoint';

export interface RepointOnReturnInput {
  site: string;
  group: string;
  newPrimary: string;
  failoverWorkflowId: string;
  /** The group has servers of its own: the group's server at the site is re-pointed. */
  ownGroup?: boolean;
}

export interface RepointOnReturnReport {
  runbook: 'repoint-on-return';
  workflowId: string;
  input: RepointOnReturnInput;
  replica: ReplicaOutcome;
  semiSync: { replica: boolean; primarySource: boolean } | null;
  files?: { json: string; markdown: string };
}

export async function repointOnReturn(input: RepointOnReturnInput): Promise<RepointOnReturnReport> {
  const progress = new Progress('repoint-on-return', ['wait for the site', 'repoint', 'semi-sync', 'report']);
  // No schedule-to-start timeout: the task waits for as long as the site is away.
  const options: ActivityOptions = {
    taskQueue: returnTaskQueue(input.site),
    scheduleToCloseTimeout: '30 days',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  };
  // A group with servers of its own: its server at the site (older runs, and the sites' own group: the site's).
  const own = (a: SiteActivities) => (input.ownGroup ? ofGroup(a, input.group) : a);
  const returning = own(proxyActivities<SiteActivities>({ ...options, startToCloseTimeout: '1 minute' }));
  await progress.run(
    'wait for the site',
    () => returning.inspectDatabase(),
    (db) => ({ readOnly: db.readOnly, gtidExecuted: db.gtidExecuted }),
  );
  const plan = await control.loadPlan();
  const limits = { maxLagSeconds: plan.failback?.maxLagSeconds ?? 5, timeoutMs: plan.timeouts.catchUpMs };
  bindGroup(plan, input.group);
  const waiting = own(proxyActivities<SiteActivities>({ ...options, ...longStep(plan, limits.timeoutMs) }));
  const primary = siteActivities(plan, input.newPrimary);
  const replica = await progress.run(
    'repoint',
    () => repointReplica(input.site, input.newPrimary, returning, primary, () => waiting.waitReplicaCaughtUp(limits)),
    (r) => ({ ...r }),
  );
  const semiSync = await progress.run('semi-sync', async (s) => {
    const config = plan.groups.find((g) => g.id === input.group)?.semiSync;
    if (!config) {
      s.detail = { skipped: 'semi-sync is not configured for this group' };
      return null;
    }
    const acknowledges = replica.outcome === 'replicates' && (config.acknowledgers[input.newPrimary] ?? []).includes(input.site);
    await returning.setSemiSync({ source: false, replica: acknowledges, timeoutMs: config.timeoutMs });
    if (acknowledges) await primary.setSemiSync({ source: true, replica: false, timeoutMs: config.timeoutMs });
    s.detail = { replica: acknowledges, primarySource: acknowledges };
    return { replica: acknowledges, primarySource: acknowledges };
  });
  const workflowId = repointOnReturnWorkflowId(input.site, input.ownGroup ? input.group : undefined);
  const report: RepointOnReturnReport = { runbook: 'repoint-on-return', workflowId, input, replica, semiSync };
  report.files = await progress.run('report', () => control.writeReport(report));
  await control
    .notify({
      title: `${input.site} returned: ${replica.outcome === 'replicates' ? `replicates from ${input.newPrimary}` : replica.outcome}`,
      severity: replica.outcome === 'replicates' ? 'info' : 'warning',
      text: `${input.site} came back after failover ${input.failoverWorkflowId}: ${replica.why}.`,
    })
    .catch(() => undefined);
  progress.view.status = 'completed';
  return report;
}
