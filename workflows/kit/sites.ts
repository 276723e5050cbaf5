// How a workflow reaches a site: that site's own task queue, with a schedule-to-start timeout so that a
// dead site becomes data ("unreachable") instead of a hung workflow.
import { proxyActivities, ActivityFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { SiteActivities, ControlActivities } from '../../activities';
import type { DatabaseState } from '../../activities/inspect';
import { errorText } from '../../domain/errors';
import { controlTaskQueue, siteTaskQueue } from '../../domain/runs';
import { ownGroup, type Plan } from '../../domain/plan';

/**
 * A site's activities. By default a step is short (milliseconds of work): its start-to-close timeout is
 * `timeouts.shortStep`, so an attempt lost with a crashed worker or server is retried within seconds.
 * Long steps pass `longStep(...)`.
 */
export function siteActivities(plan: Plan, site: string, opts: Partial<ActivityOptions> = {}, group?: string): SiteActivities {
  const activities = proxyActivities<SiteActivities>({
    taskQueue: siteTaskQueue(site),
    scheduleToStartTimeout: plan.timeouts.siteScheduleToStartMs,
    startToCloseTimeout: plan.timeouts.shortStepMs ?? plan.timeouts.activityMs,
    retry: { initialInterval: 500, backoffCoefficient: 2, maximumInterval: 5000, maximumAttempts: 3 },
    ...opts,
  });
  const own = group !== undefined ? ownGroup(plan, group) : boundGroup;
  return own ? ofGroup(activities, own) : activities;
}

// The group this run acts on, when it has servers of its own: module state is per workflow run.
let boundGroup: string | undefined;

/** Every site activity of this run acts on `group`'s own servers (a no-op for the group of the sites' own servers). */
export function bindGroup(plan: Plan, group: string | undefined): void {
  boundGroup = group === undefined ? undefined : ownGroup(plan, group);
}

/** A site's activities acting on one group's servers: the group rides along in every call's input. */
export function ofGroup(activities: SiteActivities, group: string): SiteActivities {
  return new Proxy(activities, {
    get: (target, name) => {
      const activity = target[name as keyof SiteActivities] as unknown as (input?: object, ...rest: unknown[]) => unknown;
      return (input?: object, ...rest: unknown[]) => activity({ ...input, group }, ...rest);
    },
  });
}

/** A long step (catch up, scale and wait, re-seed): bounded by its own limit, kept alive by heartbeats. */
export function longStep(plan: Plan, limitMs: number): Partial<ActivityOptions> {
  return { startToCloseTimeout: limitMs + 10_000, heartbeatTimeout: plan.timeouts.heartbeatMs ?? 10_000 };
}

export const control = proxyActivities<ControlActivities>({
  taskQueue: controlTaskQueue,
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 3 },
});

/** True when the site's worker never picked the task up: the site (or its worker) is gone. */
export function isUnreachable(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
}

/** A site's database as the runbooks see it before they act: its state, or why it cannot be had. */
export type SiteDatabase = DatabaseState | { unavailable: 'unreachable' | 'down'; why: string };

export const isAvailable = (db: SiteDatabase): db is DatabaseState => !('unavailable' in db);

/** Asks the site's own worker; a dead site (no pick-up) and a down database are answers, not errors. */
export async function inspectSite(plan: Plan, site: string, group?: string): Promise<SiteDatabase> {
  try {
    return await siteActivities(plan, site, { retry: { maximumAttempts: 2 } }, group).inspectDatabase();
  } catch (err) {
    if (isUnreachable(err)) return { unavailable: 'unreachable', why: 'unreachable (its worker did not pick up)' };
    return { unavailable: 'down', why: `database down (${errorText(err)})` };
  }
}
