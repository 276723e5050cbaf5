// The failover runbook on the real lab, on both engines: a planned switchover under load through HAProxy and an
// unplanned failover with its fence on return. Faults around the runbook: failover-faults.test.ts.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Client } from '@temporalio/client';
import type { FailoverReport } from '../../workflows/failover';
import type { FenceOnReturnReport } from '../../workflows/fence-on-return';
import { controlTaskQueue, failoverWorkflowId, fenceOnReturnWorkflowId } from '../../domain/runs';
import { LoadGenerator, SplitBrainWatch } from '../../lab/load';
import { dbName, startDatabase } from '../../lab/database';
import { setInsyncDelay } from '../../lab/moto';
import { haproxyName, startHaproxy } from '../../lab/haproxy';
import { workerName } from '../../lab/services';
import { readPid } from '../../lab/procs';
import type { Lab } from '../../lab';
import { siteById } from '../../config/load';
import { direct, dnsSites, freshLab, haproxyRoutes, labClient, query1, replica, tickSeqs, waitUntil, writerOf } from '../helpers/lab';
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
