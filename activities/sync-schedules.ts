// The file-sync schedules of a site, through client.schedule: an incremental sync every few minutes
// (overlap SKIP: a slow run is not stacked) and a nightly full sync + check in the site's time zone
// (overlap BUFFER_ONE: a night is never lost to a running incremental). Create or update: idempotent.
import { ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptions } from '@temporalio/client';
import { durationMs, type Config, type Site } from '../config/schema';
import { controlTaskQueue } from '../domain/runs';

export const syncScheduleId = (site: string, kind: 'incremental' | 'full'): string =>
  `file-sync-${site}-${kind === 'full' ? 'nightly' : 'incremental'}`;

export function scheduleOptions(site: Site): ScheduleOptions[] {
  const rc = site.rclone;
  if (!rc) throw new Error(`site ${site.id}: no rclone section, so no file-sync schedules`);
  const [hour, minute] = rc.schedule.nightlyAt.split(':').map(Number) as [number, number];
  const action = (kind: 'incremental' | 'full') => ({
    type: 'startWorkflow' as const,
    workflowType: 'fileSync',
    taskQueue: controlTaskQueue,
    workflowId: `file-sync-${site.id}-${kind}`,
    args: [{ site: site.id, kind }],
  });
  return [
    {
      scheduleId: syncScheduleId(site.id, 'incremental'),
      spec: { intervals: [{ every: durationMs(rc.schedule.every) }] },
      action: action('incremental'),
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: durationMs(rc.schedule.catchupWindow) },
      memo: { site: site.id, kind: 'incremental' },
    },
    {
      scheduleId: syncScheduleId(site.id, 'full'),
      spec: { calendars: [{ hour, minute }], timezone: site.timezone },
      action: action('full'),
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ONE, catchupWindow: durationMs(rc.schedule.catchupWindow) },
      memo: { site: site.id, kind: 'full' },
    },
  ];
}

export interface Applied {
  scheduleId: string;
  result: 'created' | 'updated';
  paused: boolean;
}

/** Creates or updates each schedule; a paused schedule stays paused (a failover paused it on purpose). */
export async function applySchedules(client: Client, site: Site): Promise<Applied[]> {
  const out: Applied[] = [];
  for (const o of scheduleOptions(site)) {
    const handle = client.schedule.getHandle(o.scheduleId);
    let exists = true;
    let paused = false;
    try {
      paused = (await handle.describe()).state.paused;
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      exists = false;
    }
    if (!exists) {
      await client.schedule.create(o);
      out.push({ scheduleId: o.scheduleId, result: 'created', paused: false });
    } else {
      await handle.update((prev) => ({ ...prev, spec: o.spec, action: o.action, policies: { ...prev.policies, ...o.policies } }));
      out.push({ scheduleId: o.scheduleId, result: 'updated', paused });
    }
  }
  return out;
}

export interface PauseResult {
  scheduleId: string;
  result: 'paused' | 'unpaused' | 'not found';
}

/** Pauses (or unpauses) a site's sync schedules; a schedule that does not exist is reported, not an error. */
export async function setSchedulesPaused(client: Client, config: Config, site: string, paused: boolean, note: string): Promise<PauseResult[]> {
  if (!config.sites.some((s) => s.id === site)) throw new Error(`unknown site '${site}' (known sites: ${config.sites.map((s) => s.id).join(', ')})`);
  const out: PauseResult[] = [];
  for (const kind of ['incremental', 'full'] as const) {
    const scheduleId = syncScheduleId(site, kind);
    const h = client.schedule.getHandle(scheduleId);
    try {
      if (paused) await h.pause(note);
      else await h.unpause(note);
      out.push({ scheduleId, result: paused ? 'paused' : 'unpaused' });
    } catch (err) {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
      out.push({ scheduleId, result: 'not found' });
    }
  }
  return out;
}
