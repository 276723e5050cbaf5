// The returning site may still be on its way back: ask again until it answers or the wait is over.
import { sleep } from '@temporalio/workflow';
import type { DatabaseState } from '../../activities/inspect';
import type { Plan } from '../../domain/plan';
import type { StepRecord } from '../../domain/steps';
import { refuse } from '../kit/runbook';
import { inspectSite, isAvailable } from '../kit/sites';

export async function waitForReturn(plan: Plan, site: string, waitMs: number, s: StepRecord): Promise<DatabaseState> {
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    const db = await inspectSite(plan, site);
    if (isAvailable(db)) return db;
    const waited = Date.now() - t0;
    s.detail = { ...s.detail, waitingFor: site, attempt, waitedMs: waited, waitMs, last: db.why };
    if (waited >= waitMs) {
      throw refuse(
        `the returning site ${site} is ${db.why}, still after ${attempt} attempt(s) over ${waited} ms (failback.returnWait is ${waitMs} ms); nothing was changed`,
      );
    }
    await sleep(Math.min(5_000, waitMs - waited));
  }
}
