// 5. Recovery. `runbook`: the failover runbook as a child, unplanned with the target left to its own rules (a
// round trip: a planned switchover to the group's next site). `detection`: the estate must start a failover by
// itself within the RTO objective, or the verdict is "detection missed".
import { CancellationScope, ParentClosePolicy, executeChild, proxyActivities, sleep } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities';
import { controlTaskQueue, failoverWorkflowId } from '../../domain/runs';
import { control } from '../kit/sites';
import { failover, type FailoverInput, type FailoverReport } from '../failover';
import type { Drill } from '../drill';

const awaiting = proxyActivities<ControlActivities>({ taskQueue: controlTaskQueue, startToCloseTimeout: '15m', heartbeatTimeout: '10s' });

export async function recover(d: Drill): Promise<void> {
  const { run } = d;
  const report = await run.progress.run(
    'recover',
    () => (d.input.recovery === 'detection' ? detected(d) : startFailover(d)),
    (r) => (r ? { workflowId: r.workflowId, runId: r.runId, outcome: r.outcome, to: r.input.to, rtoMs: r.rtoMs } : { detection: 'missed' }),
  );
  if (!report) return;
  d.failover = report;
  run.report.failover = { workflowId: report.workflowId, outcome: report.outcome, rtoMs: report.rtoMs, files: report.files ?? null };
  if (!report.outcome.startsWith('completed')) throw new Error(`the failover ended ${report.outcome}: ${report.error ?? 'see its report'}`);
}

/**
 * The child runs outside the scenario's scope: an abort waits for it to end (its own compensation or its
 * point of no return decides what is left), then cleans up from there. Abandoned, it outlives a terminated drill.
 */
async function startFailover(d: Drill): Promise<FailoverReport> {
  const { run, input } = d;
  const group = run.plan.groups.find((g) => g.id === input.group)!;
  const roundTrip = input.scenario === 'switchover-round-trip';
  const args: FailoverInput = {
    group: input.group,
    from: input.site,
    ...(roundTrip ? { to: group.sites.find((s) => s !== input.site)! } : {}),
    mode: roundTrip ? 'planned' : 'unplanned',
    reason: `drill ${d.drillId} (${input.scenario}): ${input.reason}`,
    requestedBy: input.requestedBy,
    approvedByParent: run.report.approval ?? undefined,
  };
  if (roundTrip) d.injectedAt = Date.now();
  const child = CancellationScope.nonCancellable(() =>
    executeChild(failover, { workflowId: failoverWorkflowId(input.group), args: [args], parentClosePolicy: ParentClosePolicy.ABANDON }),
  );
  return child;
}

/** Waits for a failover of the group that the drill did not start, up to the RTO objective, then for its end. */
async function detected(d: Drill): Promise<FailoverReport | null> {
  const { run, input } = d;
  const deadline = (d.injectedAt ?? Date.now()) + run.plan.objectives.rtoSeconds * 1000;
  for (;;) {
    const found = (await control.runbooksOfGroup({ group: input.group })).find((r) => r.type === 'failover');
    if (found) {
      run.progress.note(`detection started ${found.workflowId} at ${found.startedAt}`);
      return (await CancellationScope.nonCancellable(() =>
        awaiting.workflowResult({ workflowId: found.workflowId, runId: found.runId }),
      )) as FailoverReport;
    }
    if (Date.now() >= deadline) break;
    await sleep(Math.min(1000, Math.max(1, deadline - Date.now())));
  }
  d.detectionMissed = true;
  run.progress.note(`detection missed: no failover of ${input.group} started within the RTO objective of ${run.plan.objectives.rtoSeconds} s`);
  return null;
}
