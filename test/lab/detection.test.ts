// Detection on the real lab, with detection switched on (a copy of the test config): site agents, the alert
// intake, Prometheus and Alertmanager, the quorum and the lease. Nobody starts a failover here: the estate does.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { loadConfig, siteById } from '../../config/load';
import { resolveSecret } from '../../activities/secrets';
import { controlTaskQueue, failoverWorkflowId, fenceOnReturnWorkflowId, incidentWorkflowId } from '../../domain/runs';
import type { IncidentReport } from '../../workflows/incident';
import type { FailoverReport } from '../../workflows/failover';
import type { FenceOnReturnReport } from '../../workflows/fence-on-return';
import type { DrillInput, DrillReport } from '../../workflows/drill';
import { Lab } from '../../lab';
import { dbName } from '../../lab/database';
import { readPid } from '../../lab/procs';
import { powerOff, powerOn } from '../../lab/faults';
import { LoadGenerator } from '../../lab/load';
import { readNotices } from '../../lab/notice-sink';
import { prometheusUrl } from '../../lab/observability';
import { direct, freshLab, labClient, query1, tickSeqs, waitUntil } from '../helpers/lab';
import { detectionConfigFile } from '../helpers/detection';
import { signSignal } from '../helpers/sign';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;
const since = Date.now();

before(async () => {
  lab = new Lab(loadConfig(detectionConfigFile()), () => {});
  await lab.renew();
  ({ client, close } = await labClient(lab.loaded));
});

after(async () => {
  await close();
  await freshLab(); // the other suites run without detection
});

async function renew(): Promise<void> {
  await close();
  await lab.renew();
  ({ client, close } = await labClient(lab.loaded));
}

const site = (id: string) => siteById(lab.loaded, id);
const intake = () => `http://${lab.loaded.config.detection!.control.host}:${lab.loaded.config.detection!.control.port}/alerts`;
const token = () => resolveSecret(lab.loaded.config.detection!.token, lab.loaded.baseDir);

async function readOnly(id: string): Promise<boolean> {
  const c = await direct(lab.loaded, id);
  try {
    return Number(await query1(c, 'SELECT @@read_only')) === 1;
  } finally {
    await c.end();
  }
}

/** The incident's report once it ends: at once for one that changed nothing, after the acknowledgement otherwise. */
async function incidentResult(acknowledge = false): Promise<IncidentReport> {
  const handle = client.workflow.getHandle(incidentWorkflowId('trading'));
  if (acknowledge) await signSignal(lab.loaded, handle, 'acknowledge', { by: 'ops-lead', reason: 'lab test: seen' });
  return (await handle.result()) as IncidentReport;
}

/** Waits for an incident run started after `t` and returns its handle's report file (written before the block). */
async function incidentReportAfter(t: number, outcome: RegExp): Promise<IncidentReport> {
  let found: IncidentReport | undefined;
  await waitUntil(
    `an incident ending ${outcome}`,
    async () => {
      const d = await client.workflow.getHandle(incidentWorkflowId('trading')).describe();
      if (d.startTime.getTime() < t) return false;
      const view = await client.workflow
        .getHandle(incidentWorkflowId('trading'))
        .query<{ status: string; steps: Array<{ name: string; state: string }> }>('progress');
      if (!view.steps.some((s) => s.name === 'report' && s.state === 'done')) return false;
      found = JSON.parse(readFileSync(`${lab.dirs.state}/reports/${incidentWorkflowId('trading')}-${d.runId}.json`, 'utf8')) as IncidentReport;
      return outcome.test(found.outcome);
    },
    60_000,
  );
  return found!;
}

async function failoverRunsSince(t: number): Promise<number> {
  let n = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = '${failoverWorkflowId('trading')}'` })) if (w.startTime.getTime() >= t) n++;
  return n;
}

const alert = (status: 'firing' | 'resolved', labels: Record<string, string>, startsAt: string, fingerprint = 'lab-test-1') => ({
  version: '4',
  status,
  receiver: 'dr-intake',
  groupKey: '{}:{group="trading"}',
  groupLabels: { group: 'trading' },
  commonLabels: labels,
  alerts: [{ status, labels, annotations: {}, startsAt, endsAt: '0001-01-01T00:00:00Z', fingerprint }],
});

const post = (body: unknown, auth: string | null = `Bearer ${token()}`) =>
  fetch(intake(), {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
  });

test('the alert intake: no token or a wrong one is 401, a bad payload 400 with the reason; a duplicate and a repeat are one incident, which a resolved alert closes', async () => {
  const labels = { alertname: 'DrPrimaryDown', group: 'trading', site: 'tw', dr_action: 'failover' };
  const startsAt = new Date().toISOString();
  assert.equal((await post(alert('firing', labels, startsAt), null)).status, 401);
  assert.equal((await post(alert('firing', labels, startsAt), 'Bearer wrong')).status, 401);
  const bad = await post({ ...alert('firing', labels, startsAt), version: '3' });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /version: must be '4'/);
  const unknown = await post(alert('firing', { ...labels, group: 'nope' }, startsAt));
  assert.equal(unknown.status, 400);
  assert.match(((await unknown.json()) as { error: string }).error, /alerts\[0\]\.labels\.group: unknown group 'nope' \(known groups: trading\)/);
  const t = Date.now();
  for (let i = 0; i < 3; i++) assert.equal((await post(alert('firing', labels, startsAt))).status, 200); // a duplicate and a repeat
  assert.equal((await post(alert('resolved', labels, startsAt))).status, 200);
  const r = await incidentResult();
  assert.equal(r.outcome, 'resolved');
  assert.equal(r.duplicates, 2);
  assert.deepEqual(
    r.signals.map((s) => (s.kind === 'alert' ? s.status : s.what)),
    ['firing', 'resolved'],
  );
  let runs = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = '${incidentWorkflowId('trading')}'` })) if (w.startTime.getTime() >= t) runs++;
  assert.equal(runs, 1, 'one incident');
  assert.equal(await failoverRunsSince(since), 0);
});

test('a blip: tw stalls for 1 s and comes back; no failover, the incident closes as resolved', async () => {
  const t = Date.now();
  const pid = readPid(lab.dirs.pids, dbName(site('tw')))!.pid;
  process.kill(-pid, 'SIGSTOP');
  await new Promise((r) => setTimeout(r, 1000));
  process.kill(-pid, 'SIGCONT');
  const r = await incidentReportAfter(t, /.*/);
  assert.equal(r.outcome, 'resolved', JSON.stringify(r.signals));
  assert.equal(r.rounds.length, 0, 'nothing to vote on');
  await new Promise((res) => setTimeout(res, 3000)); // the alert rule's `for` would have fired by now
  assert.equal(await failoverRunsSince(since), 0, 'no failover');
  assert.equal(await readOnly('tw'), false);
});

test('a partial partition: tw cut from sg only still reaches a majority; nothing is fenced and nothing fails over', async () => {
  const t = Date.now();
  lab.network.isolate('tw', 'sg');
  try {
    const r = await incidentReportAfter(t, /refuted/);
    const last = r.rounds.at(-1)!;
    assert.deepEqual([...last.tally.up].sort(), ['ops', 'tw2'], 'a majority reaches tw: the round ends without waiting for sg');
    assert.ok(
      r.signals.some((s) => s.kind === 'agent' && s.from === 'sg' && s.what === 'lease lapsed'),
      'sg reported the lapse',
    );
    await new Promise((res) => setTimeout(res, 3000)); // past fenceAfter: tw renews with tw2 and ops
    assert.equal(await readOnly('tw'), false, 'tw was not fenced');
  } finally {
    lab.network.heal();
  }
  assert.equal(await failoverRunsSince(since), 0);
});

test("Prometheus has the project's series after a scrape, and the exporters' too", async () => {
  const names = [
    'dr_database_up',
    'dr_database_writable',
    'dr_replication_lag_seconds',
    'dr_replication_heartbeat_age_seconds',
    'dr_replication_gtid_gap',
    'dr_lease_held',
    'dr_runbook_runs_total',
    'dr_incidents_total',
    'mysql_up',
  ];
  for (const name of names) {
    await waitUntil(
      `Prometheus has ${name}`,
      async () => {
        const r = (await (await fetch(`${prometheusUrl(lab.loaded)}/api/v1/series?match[]=${name}`)).json()) as { data: unknown[] };
        return r.data.length > 0;
      },
      15_000,
    );
  }
});

test("kill -9 of tw's database under load, nobody starting anything: incident, quorum, failover to tw2, no acknowledged write lost; a second failure right after is held back", async () => {
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 100 });
  load.start();
  const t = Date.now();
  try {
    await waitUntil('writes flow', async () => load.acked.length > 50);
    process.kill(-readPid(lab.dirs.pids, dbName(site('tw')))!.pid, 'SIGKILL');
    await waitUntil('writes on tw2', async () => load.acked.some((a) => a.port === site('tw2').mysql.port), 60_000);
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    await load.stop();
  }
  const r = await incidentReportAfter(t, /failed-over/);
  assert.equal(r.suspect, 'tw');
  assert.equal(r.signals[0]!.kind === 'agent' && r.signals[0]!.what, 'database down');
  const last = r.rounds.at(-1)!;
  assert.equal(last.tally.verdict, 'confirmed');
  assert.ok(last.tally.down.length >= 2, JSON.stringify(last.tally));
  assert.equal(r.failover?.to, 'tw2');
  const failover = JSON.parse(
    readFileSync(`${lab.dirs.state}/reports/${r.failover!.workflowId}-${r.failover!.runId}.json`, 'utf8'),
  ) as FailoverReport;
  assert.equal(failover.input.requestedBy, 'detection');
  assert.equal(failover.approval?.how, 'auto');
  assert.ok(failover.steps.find((s) => s.name === 'lease')?.state === 'done');
  const onTw2 = await tickSeqs(lab.loaded, 'tw2');
  assert.deepEqual(load.acked.filter((a) => !onTw2.has(a.seq)).slice(0, 5), [], 'every acknowledged write is on tw2 (semi-sync)');
  console.log(JSON.stringify({ detection: 'db-kill', confirmMs: r.phases.confirmMs, failoverRtoMs: failover.rtoMs }));

  // The anti-flapping block: tw2 dies too, right after; confirmed, and held back with a notice that says why.
  const before = readNotices(lab.dirs).length;
  process.kill(-readPid(lab.dirs.pids, dbName(site('tw2')))!.pid, 'SIGKILL');
  await waitUntil(
    'a held-back notice',
    async () =>
      readNotices(lab.dirs)
        .slice(before)
        .some((n) => /held back/.test(JSON.stringify(n))),
    30_000,
  );
  const held = readNotices(lab.dirs)
    .slice(before)
    .find((n) => /held back/.test(JSON.stringify(n)))!;
  assert.match(
    JSON.stringify(held),
    /tw2 of trading is confirmed down, but no automatic failover runs: the automatic failover at .* has not been acknowledged/,
  );
  assert.equal(await failoverRunsSince(t), 1, 'only the first failover ran');
  const done = await incidentResult(true);
  assert.equal(done.block?.acknowledged?.by, 'ops-lead');
  assert.deepEqual(
    done.block?.heldBack.map((h) => [h.suspect, h.verdict]),
    [['tw2', 'confirmed']],
  );
});

test('power loss of tw under load: its silent lease starts the incident; tw2 takes over with no acknowledged write lost; the fence queued for tw runs on its return', async () => {
  await renew();
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 100 });
  load.start();
  const t = Date.now();
  try {
    await waitUntil('writes flow', async () => load.acked.length > 50);
    await powerOff(lab, 'tw');
    await waitUntil('writes on tw2', async () => load.acked.some((a) => a.port === site('tw2').mysql.port), 60_000);
  } finally {
    await load.stop();
  }
  const r = await incidentReportAfter(t, /failed-over/);
  assert.ok(
    r.signals.some((s) => s.kind === 'agent' && s.what === 'lease lapsed' && s.suspect === 'tw'),
    `a vantage point reported tw's lease lapsing: ${JSON.stringify(r.signals)}`,
  );
  const failover = JSON.parse(
    readFileSync(`${lab.dirs.state}/reports/${r.failover!.workflowId}-${r.failover!.runId}.json`, 'utf8'),
  ) as FailoverReport;
  assert.equal(failover.input.detected?.suspectSilent, true);
  const onTw2 = await tickSeqs(lab.loaded, 'tw2');
  assert.deepEqual(load.acked.filter((a) => !onTw2.has(a.seq)).slice(0, 5), []);
  console.log(JSON.stringify({ detection: 'power-loss', confirmMs: r.phases.confirmMs, failoverRtoMs: failover.rtoMs }));
  await powerOn(lab, 'tw');
  const fenced = (await client.workflow.getHandle(fenceOnReturnWorkflowId('tw')).result()) as FenceOnReturnReport;
  assert.equal(fenced.fence.site, 'tw');
  assert.equal(await readOnly('tw'), true);
  await incidentResult(true);
});

test('an isolation drill of tw recovered by detection: tw fences itself from fenceAfter, the lease holds the promotion back, no split brain; healed and failed back', async () => {
  await renew();
  await client.workflow.execute('fileSync', {
    taskQueue: controlTaskQueue,
    workflowId: `file-sync-detect-${Date.now()}`,
    args: [{ site: 'tw', kind: 'incremental' }],
  });
  const input: DrillInput = {
    group: 'trading',
    scenario: 'isolation',
    requestedBy: 'ops-lead',
    reason: 'lab test: detection',
    recovery: 'detection',
  };
  const r = (await client.workflow.execute('drill', { taskQueue: controlTaskQueue, workflowId: 'drill-trading', args: [input] })) as DrillReport;
  console.log(
    JSON.stringify({ drill: 'isolation/detection', verdict: r.verdict, rtoMs: r.measurement.rtoMs, splitBrain: r.measurement.splitBrainWrites }),
  );
  assert.equal(r.measurement.splitBrainWrites, 0, 'no write was acknowledged by tw after tw2 was promoted');
  assert.equal(r.verdicts.find((v) => v.name === 'split brain')?.verdict, 'pass');
  assert.match(String(r.failover?.outcome), /^completed/);
  assert.equal(r.cleanup.failback?.outcome, 'completed');
  const log = readFileSync(`${lab.dirs.logs}/worker-tw.log`, 'utf8');
  assert.match(log, /agent tw: lease lost .*: fencing this site's database/);
});
