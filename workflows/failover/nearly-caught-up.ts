// A planned switchover fences only once the candidate is nearly caught up: what it still has to apply after
// the fence is inside the write pause. Too far behind within the bound's time: stop before the fence.
import type { Plan } from '../../domain/plan';
import type { Progress } from '../kit/progress';
import { longStep, siteActivities } from '../kit/sites';

const DEFAULTS = { nearlyTransactions: 50, nearlyApplyMs: 200, nearlyTimeoutMs: 60_000 };

export async function nearlyCaughtUp(plan: Plan, progress: Progress<'nearly caught up'>, to: string, mode: 'planned' | 'unplanned'): Promise<void> {
  if (mode !== 'planned')
    return progress.skip('nearly caught up', 'skipped: an unplanned failover fences first; the old primary may be taking writes');
  const bound = plan.switchover ?? DEFAULTS;
  await progress.run(
    'nearly caught up',
    () =>
      siteActivities(plan, to, longStep(plan, bound.nearlyTimeoutMs)).waitNearlyCaughtUp({
        maxTransactions: bound.nearlyTransactions,
        maxApplyMs: bound.nearlyApplyMs,
        timeoutMs: bound.nearlyTimeoutMs,
      }),
    (r) => ({ ...r, bound: { transactions: bound.nearlyTransactions, applyMs: bound.nearlyApplyMs } }),
  );
}
