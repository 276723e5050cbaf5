// The drill schedules of the config (drills.schedules), through client.schedule: each starts the drill
// runbook of its group on a weekday at a time of day in drills.timezone, weekly, on the first such weekday of
// each month, or of each quarter. Overlap SKIP: a drill still running is not stacked; a run missed by more
// than an hour (the server was down) is dropped, not started late. Create or update: idempotent.
import {
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type CalendarSpec,
  type Client,
  type DayOfWeek,
  type ScheduleOptions,
} from '@temporalio/client';
import type { Config, DrillSchedule } from '../config/schema';
import type { DrillInput, Weekday } from '../domain/drill';
import { controlTaskQueue } from '../domain/runs';
import type { Applied } from './sync-schedules';

export const drillScheduleId = (id: string): string => `drill-${id}`;

const DAY_OF_WEEK: Record<Weekday, DayOfWeek> = {
  sun: 'SUNDAY',
  mon: 'MONDAY',
  tue: 'TUESDAY',
  wed: 'WEDNESDAY',
  thu: 'THURSDAY',
  fri: 'FRIDAY',
  sat: 'SATURDAY',
};

/** A drill missed by more than this (the scheduler or the server was down) is dropped. */
const CATCHUP_WINDOW_MS = 3_600_000;

/** The weekday at the time; monthly: in the first seven days of the month; quarterly: of the quarter's first month. */
export function calendarOf(schedule: DrillSchedule): CalendarSpec {
  const [hour, minute] = schedule.at.split(':').map(Number) as [number, number];
  const weekly: CalendarSpec = { dayOfWeek: DAY_OF_WEEK[schedule.day], hour, minute };
  if (schedule.every === 'weekly') return weekly;
  const monthly: CalendarSpec = { ...weekly, dayOfMonth: { start: 1, end: 7 } };
  if (schedule.every === 'monthly') return monthly;
  return { ...monthly, month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'] };
}

/** What the schedule's runs are asked for, and why, as the drill report shows it. */
export function drillInputOf(schedule: DrillSchedule, timezone: string): DrillInput {
  return {
    group: schedule.group,
    scenario: schedule.scenario,
    ...(schedule.site === undefined ? {} : { site: schedule.site }),
    requestedBy: schedule.requestedBy,
    reason: `scheduled drill ${schedule.id} (${schedule.every} ${schedule.day} ${schedule.at} ${timezone})`,
  };
}

export function drillScheduleOptions(config: Config): ScheduleOptions[] {
  const { timezone, schedules } = config.drills;
  return schedules.map((schedule) => ({
    scheduleId: drillScheduleId(schedule.id),
    spec: { calendars: [calendarOf(schedule)], timezone },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'drill',
      taskQueue: controlTaskQueue,
      // Temporal appends the time of each run to this id.
      workflowId: `drill-${schedule.group}`,
      args: [drillInputOf(schedule, timezone)],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: CATCHUP_WINDOW_MS },
    memo: { drill: schedule.id },
  }));
}

/** Creates or updates each drill schedule; a paused schedule stays paused (someone paused it on purpose). */
export async function applyDrillSchedules(client: Client, config: Config): Promise<Applied[]> {
  const out: Applied[] = [];
  for (const options of drillScheduleOptions(config)) out.push(await createOrUpdate(client, options));
  return out;
}

async function createOrUpdate(client: Client, options: ScheduleOptions): Promise<Applied> {
  const handle = client.schedule.getHandle(options.scheduleId);
  let paused: boolean;
  try {
    paused = (await handle.describe()).state.paused;
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    await client.schedule.create(options);
    return { scheduleId: options.scheduleId, result: 'created', paused: false };
  }
  await handle.update((previous) => ({
    ...previous,
    spec: options.spec,
    action: options.action,
    policies: { ...previous.policies, ...options.policies },
  }));
  return { scheduleId: options.scheduleId, result: 'updated', paused };
}
