// The failback runbook on the real lab: after an unplanned failover tw→sg in which tw took writes that never
// reached sg, tw returns; failback exports those writes, re-seeds tw, reprotects it and switches back under load.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { FailoverReport } from '../../workflows/failover';
import type { FailbackReport } from '../../workflows/failback';
import type { FenceOnReturnReport } from '../../workflows/fence-on-return';
import { controlTaskQueue, failbackWorkflowId, failoverWorkflowId, fenceOnReturnWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import { LoadGenerator, SplitBrainWatch } from '../../lab/load';
import { dbName, engineOf, startDatabase } from '../../lab/database';
import { workerName } from '../../lab/services';
import { readPid } from '../../lab/procs';
import type { Lab } from '../../lab';
import { direct, dnsSites, freshLab, labClient, query1, replica, replicaStatus, tickSeqs, waitUntil, writerOf } from '../helpers/lab';
import { assertNoSecretsInHistories, saveHistory } from '../helpers/histories';
import { expected, sizes } from '../helpers/kube';
import { signSignal } from '../helpers/sign';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;

before(async () => {
  lab = await freshLab();
  ({ client, close } = await labClient(lab.loaded));
});

after(async () => {
  await close();
});

const port = (site: string) => lab.loaded.config.sites.find((s) => s.id === site)!.mysql.port;

async function runFailover(mode: 'planned' | 'unplanned'): Promise<FailoverReport> {
  return (await client.workflow.execute('failover', {
    taskQueue: controlTaskQueue,
    workflowId: failoverWorkflowId('trading'),
    args: [{ group: 'trading', from: 'tw', to: 'sg', mode, reason: `before failback: ${mode}`, requestedBy: 'ops-lead' }],
  })) as FailoverReport;
}

const failbackInput = { group: 'trading', returning: 'tw', current: 'sg', requestedBy: 'ops-lead', reason: 'Taiwan is back' };

async function sqlOn<T = unknown>(site: string, statement: string): Promise<T> {
  const c = await direct(lab.loaded, site);
  try {
    return await query1<T>(c, statement);
  } finally {
    await c.end();
  }
}

async function replicaOf(site: string): Promise<{ source: number; io: string; sql: string } | null> {
  const c = await direct(lab.loaded, site);
  try {
    const r = await replicaStatus(c);
    return r ? { source: r.sourcePort, io: r.ioRunning ? 'Yes' : 'No', sql: r.sqlRunning ? 'Yes' : 'No' } : null;
  } finally {
    await c.end();
  }
}

/** The rows an export holds, from the binlog tool's decoded "###" lines: ticks seqs and accounts updates. */
function rowsInExport(file: string): { ticks: number[]; accountUpdates: number; gtids: string[] } {
  const text = readFileSync(file, 'utf8');
  const ticks = [...text.matchAll(/^### INSERT INTO `trading`\.`ticks`\n### SET\n###\s+@1=(\d+)/gm)].map((m) => Number(m[1]));
  const accountUpdates = [...text.matchAll(/^### UPDATE `trading`\.`accounts`/gm)].length;
  // MariaDB: "# … GTID 0-1-42"; MySQL: "SET @@SESSION.GTID_NEXT= 'uuid:42'".
  const gtids = [...text.matchAll(/^#.*\bGTID (\d+-\d+-\d+)|^SET @@SESSION\.GTID_NEXT= '([^']+:\d+)'/gm)].map((m) => (m[1] ?? m[2])!);
  return { ticks, accountUpdates, gtids };
}

test('failback after an unplanned failover: errant writes exported exactly, tw re-seeded, switch back under load loses no acknowledged write', async () => {
  // 1. Unplanned failover while tw takes writes that never replicate.
  const before = new LoadGenerator(lab.loaded, { ratePerSecond: 250 });
  before.start();
  try {
    await waitUntil('load running', async () => before.acked.length >= 200);
    // Nor does any other replica (a third site), or sg would be caught up from it and nothing would be lost.
    for (const s of lab.loaded.config.sites.filter((x) => x.id !== 'tw')) {
      const c = await direct(lab.loaded, s.id);
      await replica(c, 'stop io');
      await c.end();
    }
    const cut = before.acked.length;
    await waitUntil('writes after the cut', async () => before.acked.length >= cut + 50);
  } finally {
    await before.stop();
  }
  const tw = await direct(lab.loaded, 'tw');
  await tw.query('UPDATE trading.accounts SET balance = balance - 100 WHERE id = 1');
  await tw.end();
  const summary = await before.stop(); // stopped before the kill: every write tw committed was acknowledged
  process.kill(-readPid(lab.dirs.pids, dbName(lab.loaded.config.sites[0]!))!.pid, 'SIGKILL'); // the group: server and monitor
  await lab.stopComponent(workerName('tw'), 'SIGKILL');
  const failedOver = await runFailover('unplanned');
  assert.equal(failedOver.outcome, 'completed', failedOver.error);

  // 2. tw returns: its queued fence runs first.
  await startDatabase(lab.loaded, lab.dirs, lab.loaded.config.sites[0]!, 1);
  await lab.startWorker('tw');
  const fenced = (await client.workflow.getHandle(fenceOnReturnWorkflowId('tw')).result()) as FenceOnReturnReport;
  const onSg = await tickSeqs(lab.loaded, 'sg');
  const lost = summary.acked
    .filter((a) => !onSg.has(a.seq))
    .map((a) => a.seq)
    .sort((a, b) => a - b);
  assert.ok(lost.length > 0, 'the scenario must leave acknowledged writes only on tw');
  assert.equal(fenced.lost.count, lost.length + 1, 'the lost ticks and the accounts update');

  // 3. Failback under load. It stops at the errant gate, whatever the approval policy.
  const load = new LoadGenerator(lab.loaded, { ratePerSecond: 250, startSeq: 1_000_000 });
  const watch = new SplitBrainWatch(lab.loaded, 100);
  watch.start();
  load.start();
  let report: FailbackReport;
  try {
    await waitUntil('load running on sg', async () => load.acked.length >= 100);
    const h = await client.workflow.start('failback', {
      taskQueue: controlTaskQueue,
      workflowId: failbackWorkflowId('trading'),
      args: [failbackInput],
    });
    await waitUntil('waiting at the errant gate', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval', 60_000);
    const p = await h.query<ProgressView>('progress');
    const gate = p.steps.find((s) => s.name === 'errant gate')!.detail as {
      request: { count: number; gtids: string[]; tables: string[]; exportFile: string };
    };
    assert.equal(gate.request.count, lost.length + 1);
    assert.deepEqual(gate.request.gtids, fenced.lost.gtids, 'the same GTIDs the fence on return listed');
    assert.deepEqual(gate.request.tables, ['trading.accounts', 'trading.ticks']);
    // The export holds exactly the lost rows' events, written before anything may discard them.
    const exported = rowsInExport(gate.request.exportFile);
    assert.deepEqual(
      exported.ticks.sort((a, b) => a - b),
      lost,
    );
    assert.equal(exported.accountUpdates, 1);
    assert.equal(exported.gtids.length, lost.length + 1);
    assert.equal(Number(await sqlOn('tw', 'SELECT @@global.read_only')), 1, 'tw is fenced while it waits');
    await signSignal(lab.loaded, h, 'approve', { by: 'ops-lead', reason: 'export reviewed; re-seed tw' });
    report = (await h.result()) as FailbackReport;
    await saveHistory('failback-errant', h);
    const seen = load.acked.length;
    await waitUntil('writes flowing to tw', async () => load.acked.length >= seen + 100 && load.acked.at(-1)!.port === port('tw'));
  } finally {
    await load.stop();
    await watch.stop();
  }
  const after = await load.stop();
  const split = await watch.stop();

  assert.equal(report!.outcome, 'completed', report!.error);
  assert.equal(report!.errant.count, lost.length + 1);
  assert.equal(report!.reseed.done, true);
  assert.ok(report!.reseed.result!.bytes > 0 && report!.reseed.result!.tables >= 4, JSON.stringify(report!.reseed.result));
  // MySQL re-seeds with its clone plugin (the lab loads it); MariaDB has none and dumps.
  assert.equal(report!.reseed.result!.method, engineOf(lab.loaded) === 'mysql' ? 'clone' : 'dump');
  assert.equal(report!.switchover!.outcome, 'completed');
  assert.equal(report!.switchover!.lost!.count, 0);
  assert.ok(after.acked.some((a) => a.port === port('sg')) && after.acked.some((a) => a.port === port('tw')), 'writes went to sg, then to tw');
  const onTw = await tickSeqs(lab.loaded, 'tw');
  const missing = after.acked.filter((a) => !onTw.has(a.seq));
  assert.deepEqual(missing, [], `${missing.length} acknowledged writes are not on tw`);
  assert.ok(
    lost.every((s) => !onTw.has(s)),
    'the errant rows were discarded on tw (they live in the export)',
  );
  assert.ok(split.samples > 10);
  assert.deepEqual(split.violations, [], 'two writable servers were seen');
  assert.equal(Number(await sqlOn('tw', 'SELECT @@global.read_only')), 0);
  assert.equal(Number(await sqlOn('sg', 'SELECT @@global.read_only')), 1);
  await waitUntil('sg replicates from tw', async () => {
    const r = await replicaOf('sg');
    return r?.source === port('tw') && r.io === 'Yes' && r.sql === 'Yes';
  });
  assert.deepEqual(await writerOf(lab.loaded, 'tw'), [port('tw')]);
  assert.deepEqual(await writerOf(lab.loaded, 'sg'), [port('tw')]);
  assert.deepEqual(await dnsSites(lab.loaded), ['tw', 'tw']);
  assert.deepEqual(await sizes(lab.loaded, 'tw'), expected(lab.loaded, 'production'), 'tw back at production size');
  assert.deepEqual(await sizes(lab.loaded, 'sg'), expected(lab.loaded, 'standby'), 'sg back at standby size');
  const md = readFileSync(report!.files!.markdown, 'utf8');
  assert.match(
    md,
    new RegExp(
      `errant transactions:\\*\\* ${lost.length + 1}[\\s\\S]*errant export:\\*\\* ${report!.errant.export!.file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
    ),
  );
  assert.match(md, /re-seed.*bytes/);
  console.log(
    JSON.stringify({
      errant: report!.errant.count,
      reseedBytes: report!.reseed.result!.bytes,
      reseedMs: report!.reseed.result!.durationMs,
      catchUpMs: report!.reprotect.caughtUp!.waitedMs,
      acked: after.acked.length,
      writeUnavailableMs: after.writeUnavailableMs,
      rtoMs: report!.rtoMs,
      samples: split.samples,
    }),
  );
  // The failover, the fence on return, the failback and its child switchover.
  await assertNoSecretsInHistories(client, lab.dirs.secrets, 4);
});

test('failback with no errant transactions skips the re-seed, and only reprotects and switches back', async () => {
  lab = await freshLab();
  await close();
  ({ client, close } = await labClient(lab.loaded));
  const failedOver = await runFailover('planned');
  assert.equal(failedOver.outcome, 'completed', failedOver.error);
  // sg takes writes as the primary; tw must catch up on them by replication alone.
  const sg = await direct(lab.loaded, 'sg');
  for (let i = 0; i < 20; i++)
    await sg.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (1, '2330.TW', 'buy', 1, 600)");
  const orders = Number(await query1(sg, 'SELECT COUNT(*) FROM trading.orders'));
  await sg.end();

  const h = await client.workflow.start('failback', {
    taskQueue: controlTaskQueue,
    workflowId: failbackWorkflowId('trading'),
    args: [failbackInput],
  });
  const report = (await h.result()) as FailbackReport;
  await saveHistory('failback-clean', h);
  assert.equal(report.outcome, 'completed', report.error);
  assert.equal(report.errant.count, 0);
  assert.equal(report.reseed.done, false);
  const state = (name: string) => report.steps.find((s) => s.name === name)!.state;
  assert.deepEqual(['errant', 'errant gate', 're-seed'].map(state), ['skipped', 'skipped', 'skipped']);
  assert.deepEqual(['reprotect', 'catch up', 'gate', 'switchover', 'restore protection', 'resume file sync'].map(state), [
    'done',
    'done',
    'done',
    'done',
    'done',
    'done',
  ]);
  assert.equal(report.switchover!.lost!.count, 0);
  assert.equal(Number(await sqlOn('tw', 'SELECT COUNT(*) FROM trading.orders')), orders);
  assert.equal(Number(await sqlOn('tw', 'SELECT @@global.read_only')), 0);
  assert.equal(Number(await sqlOn('sg', 'SELECT @@global.read_only')), 1);
  assert.deepEqual(await dnsSites(lab.loaded), ['tw', 'tw']);
  await waitUntil('sg replicates from tw', async () => (await replicaOf('sg'))?.sql === 'Yes');
  await assertNoSecretsInHistories(client, lab.dirs.secrets, 2);
});
