// The failover runbook when things break around it, on the real lab (MySQL tier only: no SQL of its own here):
// a DNS provider that refuses the change, a kill -9 of Temporal during promote, a kill -9 of the new site's
// worker during scale, and a power restore that must re-open nothing.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type { FailoverReport } from '../../workflows/failover';
import { controlTaskQueue, failoverWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import { LoadGenerator } from '../../lab/load';
import { dbName } from '../../lab/database';
import { MOTO, startMoto } from '../../lab/moto';
import { startTemporal, workerName } from '../../lab/services';
import type { Lab } from '../../lab';
import { direct, dnsSites, freshLab, labClient, query1, replicaStatus, testLab, waitUntil, writerOf } from '../helpers/lab';
import { assertNoSecretsInHistories, saveHistory } from '../helpers/histories';
import { expected, sizes } from '../helpers/kube';
import { sameSteps, undoneSteps } from '../helpers/undone';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;

async function connectClient() {
  ({ client, close } = await labClient(lab.loaded));
}

before(async () => {
  lab = testLab(); // each test starts from a fresh lab of its own
  await connectClient();
});

after(async () => {
  await close();
});

const input = (mode: 'planned' | 'unplanned') => ({ group: 'trading', from: 'tw', to: 'sg', mode, reason: `test ${mode}`, requestedBy: 'ops-lead' });

async function runFailover(mode: 'planned' | 'unplanned', fixture: string): Promise<FailoverReport> {
  const h = await client.workflow.start('failover', { taskQueue: controlTaskQueue, workflowId: failoverWorkflowId('trading'), args: [input(mode)] });
  try {
    return await h.result();
  } finally {
    await saveHistory(fixture, h);
  }
}

async function readOnly(site: string): Promise<boolean> {
  const c = await direct(lab.loaded, site);
  try {
    return Number(await query1(c, 'SELECT @@global.read_only')) === 1;
  } finally {
    await c.end();
  }
}

test('a DNS provider that refuses the change (moto stopped) stops the run before the fence: only the scale-up is undone', async () => {
  lab = await freshLab();
  await close();
  await connectClient();
  const before = { tw: await writerOf(lab.loaded, 'tw'), sg: await writerOf(lab.loaded, 'sg') };
  await lab.stopComponent(MOTO);
  try {
    await assert.rejects(runFailover('planned', 'failover-compensated'), (err: Error & { cause?: Error }) => {
      const text = err.cause?.message ?? '';
      assert.match(text, /failover aborted before the point of no return: .*Undone: .*scale sg back/);
      assert.doesNotMatch(text, /unfence|ProxySQL/, 'nothing was fenced');
      return true;
    });
  } finally {
    await startMoto(lab.loaded, lab.dirs);
  }
  assert.equal(await readOnly('tw'), false, 'tw is writable again');
  assert.equal(await readOnly('sg'), true, 'sg was never promoted');
  assert.deepEqual(await sizes(lab.loaded, 'sg'), expected(lab.loaded, 'standby'), 'sg is back at standby size');
  assert.deepEqual(await sizes(lab.loaded, 'tw'), expected(lab.loaded, 'production'), 'tw was never touched');
  assert.deepEqual({ tw: await writerOf(lab.loaded, 'tw'), sg: await writerOf(lab.loaded, 'sg') }, before, 'ProxySQL routes to tw as before');
  const sg = await direct(lab.loaded, 'sg');
  try {
    assert.equal((await replicaStatus(sg))?.sqlRunning, true, 'sg still replicates from tw');
  } finally {
    await sg.end();
  }
  await assertNoSecretsInHistories(client, lab.dirs.secrets);
});

test('a kill -9 of Temporal during promote: after its restart the run completes, and the recovery is reported', async () => {
  lab = await freshLab();
  await close();
  await connectClient();
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 250 });
  load.start();
  const sg = await direct(lab.loaded, 'sg');
  try {
    await waitUntil('load running', async () => load.acked.length >= 250);
    const t0 = Date.now();
    const h = await client.workflow.start('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [input('planned')],
    });
    // Promote begins by stopping sg's replication: kill the server then, while the activity runs.
    const sqlThread = async () => (await replicaStatus(sg))?.sqlRunning;
    // A tight loop, not waitUntil's 100 ms: the promote takes tens of milliseconds.
    for (const deadline = Date.now() + 60_000; (await sqlThread()) === true;) {
      if (Date.now() > deadline) throw new Error('promote never began within 60 s');
    }
    await lab.stopComponent('temporal', 'SIGKILL');
    const killedAt = Date.now();
    await new Promise((r) => setTimeout(r, 2_000));
    await startTemporal(lab.loaded, lab.dirs);
    const restartedAt = Date.now();
    let report: FailoverReport | undefined;
    await waitUntil(
      'the run completed after the restart',
      async () => {
        report = await client.workflow
          .getHandle(h.workflowId)
          .result()
          .catch(() => undefined);
        return report !== undefined;
      },
      120_000,
    );
    const summary = await load.stop();
    assert.equal(report!.outcome, 'completed', report!.error);
    assert.equal(report!.rpo.lost.count, 0);
    // Figures for the record, not assertions: how long the crash cost.
    const promote = report!.steps.find((s) => s.name === 'promote')!;
    console.log(
      JSON.stringify({
        crash: 'temporal kill -9 as promote stopped replication on sg, restarted 2 s later',
        killedAfterMs: killedAt - t0,
        restartMs: restartedAt - killedAt,
        promoteAttempts: promote.attempts,
        rtoMs: report!.rtoMs,
        longestWritePauseMs: summary.writeUnavailableMs,
      }),
    );
  } finally {
    await load.stop();
    await sg.end();
    await startTemporal(lab.loaded, lab.dirs); // idempotent: a failed test must not leave the lab without its server
  }
});

test('a kill -9 of the new site’s worker during scale: the compensation undoes the part that was done', async () => {
  lab = await freshLab();
  await close();
  await connectClient();
  const before = { tw: await sizes(lab.loaded, 'tw'), sg: await sizes(lab.loaded, 'sg') };
  const h = await client.workflow.start('failover', {
    taskQueue: controlTaskQueue,
    workflowId: failoverWorkflowId('trading'),
    args: [input('planned')],
  });
  const scaledSome = async () => Object.entries(await sizes(lab.loaded, 'sg')).some(([name, s]) => s.replicas !== before.sg[name]!.replicas);
  await waitUntil('sg partly scaled up', scaledSome, 60_000);
  await lab.stopComponent(workerName('sg'), 'SIGKILL');
  // The step fails once the lost attempt's heartbeat stops and no worker takes the retry; then sg's worker
  // comes back, as a restarted site would, and the compensation can run there.
  await waitUntil(
    'the scale step failed',
    async () => (await h.query<ProgressView>('progress')).steps.find((s) => s.name === 'scale')?.state === 'failed',
    120_000,
  );
  await lab.startWorker('sg');
  await assert.rejects(h.result(), (err: Error & { cause?: Error }) => {
    // The DNS change goes in beside the scale-up, so it may have been made (and then undone) too.
    const message = err.cause?.message ?? '';
    assert.match(message, /failover aborted before the point of no return: .*Undone: /);
    const undone = undoneSteps(message);
    assert.ok(sameSteps(undone, ['scale sg back']) || sameSteps(undone, ['restore DNS records', 'scale sg back']), message);
    return true;
  });
  assert.deepEqual(await dnsSites(lab.loaded), ['tw', 'tw'], 'DNS points at tw as before');
  await waitUntil('sg back at its standby size', async () => JSON.stringify(await sizes(lab.loaded, 'sg')) === JSON.stringify(before.sg), 60_000);
  assert.deepEqual({ tw: await sizes(lab.loaded, 'tw'), sg: await sizes(lab.loaded, 'sg') }, before);
  assert.equal(await readOnly('tw'), false, 'tw was never fenced');
});

test('a power restore re-opens nothing: a restarted primary stays read-only until a runbook promotes one', async () => {
  lab = await freshLab();
  assert.equal(await readOnly('tw'), false);
  await lab.stopComponent(dbName(lab.primarySite), 'SIGKILL');
  await lab.up();
  assert.deepEqual({ tw: await readOnly('tw'), sg: await readOnly('sg') }, { tw: true, sg: true });
});
