// Drills on the real lab: the faults are the lab's own (power-off, isolate), injected by the control worker
// through the config's command injector. One lab serves every drill: a drill that cleans up leaves it as it
// found it, which is what the drift audit proves and the next drill relies on.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { DrillInput, DrillReport } from '../../workflows/drill';
import type { ProgressView } from '../../domain/steps';
import { WEEKDAYS } from '../../domain/drill';
import { errorText } from '../../domain/errors';
import { controlTaskQueue, drillWorkflowId, failoverWorkflowId } from '../../domain/runs';
import { drillsDirOf } from '../../activities';
import { journalFile, readJournal } from '../../activities/drill-stream';
import { startTemporal, workerName } from '../../lab/services';
import type { Lab } from '../../lab';
import { direct, freshLab, labClient, printEvidence, query1, replicaStatus, waitUntil } from '../helpers/lab';
import { configWith, withWorkers } from '../helpers/gate';
import { projectBinary } from '../helpers/binaries';
import { renderInBrowser } from '../helpers/browser';
import { saveHistory } from '../helpers/histories';
import { signedArgument } from '../helpers/sign';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;

before(async () => {
  lab = await freshLab();
  ({ client, close } = await labClient(lab.loaded));
  // A file RPO to measure: tw's share in the store, as its 5-minute schedule would have it.
  await client.workflow.execute('fileSync', {
    taskQueue: controlTaskQueue,
    workflowId: `file-sync-drill-test-${Date.now()}`,
    args: [{ site: 'tw', kind: 'incremental' }],
  });
});

after(async () => {
  await close();
});

const input = (scenario: DrillInput['scenario'], extra: Partial<DrillInput> = {}): DrillInput => ({
  group: 'trading',
  scenario,
  requestedBy: 'ops-lead',
  reason: `lab test: ${scenario} drill`,
  ...extra,
});

const start = (i: DrillInput) =>
  client.workflow.start<(i: DrillInput) => Promise<DrillReport>>('drill', {
    taskQueue: controlTaskQueue,
    workflowId: drillWorkflowId('trading'),
    args: [i],
  });

async function stepRunning(handle: WorkflowHandle, step: string): Promise<void> {
  await waitUntil(
    `the drill's '${step}' step runs`,
    async () => (await handle.query<ProgressView>('progress')).steps.some((s) => s.name === step && s.state !== 'pending'),
    120_000,
  );
}

/** tw writable and the others its replicas, as the lab began: what every drill must leave behind. */
async function assertLabAsItWas(): Promise<void> {
  const [tw, tw2, sg] = await Promise.all([direct(lab.loaded, 'tw'), direct(lab.loaded, 'tw2'), direct(lab.loaded, 'sg')]);
  try {
    assert.equal(Number(await query1(tw, 'SELECT @@read_only')), 0, 'tw is writable again');
    for (const replica of [tw2, sg]) {
      const r = await replicaStatus(replica);
      assert.ok(r?.ioRunning && r.sqlRunning, 'replicating');
      assert.equal(r.sourcePort, lab.loaded.config.sites[0]!.mysql.port, 'from tw');
    }
  } finally {
    await Promise.all([tw.end(), tw2.end(), sg.end()]);
  }
}

function assertClean(r: DrillReport): void {
  assert.deepEqual(r.cleanup.errors, [], 'cleanup had no errors');
  assert.deepEqual(r.cleanup.drift, [], 'the drift audit found nothing');
  assert.equal(r.cleanup.verdict, 'clean');
}

test('a power-loss drill of tw with a kill -9 of the control worker in its cleanup: measured, failed back, no drift; the HTML report renders', async () => {
  const handle = await start(input('power-loss'));
  await stepRunning(handle, 'return');
  await lab.stopComponent(workerName(), 'SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  await lab.startWorker();
  const r = await handle.result();
  await saveHistory('drill-power-loss', handle);
  console.log(
    JSON.stringify({
      drill: 'power-loss',
      verdict: r.verdict,
      rtoMs: r.measurement.rtoMs,
      phases: r.measurement.phases,
      lost: r.measurement.lostAckedWrites,
    }),
  );
  assert.equal(r.failover?.outcome, 'completed');
  // Semi-sync guarantees tw2 every acknowledged commit; sg may also hold one tw2 had not acknowledged yet, and
  // then it is the most advanced replica and rightly promoted. What must hold either way: nothing acknowledged lost.
  assert.ok(['tw2', 'sg'].includes(r.measurement.newPrimary!), `promoted ${r.measurement.newPrimary}`);
  assert.ok(r.measurement.rtoMs! > 0, 'RTO measured');
  assert.equal(r.measurement.lostAckedWrites, 0, 'semi-sync: no acknowledged write lost');
  for (const name of ['RTO', 'RPO (writes)', 'split brain', 'cleanup'] as const) {
    const v = r.verdicts.find((x) => x.name === name)!;
    assert.notEqual(v.verdict, 'not measured', `${name} measured`);
  }
  assert.equal(r.cleanup.failback?.outcome, 'completed');
  assertClean(r);
  await assertLabAsItWas();
  const shot = await renderInBrowser(r.files!.html!, join(mkdtempSync(join(tmpdir(), 'drill-')), 'report.png'));
  assert.deepEqual(shot.errors, [], 'the page logged no error');
  assert.deepEqual(shot.requests, [], 'the page fetched nothing');
  assert.ok(shot.present.timeline && shot.present.objectives && shot.present['write-stream'], 'timeline, write stream and objectives table present');
});

test('an isolation drill of tw with a kill -9 of Temporal: the split brain is counted exactly; healed, failed back, no drift', async () => {
  const handle = await start(input('isolation'));
  await stepRunning(handle, 'recover');
  await lab.stopComponent('temporal', 'SIGKILL');
  await new Promise((r) => setTimeout(r, 2000));
  await startTemporal(lab.loaded, lab.dirs);
  let r: DrillReport | undefined;
  await waitUntil('the drill ends after the restart', async () => (r = await handle.result().catch(() => undefined)) !== undefined, 300_000);
  console.log(JSON.stringify({ drill: 'isolation', verdict: r!.verdict, rtoMs: r!.measurement.rtoMs, splitBrain: r!.measurement.splitBrainWrites }));
  // The in-site client's own journal: what it saw tw acknowledge after the promotion.
  const drill = `drill-${(await handle.describe()).runId}`;
  const journal = readJournal(journalFile(drillsDirOf(lab.loaded), drill, 'local-tw'));
  const promotedAt = r!.measurement.promotedAt!;
  const acked = journal.filter((w) => w.ok && w.site === 'tw' && w.at >= promotedAt).length;
  assert.ok(acked > 0, 'the isolated tw kept taking writes from inside its site');
  assert.equal(r!.measurement.splitBrainWrites, acked);
  assert.equal(r!.verdicts.find((v) => v.name === 'split brain')!.verdict, 'fail');
  assert.equal(r!.verdict, 'failed', 'the drill fails on the split brain, plainly');
  if (r!.cleanup.errors.length) await printEvidence(lab, client, ['fence-on-return-tw', failoverWorkflowId('trading')], ['worker-tw', 'temporal']);
  assert.equal(r!.cleanup.failback?.outcome, 'completed');
  assertClean(r!);
  await assertLabAsItWas();
});

test('abort in the middle: a stranger is refused by the validator; an approver stops the drill, which cleans up with no drift', async () => {
  const handle = await start(input('power-loss'));
  await stepRunning(handle, 'recover');
  await assert.rejects(handle.executeUpdate('abort', { args: [{ by: 'intruder', reason: 'let me' }] }), (err: unknown) => {
    assert.ok(err instanceof WorkflowUpdateFailedError);
    assert.match(String(err.cause?.message), /^unsigned: this estate requires decisions signed/);
    return true;
  });
  assert.match(
    await handle.executeUpdate<string, [object]>('abort', {
      args: [await signedArgument(lab.loaded, handle, 'abort', { by: 'dba-oncall', reason: 'lab test' })],
    }),
    /abort accepted/,
  );
  const r = await handle.result();
  assert.equal(r.verdict, 'aborted');
  assert.equal(r.aborted?.by, 'dba-oncall');
  assertClean(r);
  await assertLabAsItWas();
});

test('recovery by detection with nothing detecting yet: "detection missed" after the RTO objective; tw powered back, reopened, no drift', async () => {
  const r = await (await start(input('power-loss', { recovery: 'detection' }))).result();
  assert.equal(r.verdict, 'detection missed');
  assert.equal(r.failover, null, 'the drill started no failover itself');
  assert.equal(r.cleanup.failback, null, 'nothing to fail back');
  assert.match(r.notes.join('\n'), /tw came back read-only with no failover behind it: opened for writes again/);
  assertClean(r);
  await assertLabAsItWas();
});

test('refused while a failover of the group runs, and a failover is refused while a drill runs', async () => {
  // A run no worker picks up is running as far as Temporal is concerned: the rule sees it either way.
  const blocker = await client.workflow.start('failover', { taskQueue: 'nobody-polls', workflowId: failoverWorkflowId('trading'), args: [{}] });
  try {
    const r = await (await start(input('power-loss'))).result();
    assert.equal(r.verdict, 'refused');
    assert.match(r.error!, /a failover of trading is running \(workflow failover-trading/);
  } finally {
    await blocker.terminate('test over');
  }
  const drillBlocker = await client.workflow.start('drill', { taskQueue: 'nobody-polls', workflowId: drillWorkflowId('trading'), args: [{}] });
  try {
    const f = client.workflow.start('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [{ group: 'trading', from: 'tw', to: 'tw2', mode: 'planned', reason: 'lab test', requestedBy: 'ops-lead' }],
    });
    await assert.rejects((await f).result(), (err: unknown) => /a drill of trading is running: drill-trading/.test(errorText(err)));
  } finally {
    await drillBlocker.terminate('test over');
  }
  await assertLabAsItWas();
});

test('refused when preflight fails: sg does not replicate', async () => {
  const sg = await direct(lab.loaded, 'sg');
  try {
    await sg.query('STOP REPLICA');
    const r = await (await start(input('power-loss'))).result();
    assert.equal(r.verdict, 'refused');
    assert.match(r.error!, /preflight failed/);
    assert.equal(r.steps.find((s) => s.name === 'inject')!.state, 'pending', 'nothing was injected');
  } finally {
    await sg.query('START REPLICA');
    await sg.end();
  }
});

test('refused outside the drill window unless an approver overrides it', async () => {
  // A dev server of its own (it lists workflows, which the one-at-a-time rule needs), with workers on a config whose window is elsewhere.
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal') }, ip: '127.0.0.1' },
  });
  try {
    // A window on a weekday three days away, in the estate's time zone: never now.
    const elsewhere = WEEKDAYS[(new Date().getUTCDay() + 3) % 7]!;
    const loaded = configWith([
      [['drills', 'windows'], [{ days: [elsewhere], start: '01:00', end: '05:00' }]],
      [['drills', 'schedules'], []],
      [['approval', 'policy'], 'manual'],
    ]);
    await withWorkers(env, loaded, async () => {
      const run = (i: DrillInput) =>
        env.client.workflow.execute('drill', { taskQueue: controlTaskQueue, workflowId: `drill-window-${Date.now()}`, args: [i] });
      const r = (await run(input('power-loss'))) as DrillReport;
      assert.equal(r.verdict, 'refused');
      assert.match(r.error!, new RegExp(`outside the drill window: .*${elsewhere}`, 'i'));
      await assert.rejects(run(input('power-loss', { windowOverride: { by: 'intruder', reason: 'now' } })), (err: unknown) =>
        /input.windowOverride.by: 'intruder' is not an approver/.test(errorText(err)),
      );
      // An approver's override lets the drill past the window: it then waits at the (manual) gate, where it is aborted.
      const handle = await env.client.workflow.start('drill', {
        taskQueue: controlTaskQueue,
        workflowId: `drill-window-${Date.now()}`,
        args: [input('power-loss', { windowOverride: { by: 'ops-lead', reason: 'lab test' } })],
      });
      await waitUntil('waiting at the gate', async () => (await handle.query<ProgressView>('progress')).status === 'waiting-approval');
      await handle.executeUpdate('abort', { args: [await signedArgument(loaded, handle, 'abort', { by: 'ops-lead', reason: 'lab test over' })] });
      const overridden = (await handle.result()) as DrillReport;
      assert.equal(overridden.steps.find((s) => s.name === 'window')!.state, 'done');
      assert.equal(overridden.window.override?.by, 'ops-lead');
      assert.equal(overridden.verdict, 'aborted');
      assert.equal(overridden.steps.find((s) => s.name === 'baseline')!.state, 'pending', 'nothing was changed');
    });
  } finally {
    await env.teardown();
  }
});
