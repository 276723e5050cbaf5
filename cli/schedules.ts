// npm run schedules -- apply|list|pause|resume [--site ID] [--config FILE] [--reason TEXT]
// The file-sync schedules of each site with an rclone section: an incremental sync every
// rclone.schedule.every (overlap SKIP) and a nightly full sync + check at rclone.schedule.nightlyAt in the
// site's time zone (overlap BUFFER_ONE), both with rclone.schedule.catchupWindow. `apply` creates or updates
// them and may run any number of times. Without --site: apply/pause/resume act on the primary-role sites.
import { parseArgs } from 'node:util';
import { Client, Connection, ScheduleNotFoundError } from '@temporalio/client';
import { ConfigError, EXIT_BAD_INPUT, loadNamedConfig, siteById, type LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { applySchedules, setSchedulesPaused, syncScheduleId } from '../activities/sync-schedules';

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
  const connection = await Connection.connect({ address: loaded.config.temporal.address });
  const client = new Client({ connection, namespace: loaded.config.temporal.namespace });
  try {
    const out: unknown[] = [];
    for (const s of sites) {
      if (cmd === 'apply') {
        for (const a of await applySchedules(client, s)) out.push({ site: s.id, ...a });
      } else if (cmd === 'pause' || cmd === 'resume') {
        const reason = o.reason ?? `${cmd}d by hand (npm run schedules)`;
        for (const r of await setSchedulesPaused(client, loaded.config, s.id, cmd === 'pause', reason)) out.push({ site: s.id, ...r });
      } else {
        for (const kind of ['incremental', 'full'] as const) {
          const id = syncScheduleId(s.id, kind);
          try {
            const d = await client.schedule.getHandle(id).describe();
            out.push({
              site: s.id,
              scheduleId: id,
              paused: d.state.paused,
              note: d.state.note ?? '',
              spec: d.spec.intervals?.length
                ? `every ${d.spec.intervals.map((i) => i.every).join(', ')}`
                : `${JSON.stringify(d.spec.calendars)} ${d.spec.timezone ?? 'UTC'}`,
              overlap: d.policies.overlap,
              catchupWindow: d.policies.catchupWindow,
              nextRun: d.info.nextActionTimes[0]?.toISOString() ?? null,
              lastRun: d.info.recentActions.at(-1)?.takenAt.toISOString() ?? null,
            });
          } catch (err) {
            if (!(err instanceof ScheduleNotFoundError)) throw err;
            out.push({ site: s.id, scheduleId: id, missing: true });
          }
        }
      }
    }
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

main(process.argv.slice(2)).catch((err) => {
  if (err instanceof ConfigError || err instanceof BadInput || err instanceof TypeError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(EXIT_BAD_INPUT);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
