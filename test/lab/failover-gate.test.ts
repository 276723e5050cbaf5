// The failover gate on the time-skipping server: approval policies, unknown approvers, reject, auto-after,
// the loss budget and one-at-a-time. Workers run in this process with the real activities, acting on the
// real lab databases, ProxySQL emulators and moto; only Temporal's clock is skipped.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/activity';
import '../helpers/quiet';
import type { LoadedConfig } from '../../config/load';
import type { FailoverReport } from '../../workflows/failover';
import { controlTaskQueue, failoverWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import { alreadyRunning } from '../../cli/drctl';
import { projectBinary } from '../helpers/binaries';
import { saveHistory } from '../helpers/histories';
import { direct, dnsSites, freshLab, haproxyRoutes, query1, replicaDelay, replicaStatus, setWritable, waitUntil, writerOf } from '../helpers/lab';
import { configWith, withWorkers as withLabWorkers, type SiteActivities } from '../helpers/gate';
import { expected, sizes } from '../helpers/kube';
import { sameSteps, undoneSteps } from '../helpers/undone';
import { signSignal, signedArgument } from '../helpers/sign';
import { randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { canonical, SIGNING_PREFIX, type Statement } from '../../domain/approval-statement';
import { parsePrivateKey } from '../../activities/ssh-keys';
import { approverPrivateKey } from '../../lab/approver-keys';

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

const withWorkers = <T>(loaded: LoadedConfig, fn: () => Promise<T>, inject?: Record<string, (real: SiteActivities) => Partial<SiteActivities>>) =>
  withLabWorkers(env, loaded, fn, { inject });

const input = { group: 'trading', from: 'tw', to: 'sg', mode: 'planned' as const, reason: 'gate test', requestedBy: 'ops-lead' };
let n = 0;
const start = (args: object = input, id = `${failoverWorkflowId('trading')}-${n++}`) =>
  env.client.workflow.start('failover', { taskQueue: controlTaskQueue, workflowId: id, args: [args] });

async function labState(loaded: LoadedConfig) {
  const tw = await direct(loaded, 'tw');
  const sg = await direct(loaded, 'sg');
  try {
    return {
      twReadOnly: Number(await query1(tw, 'SELECT @@global.read_only')),
      sgReadOnly: Number(await query1(sg, 'SELECT @@global.read_only')),
      sgReplicating: await replicaStatus(sg).then((r) => (r ? (r.sqlRunning ? 'Yes' : 'No') : 'none')),
    };
  } finally {
    await tw.end();
    await sg.end();
  }
}

const manual = () => configWith([[['approval'], { policy: 'manual', approvers: ['ops-lead', 'dba-oncall'] }]]);

beforeEach(async () => {
  // Each test starts from tw primary, sg replica: a failover that went through leaves a fresh lab behind.
  const s = await labState(manual());
  if (s.twReadOnly !== 0 || s.sgReadOnly !== 1 || s.sgReplicating !== 'Yes') await freshLab();
});

test('manual: the run waits for approval, showing lag, GTID gap and what will change', async () => {
  const loaded = manual();
  await withWorkers(loaded, async () => {
    const h = await start();
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    await env.sleep('1 day'); // time passes; manual never proceeds on its own
    const p = await h.query<ProgressView>('progress');
    assert.equal(p.status, 'waiting-approval');
    const gate = p.steps.find((s) => s.name === 'gate')!.detail as { request: { lagSeconds: number; gtidGap: string[]; changes: string[] } };
    assert.equal(gate.request.lagSeconds, 0);
    assert.deepEqual(gate.request.gtidGap, []);
    assert.ok(gate.request.changes.some((c) => /promote sg \(point of no return\)/.test(c)));
    assert.equal((await labState(loaded)).twReadOnly, 0, 'nothing changed while waiting');
    await signSignal(loaded, h, 'reject', { by: 'ops-lead', reason: 'not now' });
    const r = (await h.result()) as FailoverReport;
    assert.equal(r.outcome, 'rejected');
    await saveHistory('failover-manual-rejected', h);
  });
});

test('an unknown approver is refused by the decide Update, and recorded and ignored on the signal', async () => {
  const loaded = manual();
  await withWorkers(loaded, async () => {
    const h = await start();
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    await assert.rejects(h.executeUpdate('decide', { args: [{ decision: 'approve', by: 'mallory', reason: 'trust me' }] }), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String((err as Error & { cause?: Error }).cause?.message), /'mallory' is not an approver \(approvers: ops-lead, dba-oncall\)/);
      return true;
    });
    await h.signal('approve', { by: 'mallory', reason: 'trust me' });
    await waitUntil('signal recorded', async () =>
      (await h.query<ProgressView>('progress')).notes.some((x) => /approve from 'mallory' ignored/.test(x)),
    );
    assert.equal((await h.query<ProgressView>('progress')).status, 'waiting-approval');
    assert.equal(
      await h.executeUpdate('decide', { args: [await signedArgument(loaded, h, 'reject', { by: 'dba-oncall', reason: 'wrong window' })] }),
      'rejected by dba-oncall',
    );
    const r = (await h.result()) as FailoverReport;
    assert.equal(r.outcome, 'rejected');
    // The Update was refused by its validator before it reached history; the signal is recorded.
    assert.deepEqual(
      r.refusedDecisions.map((d) => d.by),
      ['mallory'],
    );
  });
});

/** The lab's approvers with their keys, signatures required, a manual gate and the given quorum. */
const signedManual = (quorum: number) =>
  configWith([[['approval'], { policy: 'manual', approvers: configWith([]).config.approval.approvers, requireSignature: true, quorum }]]);

/** A statement of ops-lead's, signed by `keyOf` (default: ops-lead's own key), with fields changed. */
async function statement(loaded: LoadedConfig, h: WorkflowHandle, change: Partial<Statement>, keyOf = 'ops-lead') {
  const { runId } = await h.describe();
  const s: Statement = {
    workflowId: h.workflowId,
    runId,
    action: 'gate',
    step: 'gate',
    decision: 'approve',
    by: 'ops-lead',
    reason: 'signed test',
    issuedAt: new Date().toISOString(),
    nonce: randomBytes(16).toString('hex'),
    ...change,
  };
  const text = canonical(s);
  const { key } = parsePrivateKey(readFileSync(approverPrivateKey(loaded, keyOf).slice(5), 'utf8'));
  return { signed: { statement: text, signature: sign(null, Buffer.from(SIGNING_PREFIX + text), key).toString('base64') } };
}

test('signed decisions: unsigned, forged, wrong-key, wrong-run, another step, stale and replayed ones are refused and recorded; a correct one proceeds', async () => {
  const loaded = signedManual(1);
  await withWorkers(loaded, async () => {
    const h = await start();
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    const good = await statement(loaded, h, { decision: 'reject', reason: 'the real one' });
    const forged = { signed: { ...good.signed, statement: good.signed.statement.replace('the real one', 'forged one') } };
    const sent: Array<[string, object, RegExp]> = [
      ['unsigned', { by: 'ops-lead', reason: 'plain' }, /^unsigned: this estate requires decisions signed/],
      ['forged', forged, /does not verify against ops-lead's key SHA256:/],
      ['wrong key', await statement(loaded, h, {}, 'dba-oncall'), /does not verify against ops-lead's key/],
      ['wrong run', await statement(loaded, h, { runId: 'another-run' }), /signed for run .*another-run, not this one/],
      ['another step', await statement(loaded, h, { step: 'errant gate' }), /signed for 'errant gate', but the run waits at 'gate'/],
      ['stale', await statement(loaded, h, { issuedAt: new Date(Date.now() - 3_600_000).toISOString() }), /stale: signed 3600 s ago/],
    ];
    for (const [what, arg, why] of sent) {
      // The Update's validator refuses what the workflow can check; the rest is refused after the activity looked.
      await assert.rejects(h.executeUpdate('decide', { args: [arg] }), (err: Error & { cause?: Error }) => {
        assert.match(String(err.cause?.message), why, what);
        return true;
      });
      await h.signal('approve', arg);
    }
    await waitUntil(
      'every signal refused',
      async () => (await h.query<ProgressView>('progress')).notes.filter((n) => /ignored: /.test(n)).length >= 8,
    );
    assert.equal((await h.query<ProgressView>('progress')).status, 'waiting-approval', 'nothing proceeded');
    assert.equal((await labState(loaded)).twReadOnly, 0, 'nothing changed');
    assert.equal(await h.executeUpdate('decide', { args: [good] }), 'rejected by ops-lead');
    await assert.rejects(h.executeUpdate('decide', { args: [good] }), (err: Error & { cause?: Error }) => {
      assert.match(String(err.cause?.message), /^replayed: the statement with nonce \w+ was already used$/);
      return true;
    });
    const r = (await h.result()) as FailoverReport;
    assert.equal(r.outcome, 'rejected');
    assert.equal(r.approval?.by, 'ops-lead');
    assert.match(String(r.approval?.approvals?.[0]?.signature?.fingerprint), /^SHA256:/);
    const refused = r.refusedDecisions.map((d) => d.why);
    for (const [what, , why] of sent.slice(1))
      assert.ok(
        refused.some((w) => why.test(w)),
        `${what} recorded: ${refused.join(' | ')}`,
      );
  });
});

test('two-person rule: with quorum 2 one signature waits, the same approver twice still waits, two distinct approvers proceed', async () => {
  const loaded = signedManual(2);
  await withWorkers(loaded, async () => {
    const h = await start();
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    const first = await h.executeUpdate('decide', { args: [await signedArgument(loaded, h, 'approve', { by: 'ops-lead', reason: 'lag is zero' })] });
    assert.equal(first, '1 of 2 approval(s); still needed: 1 more of dba-oncall');
    const again = await h.executeUpdate('decide', { args: [await signedArgument(loaded, h, 'approve', { by: 'ops-lead', reason: 'again' })] });
    assert.equal(again, first, 'the same approver twice still counts once');
    const p = await h.query<ProgressView>('progress');
    assert.equal(p.status, 'waiting-approval');
    assert.equal(p.waitingAt, 'gate');
    const gate = p.steps.find((s) => s.name === 'gate')!.detail as {
      needed: number;
      approvals: Array<{ by: string; signed: string }>;
      standing: string;
    };
    assert.equal(gate.needed, 2);
    assert.deepEqual(
      gate.approvals.map((a) => a.by),
      ['ops-lead'],
    );
    assert.match(gate.approvals[0]!.signed, /^SHA256:/);
    assert.ok(p.notes.some((n) => /approve by ops-lead again: it counts once/.test(n)));
    await signSignal(loaded, h, 'approve', { by: 'dba-oncall', reason: 'checked the replica' });
    const r = (await h.result()) as FailoverReport;
    assert.equal(r.outcome, 'completed', r.error);
    assert.equal(r.approval?.by, 'ops-lead and dba-oncall');
    assert.deepEqual(
      r.approval?.approvals?.map((a) => a.by),
      ['ops-lead', 'dba-oncall'],
    );
    await saveHistory('failover-signed-two-person', h);
  });
});

test('reject changes nothing: tw stays primary, sg keeps replicating', async () => {
  const loaded = manual();
  await withWorkers(loaded, async () => {
    const before = await labState(loaded);
    const h = await start();
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    await signSignal(loaded, h, 'reject', { by: 'ops-lead', reason: 'market open' });
    const r = (await h.result()) as FailoverReport;
    assert.equal(r.outcome, 'rejected');
    assert.equal(r.pointOfNoReturn.reached, false);
    assert.deepEqual(await labState(loaded), before);
    assert.ok(['scale', 'fence', 'catch up', 'dns', 'promote', 'route'].every((name) => r.steps.find((s) => s.name === name)!.state === 'skipped'));
  });
});

test('a second failover of the same group is refused, naming the running one', async () => {
  const loaded = manual();
  await withWorkers(loaded, async () => {
    const id = failoverWorkflowId('trading');
    const h = await env.client.workflow.start('failover', {
      taskQueue: controlTaskQueue,
      workflowId: id,
      args: [input],
      memo: { requestedBy: 'ops-lead', mode: 'planned', from: 'tw', to: 'sg' },
    });
    await waitUntil('waiting for approval', async () => (await h.query<ProgressView>('progress')).status === 'waiting-approval');
    await assert.rejects(
      env.client.workflow.start('failover', { taskQueue: controlTaskQueue, workflowId: id, args: [{ ...input, requestedBy: 'dba-oncall' }] }),
      WorkflowExecutionAlreadyStartedError,
    );
    assert.match(
      await alreadyRunning(env.client, id),
      new RegExp(`already running: workflow ${id} \\(run ${h.firstExecutionRunId}\\).* by ops-lead \\(planned tw → sg\\)`),
    );
    await signSignal(loaded, h, 'reject', { by: 'ops-lead', reason: 'test over' });
    await h.result();
  });
});

test('auto-after: with nobody answering, the failover proceeds when the timeout passes', async () => {
  const loaded = configWith([[['approval'], { policy: 'auto-after', after: '2m', approvers: ['ops-lead'] }]]);
  await withWorkers(loaded, async () => {
    const h = await start();
    const r = (await h.result()) as FailoverReport; // the test server skips the 2 minutes
    await saveHistory('failover-auto-after', h);
    assert.equal(r.outcome, 'completed', r.error);
    assert.deepEqual(r.approval && { how: r.approval.how, by: r.approval.by }, { how: 'timeout', by: 'policy:auto-after' });
    const s = await labState(loaded);
    assert.deepEqual([s.twReadOnly, s.sgReadOnly], [1, 0]);
  });
});

test('a replica too far behind: refused with the lag and the budget, and nothing changes', async () => {
  const loaded = configWith([[['objectives', 'rpoSeconds'], 1]]);
  const sg = await direct(loaded, 'sg');
  const tw = await direct(loaded, 'tw');
  try {
    await replicaDelay(sg, 3600); // long enough that the lag cannot end before the gate reads it
    await tw.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (2, '0050.TW', 'sell', 5, 140)");
    await waitUntil('sg lags', async () => ((await replicaStatus(sg))?.secondsBehind ?? 0) >= 2);
    await withWorkers(loaded, async () => {
      const before = await labState(loaded);
      const r = (await (await start({ ...input, mode: 'unplanned' })).result()) as FailoverReport;
      assert.equal(r.outcome, 'rejected');
      assert.match(r.error ?? '', /estimated loss \d+ s is over the RPO budget of 1 s.*Nothing was changed.*acceptLoss/);
      assert.deepEqual(await labState(loaded), before);
    });
  } finally {
    // Not allowed to hide the test's own failure: if sg was promoted after all, the next test's beforeEach
    // starts a fresh lab anyway.
    try {
      await replicaDelay(sg, 0);
    } catch (err) {
      console.error(`restoring sg's replication delay: ${(err as Error).message}`);
    }
    await sg.end();
    await tw.end();
  }
});

test('after the point of no return a failing step waits for an operator: no undo, a stranger is ignored, an approver retries', async () => {
  const loaded = configWith([]);
  let refuse = true;
  let attempts = 0;
  // sg's ProxySQL refuses the writer change until the operator has "fixed" it; everything else is real.
  const inject = {
    sg: (real: SiteActivities) => ({
      proxysqlRouteWriter: async (i: Parameters<SiteActivities['proxysqlRouteWriter']>[0]) => {
        attempts++;
        if (refuse) throw ApplicationFailure.nonRetryable('injected: ProxySQL admin on sg refused LOAD MYSQL SERVERS TO RUNTIME');
        return real.proxysqlRouteWriter(i);
      },
    }),
  };
  await withWorkers(
    loaded,
    async () => {
      const h = await start();
      await waitUntil('needs an operator', async () => (await h.query<ProgressView>('progress')).status === 'needs-operator');
      let p = await h.query<ProgressView>('progress');
      assert.equal(p.steps.find((s) => s.name === 'promote')?.state, 'done');
      assert.equal(p.steps.find((s) => s.name === 'route')?.state, 'failed');
      assert.ok(
        p.notes.some((n) => /step 'route' failed after the point of no return: .*injected.*Waiting for retry-step or skip-step/.test(n)),
        p.notes.join('\n'),
      );
      // Past the point of no return nothing is undone: sg is the only writable server.
      assert.deepEqual(await labState(loaded), { twReadOnly: 1, sgReadOnly: 0, sgReplicating: 'none' });
      const tried = attempts;
      await h.signal('retry-step', { by: 'mallory', reason: 'let me' });
      await waitUntil('stranger ignored', async () =>
        (await h.query<ProgressView>('progress')).notes.some((n) => /retry-step from 'mallory' ignored: unsigned/.test(n)),
      );
      assert.equal((await h.query<ProgressView>('progress')).status, 'needs-operator');
      assert.equal(attempts, tried, 'no retry without an approver');
      refuse = false;
      await signSignal(loaded, h, 'retry-step', { by: 'dba-oncall', reason: 'ProxySQL admin back' });
      const r = (await h.result()) as FailoverReport;
      assert.equal(r.outcome, 'completed', r.error);
      assert.deepEqual(
        r.operatorActions.map((a) => `${a.step} ${a.action} ${a.by}`),
        ['route retry dba-oncall'],
      );
      assert.equal(r.steps.find((s) => s.name === 'route')?.state, 'done');
      p = await h.query<ProgressView>('progress');
      assert.ok(p.notes.some((n) => /retrying 'route' \(dba-oncall: ProxySQL admin back\)/.test(n)));
      await saveHistory('failover-operator-retry', h);
    },
    inject,
  );
});

test('skip-step after the point of no return: the step is marked skipped with who and why, and the run goes on', async () => {
  const loaded = configWith([]);
  const inject = {
    sg: () => ({
      proxysqlRouteWriter: async () => {
        throw ApplicationFailure.nonRetryable('injected: ProxySQL admin on sg unreachable');
      },
    }),
  };
  await withWorkers(
    loaded,
    async () => {
      const h = await start();
      await waitUntil('needs an operator', async () => (await h.query<ProgressView>('progress')).status === 'needs-operator');
      await signSignal(loaded, h, 'skip-step', { by: 'ops-lead', reason: 'sg ProxySQL re-pointed by hand' });
      const r = (await h.result()) as FailoverReport;
      assert.equal(r.outcome, 'completed-with-skips', r.error);
      const route = r.steps.find((s) => s.name === 'route')!;
      assert.equal(route.state, 'skipped');
      assert.match(String(route.detail?.skipped), /skipped by ops-lead: sg ProxySQL re-pointed by hand/);
      assert.deepEqual(
        r.operatorActions.map((a) => `${a.step} ${a.action} ${a.by}`),
        ['route skip ops-lead'],
      );
      assert.equal(r.steps.find((s) => s.name === 'verify')?.state, 'done', 'the probe write still ran against sg');
      await saveHistory('failover-operator-skip', h);
    },
    inject,
  );
});

test('an outside re-open of the old primary during a switchover is fenced again, and the outcome says so', async () => {
  const loaded = configWith([]);
  let reopened = false;
  // While sg's ProxySQL is re-pointed (after the promotion), someone re-opens tw: a DBA, a restart script, a my.cnf.
  const inject = {
    sg: (real: SiteActivities) => ({
      proxysqlRouteWriter: async (i: Parameters<SiteActivities['proxysqlRouteWriter']>[0]) => {
        if (!reopened) {
          const tw = await direct(loaded, 'tw');
          await setWritable(tw, true);
          await tw.end();
          reopened = true;
        }
        return real.proxysqlRouteWriter(i);
      },
    }),
  };
  await withWorkers(
    loaded,
    async () => {
      const r = (await (await start()).result()) as FailoverReport;
      assert.ok(reopened, 'the fault was injected');
      assert.equal(r.outcome, 'completed-with-refence', r.error);
      assert.deepEqual(r.refenced, ['tw']);
      const step = r.steps.find((s) => s.name === 'one writer')!;
      assert.equal(step.state, 'done');
      assert.deepEqual(step.detail?.refenced, ['tw']);
      assert.ok(
        r.notes.some((n) => /tw was writable again after sg took over: fencing it again/.test(n)),
        r.notes.join('\n'),
      );
      assert.deepEqual(await labState(loaded), { twReadOnly: 1, sgReadOnly: 0, sgReplicating: 'none' });
    },
    inject,
  );
});

test('a scale-up cut short is undone: sg goes back to its standby size, tw is untouched', async () => {
  const loaded = configWith([]);
  const before = { tw: await sizes(loaded, 'tw'), sg: await sizes(loaded, 'sg') };
  // The scale-up reaches the cluster, then the worker "dies" before it can answer: the step fails.
  const inject = {
    sg: (real: SiteActivities) => ({
      scaleServices: async (i: Parameters<SiteActivities['scaleServices']>[0]) => {
        await real.scaleServices(i);
        throw ApplicationFailure.nonRetryable('injected: the site worker died after patching the Deployments');
      },
    }),
  };
  await withWorkers(
    loaded,
    async () => {
      await assert.rejects((await start()).result(), (err: Error & { cause?: Error }) => {
        const message = err.cause?.message ?? '';
        assert.match(message, /failover aborted before the point of no return: .*injected.*Undone: /);
        // DNS runs beside the scale, so its undo comes before or after the scale's, or not at all.
        const undone = undoneSteps(message);
        assert.ok(
          sameSteps(undone, ['scale sg back']) || sameSteps(undone, ['restore DNS records', 'scale sg back']),
          `undone: ${undone.join(', ')}`,
        );
        return true;
      });
    },
    inject,
  );
  assert.deepEqual({ tw: await sizes(loaded, 'tw'), sg: await sizes(loaded, 'sg') }, before);
  assert.deepEqual(before.sg, expected(loaded, 'standby'));
  assert.deepEqual(await labState(loaded), { twReadOnly: 0, sgReadOnly: 1, sgReplicating: 'Yes' });
});

test('a catch-up that fails after the fence: everything is undone, newest first (HAProxy and ProxySQL in every site, the fence, DNS, the scale-up)', async () => {
  const loaded = configWith([]);
  const before = {
    writers: { tw: await writerOf(loaded, 'tw'), sg: await writerOf(loaded, 'sg') },
    dns: await dnsSites(loaded),
    haproxy: await haproxyRoutes(loaded),
  };
  const inject = {
    sg: () => ({
      waitForGtids: async () => {
        throw ApplicationFailure.nonRetryable('injected: sg stopped applying');
      },
    }),
  };
  await withWorkers(
    loaded,
    async () => {
      await assert.rejects((await start()).result(), (err: Error & { cause?: Error }) => {
        const message = err.cause?.message ?? '';
        assert.match(message, /failover aborted before the point of no return: .*injected.*Undone: .*restore HAProxy in sg.*unfence tw/);
        // The DNS change and the scale-up ran side by side before the fence: undone last, in either order.
        assert.ok(sameSteps(undoneSteps(message).slice(-2), ['restore DNS records', 'scale sg back']), message);
        return true;
      });
    },
    inject,
  );
  assert.deepEqual(await labState(loaded), { twReadOnly: 0, sgReadOnly: 1, sgReplicating: 'Yes' });
  const after = {
    writers: { tw: await writerOf(loaded, 'tw'), sg: await writerOf(loaded, 'sg') },
    dns: await dnsSites(loaded),
    haproxy: await haproxyRoutes(loaded),
  };
  assert.deepEqual(after, before, 'ProxySQL, DNS and HAProxy in every site as before');
  assert.deepEqual(await sizes(loaded, 'sg'), expected(loaded, 'standby'));
});

test('a candidate too far behind to fence: the switchover stops before the fence, naming the backlog and the bound', async () => {
  const loaded = configWith([[['switchover'], { nearlyTransactions: 10, nearlyTimeout: '1s' }]]);
  const sg = await direct(loaded, 'sg');
  const tw = await direct(loaded, 'tw');
  try {
    await replicaDelay(sg, 3600); // sg receives but does not apply: a backlog that cannot shrink
    for (let i = 0; i < 40; i++)
      await tw.query("INSERT INTO trading.orders (account_id, symbol, side, qty, price) VALUES (3, '2330.TW', 'buy', 1, 600)");
    await withWorkers(loaded, async () => {
      await assert.rejects((await start()).result(), (err: Error & { cause?: Error }) => {
        assert.match(
          err.cause?.message ?? '',
          /site sg is still \d+ received transaction\(s\) behind after 1000 ms; bound: 10 transactions or 200 ms; nothing was fenced/,
        );
        assert.doesNotMatch(err.cause?.message ?? '', /unfence/);
        return true;
      });
    });
    assert.equal(Number(await query1(tw, 'SELECT @@global.read_only')), 0, 'tw was never fenced');
  } finally {
    await replicaDelay(sg, 0);
    await sg.end();
    await tw.end();
  }
});

test('a switchover from a server that is not the primary is refused at once, naming the primary', async () => {
  const loaded = configWith([]);
  const stateBefore = await labState(loaded);
  await withWorkers(loaded, async () => {
    const h = await start({ ...input, from: 'sg', to: 'tw' });
    await assert.rejects(h.result(), (err: Error & { cause?: Error }) => {
      assert.match(
        err.cause?.message ?? '',
        /sg is not the primary: it is read-only and replicates from [\d.]+:\d+; tw is the writable server; nothing was changed/,
      );
      return true;
    });
    const p = await h.query<ProgressView>('progress');
    assert.equal(p.steps.find((s) => s.name === 'fence')?.state, 'pending', 'nothing was fenced');
  });
  assert.deepEqual(await labState(loaded), stateBefore);
});
