// Every group a child `failover`, at most `concurrency` at a time. Each keeps its own compensation and point
// of no return: one that fails before it is undone on its own, and the others go on. The child's fixed id
// (failover-<group>) still keeps any other failover of that group out while it runs.
import { ChildWorkflowFailure, ParentClosePolicy, executeChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { errorText } from '../../domain/errors';
import { failoverWorkflowId } from '../../domain/runs';
import { failover, type FailoverInput, type FailoverReport } from '../failover';

export interface GroupOutcome {
  group: string;
  workflowId: string;
  outcome: FailoverReport['outcome'] | 'failed' | 'not started';
  /** The child's RTO, measured from its own start. */
  rtoMs: number | null;
  startedAt: string | null;
  pointOfNoReturn: boolean;
  lost: number | null;
  error?: string;
  files?: FailoverReport['files'] | null;
}

export async function failOverEach(inputs: FailoverInput[], concurrency: number, done: (o: GroupOutcome) => void): Promise<GroupOutcome[]> {
  const outcomes: GroupOutcome[] = new Array(inputs.length);
  let next = 0;
  const lane = async () => {
    while (next < inputs.length) {
      const i = next++;
      outcomes[i] = await failOverOne(inputs[i]!);
      done(outcomes[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, inputs.length) }, lane));
  return outcomes;
}

async function failOverOne(input: FailoverInput): Promise<GroupOutcome> {
  const workflowId = failoverWorkflowId(input.group);
  try {
    const r = await executeChild(failover, { workflowId, args: [input], parentClosePolicy: ParentClosePolicy.ABANDON });
    return {
      group: input.group,
      workflowId,
      outcome: r.outcome,
      rtoMs: r.rtoMs,
      startedAt: r.startedAt,
      pointOfNoReturn: r.pointOfNoReturn.reached,
      lost: r.rpo.lost.count,
      ...(r.error && { error: r.error }),
      files: r.files ?? null,
    };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError)
      return { ...notRun(input, workflowId), outcome: 'not started', error: `${workflowId} is already running: another runbook holds this group` };
    const cause = err instanceof ChildWorkflowFailure ? err.cause : err;
    const type = (cause as { type?: string } | undefined)?.type;
    const outcome = type === 'Compensated' ? 'compensated' : type === 'Refused' ? 'rejected' : 'failed';
    return { ...notRun(input, workflowId), outcome, error: errorText(cause) };
  }
}

const notRun = (input: FailoverInput, workflowId: string): GroupOutcome => ({
  group: input.group,
  workflowId,
  outcome: 'failed',
  rtoMs: null,
  startedAt: null,
  pointOfNoReturn: false,
  lost: null,
});
