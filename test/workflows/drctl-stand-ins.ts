// Test-only stand-ins for the runbooks that drctl starts and follows: they answer like a runbook does.
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import type { ProgressView } from '../../domain/steps';

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
