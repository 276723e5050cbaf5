// Which runbooks of a group are running now: the one-at-a-time rule between failover, failback and drills.
import { log } from '@temporalio/activity';
import type { WorkflowClient } from '@temporalio/client';
import { drillWorkflowId, failbackWorkflowId, failoverWorkflowId, isScheduledDrillOf } from '../domain/runs';

export interface RunningRunbook {
  workflowId: string;
  runId: string;
  type: string;
  startedAt: string;
  /** A drill's memo: its scenario and recovery ('detection' lets the estate's own failover run). */
  memo: Record<string, unknown>;
}

export async function runbooksOfGroup(client: WorkflowClient, group: string): Promise<RunningRunbook[]> {
  const found: RunningRunbook[] = [];
  for (const id of [failoverWorkflowId(group), failbackWorkflowId(group), drillWorkflowId(group)]) {
    try {
      const d = await client.getHandle(id).describe();
      if (d.status.name === 'RUNNING')
        found.push({ workflowId: id, runId: d.runId, type: d.type, startedAt: d.startTime.toISOString(), memo: d.memo ?? {} });
    } catch (err) {
      if ((err as Error).name !== 'WorkflowNotFoundError') throw err;
    }
  }
  // Scheduled drills carry a timestamp suffix, so only a listing finds them. A server without visibility (the
  // time-skipping test server) cannot list: the fixed ids above still hold the rule for runs started by hand.
  try {
    for await (const wf of client.list({ query: `WorkflowType = 'drill' AND ExecutionStatus = 'Running'` })) {
      if (isScheduledDrillOf(group, wf.workflowId))
        found.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type, startedAt: wf.startTime.toISOString(), memo: wf.memo ?? {} });
    }
  } catch (err) {
    log.warn(`cannot list running drills (${(err as Error).message}): scheduled drills are not seen`);
  }
  return found;
}
