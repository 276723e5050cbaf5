// The fence of an old primary that cannot be reached: a child workflow on the site's own return queue,
// abandoned so that it outlives this run, and told of the promotion so that it can list the lost GTIDs.
import { ParentClosePolicy, getExternalWorkflowHandle, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { PromoteResult } from '../../activities/promote';
import { fenceOnReturnWorkflowId, returnTaskQueue } from '../../domain/runs';
import { fenceOnReturn, promotedSignal } from '../fence-on-return';

export async function queueFenceOnReturn(site: string, newPrimary: string): Promise<Record<string, unknown>> {
  const workflowId = fenceOnReturnWorkflowId(site);
  try {
    await startChild(fenceOnReturn, {
      workflowId,
      args: [{ site, newPrimary, failoverWorkflowId: workflowInfo().workflowId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { queued: workflowId, on: returnTaskQueue(site) };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { queued: workflowId, already: true };
    throw err;
  }
}

export async function cancelFenceOnReturn(site: string): Promise<void> {
  await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site)).cancel();
}

export async function tellFenceOnReturn(site: string, promoted: PromoteResult): Promise<void> {
  try {
    await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site)).signal(promotedSignal, {
      site: promoted.site,
      gtidAtPromotion: promoted.gtidAtPromotion,
      failoverWorkflowId: workflowInfo().workflowId,
    });
  } catch {
    /* the fence already finished; it reports without the comparison */
  }
}
