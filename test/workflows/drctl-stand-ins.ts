// Test-only stand-ins for the runbooks that drctl starts and follows: they answer like a runbook does.
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import type { Plan } from '../../domain/plan';
import type { ProgressView } from '../../domain/steps';
import { OperatorDesk } from '../../workflows/kit/operator';
import { Progress } from '../../workflows/kit/progress';
import { Signatures } from '../../workflows/kit/signatures';

const progress = defineQuery<ProgressView>('progress');

/** A file sync with nothing to copy: completes at once. */
export async function fileSync(): Promise<{ outcome: string; paths: unknown[]; notes: string[] }> {
  return { outcome: 'completed', paths: [], notes: [] };
}

/** A failover whose gate was rejected. */
export async function rejectedFailover(): Promise<{ outcome: string }> {
  return { outcome: 'rejected' };
}

/** A run that waits in the given status and answers the progress query. */
export async function waiting(status: ProgressView['status']): Promise<void> {
  setHandler(progress, () => ({ runbook: 'failover', status, steps: [], notes: [] }));
  await condition(() => false);
}

/**
 * The real operator desk of the runbooks, with the example config's approvers: with `stuck`, a step fails after
 * the point of no return and waits for an operator; without, the run just goes on running.
 */
export async function operatorDesk(stuck: boolean): Promise<void> {
  const progress = new Progress('failover', ['route']);
  const desk = new OperatorDesk(progress, new Signatures({ approval: { approvers: ['ops-lead', 'dba-oncall', 'cto'] } } as Plan));
  if (stuck) {
    await desk.rollForward('route', async () => {
      throw new Error('stand-in: ProxySQL refused the writer change');
    });
  }
  await condition(() => false);
}
