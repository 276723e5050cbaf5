// The re-point of a replica that cannot be reached: a child workflow waiting on the site's return queue,
// abandoned so that it outlives this run (workflows/repoint-on-return.ts).
import { ParentClosePolicy, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { repointOnReturnWorkflowId, returnTaskQueue } from '../../domain/runs';
import { repointOnReturn } from '../repoint-on-return';
import type { ReplicaOutcome } from './repoint';

/** `ownGroup`: the group when it has servers of its own (each server at the site is re-pointed on its own). */
export async function queueRepointOnReturn(group: string, site: string, newPrimary: string, ownGroup?: string): Promise<ReplicaOutcome> {
  const workflowId = repointOnReturnWorkflowId(site, ownGroup);
  const outcome: ReplicaOutcome = {
    site,
    outcome: 'unreachable',
    source: null,
    lagSeconds: null,
    why: `unreachable: re-pointed at ${newPrimary} when it returns (${workflowId} on ${returnTaskQueue(site)})`,
    queued: workflowId,
  };
  try {
    await startChild(repointOnReturn, {
      workflowId,
      args: [{ site, group, newPrimary, failoverWorkflowId: workflowInfo().workflowId, ...(ownGroup && { ownGroup: true }) }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    outcome.why = `unreachable: a re-point on return is already queued (${workflowId}); it keeps the primary it was given`;
  }
  return outcome;
}
