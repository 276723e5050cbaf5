// npm run schedules -- apply|list|pause|resume [--site ID] [--config FILE] [--reason TEXT]
// The file-sync schedules of each site with an rclone section: an incremental sync every
// rclone.schedule.every (overlap SKIP) and a nightly full sync + check at rclone.schedule.nightlyAt in the
// site's time zone (overlap BUFFER_ONE), both with rclone.schedule.catchupWindow. `apply` creates or updates
// them and may run any number of times. Without --site: apply/pause/resume act on the primary-role sites.
// The drill schedules (drills.schedules) follow the file-sync ones: without --site, `apply` creates or updates
// them and `list` lists them; pause/resume leave them alone.
import { parseArgs } from 'node:util';
import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import { connectClient } from '../activities/temporal-access';
import { ConfigError, EXIT_BAD_INPUT, loadNamedConfig, siteById, type LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { applySchedules, setSchedulesPaused, syncScheduleId } from '../activities/sync-schedules';
import { applyDrillSchedules, drillScheduleId } from '../activities/drill-schedules';

class BadInput extends Error {}

function sitesOf(loaded: LoadedConfig, site: string | undefined, all: boolean): Site[] {
  if (site) {
    const s = siteById(loaded, site);
    if (!s.rclone) throw new BadInput(`${loaded.file}: sites: site '${site}' has no rclone section, so no file-sync schedules`);
    return [s];
  }
  return loaded.config.sites.filter((s) => s.rclone && (all || s.role === 'primary'));
}

async function main(argv: string[]): Promise<void> {
  const { values: o, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string' }, site: { type: 'string' }, reason: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const cmd = positionals[0];
  if (!['apply', 'list', 'pause', 'resume'].includes(cmd ?? ''))
    throw new BadInput(`usage: schedules apply|list|pause|resume [--site ID] [--config FILE] (got '${cmd ?? ''}')`);
  const loaded = loadNamedConfig(o.config);
  const sites = sitesOf(loaded, o.site, cmd === 'list');
  const { client, connection } = await connectClient(loaded);
  try {
    const out: unknown[] = [];
    for (const s of sites) {
      if (cmd === 'apply') {
        for (const a of await applySchedules(client, s)) out.push({ site: s.id, ...a });
      } else if (cmd === 'pause' || cmd === 'resume') {
        const reason = o.reason ?? `${cmd}d by hand (npm run schedules)`;
        for (const r of await setSchedulesPaused(client, loaded.config, s.id, cmd === 'pause', reason)) out.push({ site: s.id, ...r });
      } else {
        for (const kind of ['incremental', 'full'] as const) out.push(await listed(client, syncScheduleId(s.id, kind), { site: s.id }));
      }
    }
    if (!o.site) out.push(...(await drillSchedules(client, loaded, cmd)));
    if (o.json) console.log(JSON.stringify(out, null, 2));
    else
      for (const r of out as Array<Record<string, unknown>>)
        console.log(
          Object.entries(r)
            .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
            .join('  '),
        );
  } finally {
    await connection.close();
  }
}

/** The drill schedules: applied, or listed with the drill's scenario; pause and resume leave them alone. */
async function drillSchedules(client: Client, loaded: LoadedConfig, cmd: string | undefined): Promise<unknown[]> {
  const { schedules } = loaded.config.drills;
  if (cmd === 'apply') return (await applyDrillSchedules(client, loaded.config)).map((a, index) => ({ site: siteOf(schedules[index]!), ...a }));
  if (cmd !== 'list') return [];
  const out: unknown[] = [];
  for (const d of schedules) out.push(await listed(client, drillScheduleId(d.id), { site: siteOf(d), scenario: d.scenario }));
  return out;
}

/** The site a drill faults: the one it names, else the group's primary when it starts. */
const siteOf = (schedule: { site?: string }): string => schedule.site ?? '(primary)';

/** One schedule as `list` shows it, or `missing` when the server has none of that id. */
async function listed(client: Client, scheduleId: string, about: { site: string; scenario?: string }): Promise<Record<string, unknown>> {
  const head = { site: about.site, scheduleId, ...(about.scenario === undefined ? {} : { scenario: about.scenario }) };
  let d: ScheduleDescription;
  try {
    d = await client.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    return { ...head, missing: true };
  }
  return {
    ...head,
    paused: d.state.paused,
    note: d.state.note ?? '',
    spec: d.spec.intervals?.length
      ? `every ${d.spec.intervals.map((i) => i.every).join(', ')}`
      : `${JSON.stringify(d.spec.calendars)} ${d.spec.timezone ?? 'UTC'}`,
    overlap: d.policies.overlap,
    catchupWindow: d.policies.catchupWindow,
    nextRun: d.info.nextActionTimes[0]?.toISOString() ?? null,
    lastRun: d.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
  };
}

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError || err instanceof BadInput || err instanceof TypeError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
