// A vantage point of detection: a site's worker, or the control plane's. Asked with short limits and no
// retry: an answer that comes late is from a place that is cut off, and counts as none.
import { proxyActivities } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities';
import { controlTaskQueue, siteTaskQueue } from '../../domain/runs';
import type { Plan } from '../../domain/plan';

type VantageActivities = Pick<ControlActivities, 'voteOnPrimary' | 'watchPrimary' | 'leaseView'>;

/** `watchMs`: how long a watch through the confirmation window may take on top. */
export function vantageActivities(plan: Plan, vantage: string, watchMs = 0): VantageActivities {
  const isControl = vantage === plan.detection?.control;
  return proxyActivities<VantageActivities>({
    taskQueue: isControl ? controlTaskQueue : siteTaskQueue(vantage),
    scheduleToStartTimeout: '1s',
    startToCloseTimeout: 1500 + watchMs,
    retry: { maximumAttempts: 1 },
  });
}
