// The fence of an old primary that cannot be reached: a child workflow on the site's own return queue,
// abandoned so that it outlives this run, and told of the promotion so that it can list the lost GTIDs.
import { ParentClosePolicy, getExternalWorkflowHandle, patched, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PromoteResult } from '../../activities/promote';
import { controlTaskQueue, fenceOnReturnWorkflowId, returnTaskQueue } from '../../domain/runs';
import { control } from '../kit/sites';
import { fenceOnReturn, promotedSignal } from '../fence-on-return';

const finishing = proxyActivities<ControlActivities>({
  taskQueue: controlTaskQueue,
  startToCloseTimeout: '2m',
  heartbeatTimeout: '10s',
  retry: { maximumAttempts: 1 },
});

/** `group`: only for a group with servers of its own (each server at the site has its own fence). */
export async function queueFenceOnReturn(site: string, newPrimary: string, group?: string): Promise<Record<string, unknown>> {
  const workflowId = fenceOnReturnWorkflowId(site, group);
  const start = () =>
    startChild(fenceOnReturn, {
      workflowId,
      args: [{ site, newPrimary, failoverWorkflowId: workflowInfo().workflowId, ...(group && { group }) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  try {
    await start();
    return { queued: workflowId, on: returnTaskQueue(site) };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    // patched: runs from before took any earlier run as theirs.
    if (!patched('fence-on-return-earlier')) return { queued: workflowId, already: true };
    const earlier = await control.fenceOnReturnState({ workflowId });
    // Its fence has yet to run: it fences the site for this run too.
    if (earlier.running && !earlier.fenced) return { queued: workflowId, already: true, earlierRun: earlier.runId };
    // An earlier failover's fence is done and its run is only reporting: this site may have been writable
    // again since, so this failover needs a fence of its own once that run ends.
    await finishing.workflowResult({ workflowId, runId: earlier.runId }).catch(() => undefined);
    await start();
    return { queued: workflowId, on: returnTaskQueue(site), afterEarlierRun: earlier.runId };
  }
}

export async function cancelFenceOnReturn(site: string, group?: string): Promise<void> {
  await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site, group)).cancel();
}

export async function tellFenceOnReturn(site: string, promoted: PromoteResult, group?: string): Promise<void> {
  try {
    await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site, group)).signal(promotedSignal, {
      site: promoted.site,
      gtidAtPromotion: promoted.gtidAtPromotion,
      failoverWorkflowId: workflowInfo().workflowId,
    });
  } catch {
    /* the fence already finished; it reports without the comparison */
  }
}
