// How a workflow reaches a site: that site's own task queue, with a schedule-to-start timeout so that a
// dead site becomes data ("unreachable") instead of a hung workflow.
import { proxyActivities, ActivityFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { SiteActivities, ControlActivities } from '../../activities';
import { controlTaskQueue, siteTaskQueue } from '../../domain/runs';
import type { Plan } from '../../domain/plan';

export function siteActivities(plan: Plan, site: string, opts: Partial<ActivityOptions> = {}): SiteActivities {
  return proxyActivities<SiteActivities>({
    taskQueue: siteTaskQueue(site),
    scheduleToStartTimeout: plan.timeouts.siteScheduleToStartMs,
    startToCloseTimeout: plan.timeouts.activityMs,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 5000, maximumAttempts: 3 },
    ...opts,
  });
}

export const control = proxyActivities<ControlActivities>({
  taskQueue: controlTaskQueue,
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

/** True when the site's worker never picked the task up: the site (or its worker) is gone. */
export function isUnreachable(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof TimeoutFailure &&
    err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
  );
}
