// The failover runbook on the real lab: MariaDB ×2, ProxySQL emulators, moto, and the lab's worker processes.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { FailoverReport } from '../../workflows/failover';
import type { FenceOnReturnReport } from '../../workflows/fence-on-return';
import { controlTaskQueue, failoverWorkflowId, fenceOnReturnWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import { LoadGenerator, SplitBrainWatch } from '../../lab/load';
import { dbName, startDatabase } from '../../lab/database';
import { MOTO, setInsyncDelay, startMoto } from '../../lab/moto';
import { haproxyName, startHaproxy } from '../../lab/haproxy';
import { startTemporal, workerName } from '../../lab/services';
import { readPid } from '../../lab/procs';
import type { Lab } from '../../lab';
import { siteById } from '../../config/load';
import { direct, dnsSites, freshLab, haproxyRoutes, labClient, query1, replica, replicaStatus, tickSeqs, waitUntil, writerOf } from '../helpers/lab';
import { assertNoSecretsInHistories, saveHistory } from '../helpers/histories';
import { readNotices } from '../../lab/notice-sink';
import { expected, sizes } from '../helpers/kube';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;

async function connectClient() {
  ({ client, close } = await labClient(lab.loaded));
}

before(async () => {
  lab = await freshLab();
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

test('planned switchover tw→sg under load through HAProxy, Route 53 PENDING for 10 s: no acknowledged write lost, never two writable, routers, DNS and production size on sg', async () => {
  const since = new Date().toISOString();
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 250 });
  const watch = new SplitBrainWatch(lab.loaded, 100);
  watch.start();
  load.start();
  let report: FailoverReport;
  setInsyncDelay(lab.dirs, 10); // as Route 53 itself: each change PENDING for a while before INSYNC
  try {
    await waitUntil('load running', async () => load.acked.length >= 250);
    report = await runFailover('planned', 'failover-planned');
    const seen = load.acked.length;
    await waitUntil(
      'writes flowing to sg',
      async () => load.acked.length >= seen + 100 && load.acked.at(-1)!.port === siteById(lab.loaded, 'sg').mysql.port,
    );
  } finally {
    setInsyncDelay(lab.dirs, 0);
    await load.stop();
    await watch.stop();
  }
  const summary = await load.stop();
  const split = await watch.stop();

  assert.equal(report!.outcome, 'completed', report!.error);
  assert.equal(report!.rpo.lost.count, 0);
  assert.ok(report!.pointOfNoReturn.reached);
  const onSg = await tickSeqs(lab.loaded, 'sg');
  const missing = summary.acked.filter((a) => !onSg.has(a.seq));
  assert.deepEqual(missing, [], `${missing.length} acknowledged writes are not on sg`);
  assert.ok(
    summary.acked.some((a) => a.port === lab.loaded.config.sites[0]!.mysql.port),
    'some writes went to tw before the switch',
  );
  assert.ok(split.samples > 10, `split-brain watch took ${split.samples} samples`);
  assert.deepEqual(split.violations, [], 'two writable servers were seen');
  assert.equal(await readOnly('tw'), true);
  assert.equal(await readOnly('sg'), false);
  const sgPort = siteById(lab.loaded, 'sg').mysql.port;
  assert.deepEqual(await writerOf(lab.loaded, 'tw'), [sgPort]);
  assert.deepEqual(await writerOf(lab.loaded, 'sg'), [sgPort]);
  assert.deepEqual(await dnsSites(lab.loaded), ['sg', 'sg']);
  // DNS out of the write pause: the RTO waits for INSYNC (10 s), the writers through HAProxy do not.
  const step = (name: string) => report!.steps.find((s) => s.name === name)!;
  assert.ok(report!.rtoMs! >= 10_000, `the RTO (${report!.rtoMs} ms) includes Route 53's 10 s`);
  assert.ok(summary.writeUnavailableMs < 10_000, `the write pause (${summary.writeUnavailableMs} ms) does not include it`);
  assert.ok(Date.parse(step('dns').endedAt!) >= Date.parse(step('route').endedAt!), 'INSYNC came after the route');
  // No write acknowledged by tw once its fence was done; HAProxy in every site sends new connections to sg.
  const twPort = siteById(lab.loaded, 'tw').mysql.port;
  const lastOnTw = Math.max(...summary.acked.filter((a) => a.port === twPort).map((a) => a.at));
  assert.ok(lastOnTw <= Date.parse(step('fence').endedAt!), 'tw acknowledged a write after its fence');
  const allToSg = { tw: sgPort, tw2: sgPort, sg: sgPort };
  assert.deepEqual(await haproxyRoutes(lab.loaded), allToSg);
  // Its state survives a restart of HAProxy (server-state-file).
  await lab.stopComponent(haproxyName(siteById(lab.loaded, 'tw')), 'SIGKILL');
  await startHaproxy(lab.loaded, lab.dirs, siteById(lab.loaded, 'tw'));
  assert.deepEqual(await haproxyRoutes(lab.loaded), allToSg, "after a restart of tw's HAProxy");
  assert.deepEqual(await sizes(lab.loaded, 'sg'), expected(lab.loaded, 'production'), 'sg runs at production size');
  assert.deepEqual(await sizes(lab.loaded, 'tw'), expected(lab.loaded, 'standby'), 'tw, now the DR site, is at standby size');
  // tw's file-sync schedules are paused once sg is promoted (none exist in this lab: reported, not an error).
  assert.deepEqual(report!.steps.find((s) => s.name === 'pause file sync')?.detail, {
    schedules: [
      { scheduleId: 'file-sync-tw-incremental', result: 'not found' },
      { scheduleId: 'file-sync-tw-nightly', result: 'not found' },
    ],
  });
  // The notice reached both of the lab's targets: the Slack-style webhook and the mail relay.
  const notices = readNotices(lab.dirs).filter((n) => n.at >= since && n.title.includes('Failover tw → sg: completed'));
  assert.deepEqual(
    notices.map((n) => `${n.via} → ${n.target}`).sort(),
    ['email → sre-oncall@trading.lab', 'webhook → slack webhook'],
    JSON.stringify(readNotices(lab.dirs)),
  );
  assert.ok(
    notices.every((n) => n.text.includes('requested by ops-lead') && n.text.includes('lost transactions: 0')),
    'each notice says who asked and what was lost',
  );
  console.log(
    JSON.stringify({
      acked: summary.acked.length,
      ratePerSecond: Math.round(summary.ratePerSecond),
      writeUnavailableMs: summary.writeUnavailableMs,
      rtoMs: report!.rtoMs,
      samples: split.samples,
    }),
  );
  await assertNoSecretsInHistories(client, lab.dirs.secrets);
});

test('unplanned failover after power loss at tw: sg takes over, the queued fence runs when tw returns, the lost GTIDs are exactly the writes sg lacks', async () => {
  lab = await freshLab();
  await close();
  await connectClient();
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 250 });
  load.start();
  try {
    await waitUntil('load running', async () => load.acked.length >= 200);
    // sg stops receiving: what tw acknowledges from now on never reaches sg. Nor any other replica (a third
    // site), or the failover would rightly catch sg up from it and nothing would be lost.
    for (const s of lab.loaded.config.sites.filter((x) => x.id !== 'tw')) {
      const c = await direct(lab.loaded, s.id);
      await replica(c, 'stop io');
      await c.end();
    }
    const cut = load.acked.length;
    await waitUntil('writes after the cut', async () => load.acked.length >= cut + 50);
    // Power loss: the database and the site's worker die at once.
    const twDb = readPid(lab.dirs.pids, dbName(lab.loaded.config.sites[0]!))!;
    process.kill(-twDb.pid, 'SIGKILL'); // the group: the server and its monitor
    await lab.stopComponent(workerName('tw'), 'SIGKILL');
  } finally {
    await load.stop();
  }
  const summary = await load.stop();

  const report = await runFailover('unplanned', 'failover-unplanned');
  assert.equal(report.outcome, 'completed', report.error);
  assert.equal(await readOnly('sg'), false);
  assert.deepEqual(await dnsSites(lab.loaded), ['sg', 'sg']);
  assert.deepEqual(await sizes(lab.loaded, 'sg'), expected(lab.loaded, 'production'), 'sg runs at production size');
  assert.equal(report.steps.find((s) => s.name === 'standby')!.state, 'skipped', 'tw was lost: nothing to size there');
  assert.equal(report.rpo.lost.known, false, 'tw was unreachable: its set is unknown until it returns');
  const fenceStep = report.steps.find((s) => s.name === 'fence')!;
  assert.equal((fenceStep.detail!.database as { queued: string }).queued, fenceOnReturnWorkflowId('tw'));

  // tw comes back. Its database starts read-only; its worker runs the queued fence before anything else.
  await startDatabase(lab.loaded, lab.dirs, lab.loaded.config.sites[0]!, 1);
  await lab.startWorker('tw');
  const fenceHandle = client.workflow.getHandle(fenceOnReturnWorkflowId('tw'));
  const returned = (await fenceHandle.result()) as FenceOnReturnReport;
  await saveHistory('fence-on-return', fenceHandle);
  assert.equal(await readOnly('tw'), true, 'tw must stay read-only');
  const onSg = await tickSeqs(lab.loaded, 'sg');
  const onTw = await tickSeqs(lab.loaded, 'tw');
  const lostAcked = summary.acked.filter((a) => !onSg.has(a.seq));
  assert.ok(lostAcked.length > 0, 'the scenario must lose some acknowledged writes');
  assert.ok(
    lostAcked.every((a) => onTw.has(a.seq)),
    'every lost write is still on tw, for the failback to export',
  );
  // The lost GTIDs are exactly tw's writes that sg lacks: the acknowledged ones, plus at most the one write in
  // flight at the kill, which tw may have committed without the acknowledgement reaching the client.
  const lostOnTw = [...onTw].filter((seq) => !onSg.has(seq));
  assert.equal(
    returned.lost.count,
    lostOnTw.length,
    `lost GTIDs ${returned.lost.gtids.join(',')} vs ${lostOnTw.length} writes on tw missing from sg`,
  );
  assert.ok(
    lostOnTw.length - lostAcked.length <= 1,
    `${lostOnTw.length - lostAcked.length} unacknowledged writes on tw; the load has one in flight at most`,
  );
  const workerLog = execFileSync('cat', [`${lab.dirs.logs}/${workerName('tw')}.log`], { encoding: 'utf8' });
  assert.match(workerLog, /a fence was queued while this site was away; running it first/);
  await assertNoSecretsInHistories(client, lab.dirs.secrets, 2);
});

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
    assert.match(err.cause?.message ?? '', /failover aborted before the point of no return: .*Undone: (restore DNS records, )?scale sg back$/);
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
