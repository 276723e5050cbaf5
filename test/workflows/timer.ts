// Test-only workflow: sleeps, then reports how much workflow time passed.
import { sleep } from '@temporalio/workflow';

export async function sleepFor(ms: number): Promise<{ workflowElapsedMs: number }> {
  const t0 = Date.now();
  await sleep(ms);
  return { workflowElapsedMs: Date.now() - t0 };
}
