// preflight against the real two-site lab: what it reports must match what the servers say.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Client } from '@temporalio/client';
import type mysql from 'mysql2/promise';
import type { PreflightReport } from '../../workflows/preflight';
import { controlTaskQueue, failoverWorkflowId } from '../../domain/runs';
import { engineOf, sql } from '../../lab/database';
import {
  binlogGtids,
  dialectOf,
  direct,
  executedGtids,
  freshLab,
  labClient,
  query1,
  replica,
  setWritable,
  testLab,
  waitForGtids,
} from '../helpers/lab';
import { workerName } from '../../lab/services';
import { saveHistory } from '../helpers/histories';

const lab = testLab();
let client: Client;
let close: () => Promise<void>;
let tw: mysql.Connection;
let sg: mysql.Connection;
let n = 0;

const runPreflight = (): Promise<PreflightReport> =>
  client.workflow.execute('preflight', { taskQueue: controlTaskQueue, workflowId: `test-preflight-${Date.now()}-${n++}`, args: [{}] });

const flagsOf = (r: PreflightReport) => r.flags.map((f) => `${f.code}:${f.site ?? '*'}`);

before(async () => {
  await freshLab();
  ({ client, close } = await labClient(lab.loaded));
  tw = await direct(lab.loaded, 'tw');
  sg = await direct(lab.loaded, 'sg');
});

after(async () => {
  await tw.end();
  await sg.end();
  await close();
});

test('a healthy lab: GTID positions equal what the servers say, no flags', async () => {
  await tw.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (1, '2330.TW', 'buy', 10, 1050)");
  // Let sg apply it, so both positions are stable while preflight reads them.
  await waitForGtids(sg, await binlogGtids(tw), 10);
  const r = await runPreflight();
  assert.deepEqual(r.flags, [], JSON.stringify(r.flags));
  assert.equal(r.ok, true);
  const twCheck = r.sites.find((s) => s.site === 'tw')!;
  const sgCheck = r.sites.find((s) => s.site === 'sg')!;
  assert.equal(twCheck.database!.gtidExecuted, await executedGtids(tw));
  assert.equal(sgCheck.database!.gtidExecuted, await executedGtids(sg));
  if ((await dialectOf(tw)) === 'mariadb') {
    assert.equal(twCheck.database!.gtidBinlogPos, await query1<string>(tw, 'SELECT @@gtid_binlog_pos'));
    assert.equal(sgCheck.database!.gtidSlavePos, await query1<string>(sg, 'SELECT @@gtid_slave_pos'));
  } else {
    assert.equal(twCheck.database!.superReadOnly, false);
    assert.equal(sgCheck.database!.superReadOnly, true);
    assert.deepEqual(twCheck.database!.missingGrants, [], 'the lab runbook user has exactly the documented grants');
  }
  assert.equal(twCheck.database!.readOnly, false);
  assert.equal(sgCheck.database!.readOnly, true);
  assert.equal(sgCheck.database!.replication!.ioRunning, true);
  assert.equal(sgCheck.database!.replication!.sourcePort, lab.loaded.config.sites[0]!.mysql.port);
});

test('replication stopped on sg: preflight reports replication broken', async () => {
  await replica(sg, 'stop');
  try {
    const r = await runPreflight();
    assert.deepEqual(flagsOf(r), ['replication-broken:sg']);
    assert.equal(r.ok, false);
    assert.match(r.flags[0]!.message, /IO stopped, SQL stopped/);
  } finally {
    await replica(sg, 'start');
  }
});

test("sg's worker stopped: preflight reports sg unreachable, not a crash", async () => {
  await lab.stopComponent(workerName('sg'));
  try {
    const r = await runPreflight();
    assert.deepEqual(flagsOf(r), ['site-unreachable:sg']);
    assert.equal(r.sites.find((s) => s.site === 'sg')!.reachability, 'unreachable');
    assert.equal(r.sites.find((s) => s.site === 'tw')!.reachability, 'ok');
  } finally {
    await lab.startWorker('sg');
  }
});

test('sg set writable: preflight reports two writable servers', async () => {
  await setWritable(sg, true);
  try {
    const r = await runPreflight();
    assert.deepEqual(flagsOf(r), ['multiple-writable:*']);
    assert.match(r.flags[0]!.message, /2 writable servers: tw, sg/);
  } finally {
    await setWritable(sg, false);
  }
});

test('the progress query shows every step done', async () => {
  const h = await client.workflow.start('preflight', {
    taskQueue: controlTaskQueue,
    workflowId: `test-preflight-progress-${Date.now()}`,
    args: [{}],
  });
  await h.result();
  await saveHistory('preflight', h);
  const p = await h.query<{ status: string; steps: Array<{ name: string; state: string; durationMs?: number }> }>('progress');
  assert.equal(p.status, 'completed');
  assert.deepEqual(
    p.steps.map((s) => `${s.name}:${s.state}`),
    ['load plan:done', 'inspect sites:done', 'evaluate:done'],
  );
});

test('an unknown group is refused with the known groups named', async () => {
  await assert.rejects(
    client.workflow.execute('preflight', {
      taskQueue: controlTaskQueue,
      workflowId: `test-preflight-badgroup-${Date.now()}`,
      args: [{ group: 'bonds' }],
    }),
    (err: Error & { cause?: { message?: string } }) => /unknown group 'bonds' \(known groups: trading\)/.test(err.cause?.message ?? ''),
  );
});

test('a required grant taken from the runbook user: preflight names it, and a switchover is refused before it changes anything', async () => {
  const tw0 = lab.loaded.config.sites[0]!;
  if (engineOf(lab.loaded) === 'mariadb') {
    // MariaDB's privileges differ; its grants are not checked, and the report says so with null.
    const r = await runPreflight();
    assert.equal(r.sites.find((s) => s.site === 'tw')!.database!.missingGrants, null);
    return;
  }
  const user = `'${tw0.mysql.user}'@'%'`;
  // Through the lab's root back door; the grant replicates to every replica, so every site lacks it.
  sql(lab.loaded, lab.dirs, tw0, `REVOKE CONNECTION_ADMIN ON *.* FROM ${user}`);
  try {
    const r = await runPreflight();
    assert.deepEqual(flagsOf(r).sort(), lab.loaded.config.sites.map((s) => `missing-grant:${s.id}`).sort());
    assert.match(r.flags[0]!.message, /the runbook user lacks CONNECTION_ADMIN, needed to KILL other users' sessions at the fence/);
    await assert.rejects(
      client.workflow.execute('failover', {
        taskQueue: controlTaskQueue,
        workflowId: failoverWorkflowId('trading'),
        args: [{ group: 'trading', from: 'tw', to: 'sg', mode: 'planned', reason: 'grant test', requestedBy: 'ops-lead' }],
      }),
      (err: Error & { cause?: { message?: string } }) =>
        /the runbook user is missing grants it needs: tw lacks CONNECTION_ADMIN .*; sg lacks CONNECTION_ADMIN .*; nothing was changed/.test(
          err.cause?.message ?? '',
        ),
    );
    assert.equal(Number(await query1(tw, 'SELECT @@global.read_only')), 0, 'tw was not fenced');
  } finally {
    sql(lab.loaded, lab.dirs, tw0, `GRANT CONNECTION_ADMIN ON *.* TO ${user}`);
  }
  assert.deepEqual((await runPreflight()).flags, []);
});
