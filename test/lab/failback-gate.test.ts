// Failback refusals and the errant-transaction gate on the time-skipping server, with the real activities
// acting on the real lab databases. The state after a failover is made by hand (sg promoted, tw fenced), which
// is all these checks look at; the full runbook runs in failback-lab.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowClient, WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import '../helpers/quiet';
import { siteById, type LoadedConfig } from '../../config/load';
import { engineOf, sql } from '../../lab/database';
import type { FailbackReport } from '../../workflows/failback';
import { controlTaskQueue, failbackWorkflowId, failoverWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import { labDirs } from '../../lab/paths';
import { projectBinary } from '../helpers/binaries';
import { binlogGtids, direct, executedGtids, freshLab, query1, replica, setWritable, waitForGtids, waitUntil } from '../helpers/lab';
import { reseedFrom } from '../../activities/reseed';
import { configWith, withWorkers as withLabWorkers } from '../helpers/gate';
import { signSignal } from '../helpers/sign';

let env: TestWorkflowEnvironment;

before(async () => {
  await freshLab();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal-test-server') } },
  });
});

after(async () => {
  await env?.teardown();
});

const manual = () => configWith([[['approval'], { policy: 'manual', approvers: ['ops-lead', 'dba-oncall'] }]]);

const withWorkers = <T>(loaded: LoadedConfig, fn: () => Promise<T>, without: string[] = []) => withLabWorkers(env, loaded, fn, { without });

const input = { group: 'trading', returning: 'tw', current: 'sg', requestedBy: 'ops-lead', reason: 'gate test' };
let n = 0;
const start = (args: object = input) =>
  env.client.workflow.start('failback', { taskQueue: controlTaskQueue, workflowId: `${failbackWorkflowId('trading')}-${n++}`, args: [args] });

/** Fails with the workflow's own message. */
async function failure(p: Promise<unknown>): Promise<{ type: string | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof WorkflowFailedError, String(err));
    const cause = err.cause as Error & { type?: string };
    return { type: cause.type, message: cause.message };
  }
  assert.fail('the workflow did not fail');
}

/** The state a failover leaves: sg promoted (and written to), tw fenced unless asked; `errant` writes only tw has. */
async function asIfFailedOver(loaded: LoadedConfig, opts: { errant?: number; twWritable?: boolean } = {}): Promise<void> {
  await freshLab();
  const tw = await direct(loaded, 'tw');
  const sg = await direct(loaded, 'sg');
  try {
    await waitForGtids(sg, await binlogGtids(tw), 30);
    await replica(sg, 'stop');
    for (let i = 0; i < (opts.errant ?? 0); i++) await tw.query("INSERT INTO trading.ticks (seq, writer) VALUES (?, 'errant')", [900_000 + i]);
    await replica(sg, 'reset all');
    await setWritable(sg, true);
    await sg.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (3, '2317.TW', 'buy', 2, 150)");
    if (!opts.twWritable) await setWritable(tw, false);
  } finally {
    await tw.end();
    await sg.end();
  }
}

test('bad input is refused before anything is looked at', async () => {
  const loaded = manual();
  const known = loaded.config.sites.map((s) => s.id).join(', '); // tw, sg; or tw, tw2, sg in a three-site lab
  await withWorkers(loaded, async () => {
    const cases: Array<[object, RegExp]> = [
      [{ ...input, group: 'nope' }, /input.group: unknown group 'nope' \(known groups: trading\)/],
      [{ ...input, returning: 'xx' }, new RegExp(`input.returning: unknown site 'xx' \\(known sites: ${known}\\)`)],
      [{ ...input, returning: 'sg' }, /input.returning: 'sg' is also the current primary/],
      [{ ...input, requestedBy: '' }, /input.requestedBy: who asks for this failback is required/],
      [{ ...input, requestedBy: 'mallory', discardErrant: true }, /input.discardErrant: only an approver may .*'mallory' is not one/],
    ];
    for (const [args, message] of cases) {
      const f = await failure((await start(args)).result());
      assert.equal(f.type, 'BadInput');
      assert.match(f.message, message);
    }
  });
});

test('refused when the current site is not the primary (no failover happened)', async () => {
  await withWorkers(manual(), async () => {
    const f = await failure((await start()).result());
    assert.equal(f.type, 'Refused');
    assert.match(f.message, /sg is read-only, so it is not the primary: there is nothing to fail back from/);
  });
});

test('refused while a failover of the group runs', async () => {
  const loaded = manual();
  await withWorkers(loaded, async () => {
    const fo = await env.client.workflow.start('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [{ group: 'trading', from: 'tw', to: 'sg', mode: 'planned', reason: 'drill', requestedBy: 'ops-lead' }],
    });
    await waitUntil('failover waiting for approval', async () => (await fo.query<ProgressView>('progress')).status === 'waiting-approval');
    // A client that does not skip time: skipping would run the failover's manual gate into its far timeout.
    const plain = new WorkflowClient({ connection: env.connection });
    const h = await plain.start('failback', { taskQueue: controlTaskQueue, workflowId: `${failbackWorkflowId('trading')}-${n++}`, args: [input] });
    const f = await failure(plain.result(h.workflowId));
    assert.equal(f.type, 'Refused');
    assert.match(f.message, new RegExp(`a failover of trading is running \\(workflow failover-trading, run ${fo.firstExecutionRunId}`));
    await signSignal(loaded, fo, 'reject', { by: 'ops-lead', reason: 'test over' });
    await fo.result();
  });
});

test('a returning site that does not answer: bounded wait with progress, then a clear failure', async () => {
  const loaded = configWith([
    [['approval'], { policy: 'manual', approvers: ['ops-lead'] }],
    [['failback'], { returnWait: '15s' }],
  ]);
  await asIfFailedOver(loaded);
  await withWorkers(loaded, async () => {
    const h = await start();
    const f = await failure(h.result());
    assert.equal(f.type, 'Refused');
    assert.match(
      f.message,
      /the returning site tw is unreachable \(its worker did not pick up\), still after \d+ attempt\(s\) over \d+ ms \(failback.returnWait is 15000 ms\); nothing was changed/,
    );
    const p = await h.query<ProgressView>('progress');
    const assess = p.steps.find((s) => s.name === 'assess')!;
    assert.ok(Number(assess.detail!.attempt) > 1, JSON.stringify(assess.detail));
  }, ['tw']);
});

test('errant transactions: exported first, the gate shows them, reject aborts and discards nothing', async () => {
  const loaded = configWith([[['approval'], { policy: 'auto', approvers: ['ops-lead', 'dba-oncall'] }]]);
  await asIfFailedOver(loaded, { errant: 3 });
  await withWorkers(loaded, async () => {
    const h = await start();
    // Even under an auto policy, discarding transactions waits for a person.
    await waitUntil('waiting at the errant gate', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    const p = await h.query<ProgressView>('progress');
    const gate = p.steps.find((s) => s.name === 'errant gate')!.detail as {
      request: { count: number; gtids: string[]; tables: string[]; exportFile: string };
      policy: string;
    };
    assert.equal(gate.request.count, 3);
    assert.equal(gate.request.gtids.length, 1, 'one range');
    assert.deepEqual(gate.request.tables, ['trading.ticks']);
    assert.equal(gate.policy, 'manual');
    const text = readFileSync(gate.request.exportFile, 'utf8');
    assert.deepEqual(
      [...text.matchAll(/^###\s+@1=(\d+)/gm)].map((m) => Number(m[1])),
      [900_000, 900_001, 900_002],
    );
    // One failback per group at a time.
    await assert.rejects(
      env.client.workflow.start('failback', { taskQueue: controlTaskQueue, workflowId: h.workflowId, args: [input] }),
      WorkflowExecutionAlreadyStartedError,
    );
    await h.signal('approve', { by: 'mallory', reason: 'trust me' });
    await signSignal(loaded, h, 'reject', { by: 'dba-oncall', reason: 'reconcile first' });
    const r = (await h.result()) as FailbackReport;
    assert.equal(r.outcome, 'aborted');
    assert.equal(r.errant.decision!.by, 'dba-oncall');
    assert.deepEqual(
      r.refusedDecisions.map((d) => d.by),
      ['mallory'],
    );
    assert.ok(existsSync(r.errant.export!.file));
    assert.deepEqual(
      ['re-seed', 'reprotect', 'switchover'].map((s) => r.steps.find((x) => x.name === s)!.state),
      ['skipped', 'skipped', 'skipped'],
    );
  });
  const tw = await direct(loaded, 'tw');
  try {
    assert.equal(Number(await query1(tw, 'SELECT COUNT(*) FROM trading.ticks WHERE seq >= 900000')), 3, 'tw keeps its errant rows');
    assert.equal(Number(await query1(tw, 'SELECT @@global.read_only')), 1, 'and stays fenced');
  } finally {
    await tw.end();
  }
});

test('a returning site that is writable and cannot be fenced is refused with a clear error', async () => {
  const base = configWith([]);
  await asIfFailedOver(base, { twWritable: true });
  // A user that may look but not fence: SET GLOBAL read_only is denied to it.
  const secret = join(labDirs(base).secrets, 'mysql-limited');
  writeFileSync(secret, 'limited-pw', { mode: 0o600 });
  // Created through the lab's root back door: the runbook user itself may not create users.
  const monitor = engineOf(base) === 'mysql' ? 'REPLICATION CLIENT' : 'SLAVE MONITOR, BINLOG MONITOR';
  sql(
    base,
    labDirs(base),
    siteById(base, 'tw'),
    `CREATE USER IF NOT EXISTS 'limited'@'%' IDENTIFIED BY 'limited-pw'; GRANT SELECT, PROCESS, ${monitor} ON *.* TO 'limited'@'%'`,
  );
  const loaded = configWith([
    [['sites', 0, 'mysql', 'user'], 'limited'],
    [['sites', 0, 'mysql', 'password'], `file:${secret}`],
  ]);
  await withWorkers(loaded, async () => {
    const f = await failure((await start()).result());
    assert.equal(f.type, 'Refused');
    assert.match(f.message, /tw is writable and could not be fenced \(.*denied.*\): both tw and sg take writes; fence tw by hand/);
  });
});

test('a re-seed by dump (the fallback to clone, and MariaDB’s way) copies the primary and takes its GTID position from the dump', async () => {
  const loaded = configWith([]);
  await asIfFailedOver(loaded);
  const tw = siteById(loaded, 'tw');
  const r = await reseedFrom(
    { site: tw, baseDir: loaded.baseDir, clientTools: loaded.config.clientTools },
    { source: siteById(loaded, 'sg'), discards: { count: 0, exportFile: null, sha256: null }, method: 'dump' },
  );
  const sg = await direct(loaded, 'sg');
  const twc = await direct(loaded, 'tw');
  try {
    assert.equal(r.method, 'dump');
    assert.ok(r.tables >= 4 && r.bytes > 0, JSON.stringify(r));
    if (engineOf(loaded) === 'mysql') {
      // sg has its own writes and tw's: mysqldump spells a set of two sources over two lines.
      assert.equal(r.gtidPosition.split(',').length, 2, r.gtidPosition);
      assert.equal(r.gtidPosition, await executedGtids(sg));
      assert.equal(await executedGtids(twc), await executedGtids(sg));
      assert.equal(Number(await query1(twc, 'SELECT @@global.super_read_only')), 1, 'super_read_only is back on');
    } else {
      assert.equal(r.gtidPosition, await binlogGtids(sg));
    }
    assert.equal(Number(await query1(twc, 'SELECT COUNT(*) FROM trading.orders')), Number(await query1(sg, 'SELECT COUNT(*) FROM trading.orders')));
  } finally {
    await sg.end();
    await twc.end();
  }
});
