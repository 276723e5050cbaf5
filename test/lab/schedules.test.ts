// The file-sync schedules on the lab's Temporal dev server (the time-skipping test server has no Schedules):
// `schedules apply` is idempotent, a triggered run completes, pause/resume work, a bad spec is refused. The
// drill schedules of the config are applied beside them, on a calendar in the drills' time zone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { createControlActivities } from '../../activities';
import { syncScheduleId } from '../../activities/sync-schedules';
import { drillScheduleId } from '../../activities/drill-schedules';
import type { FileSyncReport } from '../../workflows/file-sync';
import { ROOT } from '../../lab/paths';
import { projectBinary } from '../helpers/binaries';
import { TEST_CONFIG, labClient, testLab, waitUntil } from '../helpers/lab';

const lab = testLab();
let client: Client;
let close: () => Promise<void>;
const ids = [syncScheduleId('tw', 'incremental'), syncScheduleId('tw', 'full')];
/** lab-test.yaml's one drill schedule: a power loss of trading's primary, the first Saturday of each month at 02:00. */
const drillId = drillScheduleId('monthly-power-loss');

function schedules(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'schedules.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  projectBinary('rclone');
  ({ client, close } = await labClient(lab.loaded));
});

after(async () => {
  for (const id of [...ids, drillId])
    await client.schedule
      .getHandle(id)
      .delete()
      .catch(() => undefined);
  await close();
});

test('schedules apply, run twice, leaves one schedule each with the configured spec and policies', async () => {
  const first = schedules('apply', '--config', TEST_CONFIG);
  assert.equal(first.code, 0, first.stderr);
  const second = schedules('apply', '--config', TEST_CONFIG);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout, /scheduleId=file-sync-tw-incremental {2}result=updated/);
  assert.match(second.stdout, /scheduleId=file-sync-tw-nightly {2}result=updated/);

  const found: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith('file-sync-')) found.push(s.scheduleId);
  assert.deepEqual(found.sort(), [...ids].sort(), 'one schedule each, for the primary site only');

  const inc = await client.schedule.getHandle(ids[0]!).describe();
  assert.deepEqual(
    inc.spec.intervals?.map((i) => i.every),
    [300_000],
  );
  assert.equal(inc.policies.overlap, ScheduleOverlapPolicy.SKIP);
  assert.equal(inc.policies.catchupWindow, 3_600_000);
  assert.equal(inc.action.type === 'startWorkflow' && inc.action.workflowType, 'fileSync');

  const nightly = await client.schedule.getHandle(ids[1]!).describe();
  assert.equal(nightly.spec.timezone, 'Asia/Taipei');
  assert.equal(nightly.spec.calendars?.length, 1);
  assert.deepEqual(nightly.spec.calendars![0]!.hour, [{ start: 2, end: 2, step: 1 }]);
  assert.deepEqual(nightly.spec.calendars![0]!.minute, [{ start: 0, end: 0, step: 1 }]);
  assert.equal(nightly.policies.overlap, ScheduleOverlapPolicy.BUFFER_ONE);
  assert.equal(nightly.policies.catchupWindow, 3_600_000);
  // The next nightly run is at 02:00 Taipei time, which is 18:00 UTC.
  const next = nightly.info.nextActionTimes[0]!;
  assert.equal(next.getUTCHours(), 18);
  assert.equal(next.getUTCMinutes(), 0);
});

test('schedules apply creates the drill schedules: a calendar in the drills time zone, overlap SKIP, the drill runbook', async () => {
  const applied = schedules('apply', '--config', TEST_CONFIG);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, new RegExp(`scheduleId=${drillId} {2}result=(created|updated)`));

  const found: string[] = [];
  for await (const s of client.schedule.list()) if (s.scheduleId.startsWith('drill-')) found.push(s.scheduleId);
  assert.ok(found.includes(drillId), `drill schedules: ${found.join(', ')}`);

  const drill = await client.schedule.getHandle(drillId).describe();
  assert.equal(drill.spec.timezone, 'Asia/Taipei');
  assert.equal(drill.spec.calendars?.length, 1);
  const calendar = drill.spec.calendars![0]!;
  assert.deepEqual(calendar.dayOfWeek, [{ start: 'SATURDAY', end: 'SATURDAY', step: 1 }]);
  assert.deepEqual(calendar.dayOfMonth, [{ start: 1, end: 7, step: 1 }], 'monthly: the first Saturday');
  assert.deepEqual(calendar.hour, [{ start: 2, end: 2, step: 1 }]);
  assert.deepEqual(calendar.minute, [{ start: 0, end: 0, step: 1 }]);
  assert.equal(drill.policies.overlap, ScheduleOverlapPolicy.SKIP);
  assert.equal(drill.policies.catchupWindow, 3_600_000);
  assert.deepEqual(drill.memo, { drill: 'monthly-power-loss' });
  assert.ok(drill.action.type === 'startWorkflow');
  assert.equal(drill.action.workflowType, 'drill');
  assert.equal(drill.action.taskQueue, 'dr-control');
  assert.deepEqual(drill.action.args, [
    {
      group: 'trading',
      scenario: 'power-loss',
      requestedBy: 'drill-schedule',
      reason: 'scheduled drill monthly-power-loss (monthly sat 02:00 Asia/Taipei)',
    },
  ]);
  // The next run is at 02:00 on the first Saturday of a month in Taipei: 18:00 UTC on the Friday before.
  const next = drill.info.nextActionTimes[0]!;
  const taipei = new Date(next.getTime() + 8 * 3_600_000);
  assert.deepEqual([taipei.getUTCDay(), taipei.getUTCHours(), taipei.getUTCMinutes()], [6, 2, 0], next.toISOString());
  assert.ok(taipei.getUTCDate() <= 7, next.toISOString());

  const list = schedules('list', '--config', TEST_CONFIG);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`scheduleId=${drillId} {2}scenario=power-loss {2}paused=`));
});

test('a triggered run of the incremental schedule completes', async () => {
  const h = client.schedule.getHandle(ids[0]!);
  const before = (await h.describe()).info.recentActions.length;
  await h.trigger();
  let action: { workflowId: string; firstExecutionRunId: string } | undefined;
  await waitUntil('the triggered run', async () => {
    const d = await h.describe();
    const a = d.info.recentActions.slice(before)[0]?.action;
    if (a) action = a.workflow;
    return a !== undefined;
  });
  const r: FileSyncReport = await client.workflow.getHandle(action!.workflowId, action!.firstExecutionRunId).result();
  assert.equal(r.outcome, 'completed');
  assert.equal(r.site, 'tw');
  assert.equal(r.kind, 'incremental');
});

test('pause by hand, resume and pause through the control activities the runbooks call; apply keeps a pause', async () => {
  const paused = async (id: string) => (await client.schedule.getHandle(id).describe()).state.paused;
  const p = schedules('pause', '--config', TEST_CONFIG, '--site', 'tw', '--reason', 'maintenance');
  assert.equal(p.code, 0, p.stderr);
  for (const id of ids) assert.equal(await paused(id), true);

  const control = createControlActivities(lab.loaded);
  const resumed = await control.resumeSyncSchedules({ site: 'tw', reason: 'failback: tw is the source again' });
  assert.deepEqual(
    resumed.map((r) => r.result),
    ['unpaused', 'unpaused'],
  );
  for (const id of ids) assert.equal(await paused(id), false);
  const again = await control.pauseSyncSchedules({ site: 'tw', reason: 'failover: sg is the source' });
  assert.deepEqual(
    again.map((r) => r.result),
    ['paused', 'paused'],
  );
  assert.equal((await client.schedule.getHandle(ids[0]!).describe()).state.note, 'failover: sg is the source');

  const applied = schedules('apply', '--config', TEST_CONFIG);
  assert.equal(applied.code, 0, applied.stderr);
  for (const id of ids) assert.equal(await paused(id), true, `${id} stays paused after apply`);
  // sg has no schedules yet: reported, not an error.
  assert.deepEqual(
    (await control.pauseSyncSchedules({ site: 'sg', reason: 'x' })).map((r) => r.result),
    ['not found', 'not found'],
  );
});

test('a bad schedule spec is refused in the config format, exit code 2, and nothing is created', async () => {
  const text = readFileSync(TEST_CONFIG, 'utf8').replace(
    /(\n {6}sharePath: [^\n]*shares\/tw\n)/,
    "$1      schedule:\n        every: 5 minutes\n        nightlyAt: '25:00'\n        catchupWindow: 1h\n",
  );
  assert.notEqual(text, readFileSync(TEST_CONFIG, 'utf8'));
  const dir = mkdtempSync(join(tmpdir(), 'dr-sched-'));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, text);
  const r = schedules('apply', '--config', bad);
  assert.equal(r.code, 2);
  assert.match(
    r.stderr,
    new RegExp(
      `^${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: sites\\[0\\]\\.rclone\\.schedule\\.every: must be a duration such as '500ms', '5s', '2m' or '1h' \\(line \\d+\\)$`,
      'm',
    ),
  );
  assert.match(r.stderr, /sites\[0\]\.rclone\.schedule\.nightlyAt: must be a time of day HH:MM \(00:00 to 23:59\), e\.g\. '02:00' \(line \d+\)/);
  const tz = schedules('apply', '--config', bad.replace('bad.yaml', 'tz.yaml'));
  assert.equal(tz.code, 2, 'a missing config file is bad input too');
  writeFileSync(join(dir, 'tz.yaml'), readFileSync(TEST_CONFIG, 'utf8').replace('timezone: Asia/Taipei', 'timezone: Asia/Taipeh'));
  const tzr = schedules('apply', '--config', join(dir, 'tz.yaml'));
  assert.equal(tzr.code, 2);
  assert.match(tzr.stderr, /sites\[0\]\.timezone: must be an IANA time zone such as 'Asia\/Taipei' \(line \d+\)/);
  const unknown = schedules('apply', '--config', TEST_CONFIG, '--site', 'hk');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /sites: unknown site 'hk' \(known sites: tw, tw2, sg\)/);
});
