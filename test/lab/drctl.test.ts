// drctl against a local Temporal dev server (the project's own `temporal` binary, no lab): it says what is wrong
// in one line and exits 3 for a run that does not exist, has ended or is not the caller's to act on, 2 for bad
// input before connecting, and rides out a restart of Temporal while it follows a run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { parseDocument } from 'yaml';
import '../helpers/quiet';
import { projectBinary } from '../helpers/binaries';
import { freePort } from '../helpers/ports';
import { exitFor, joinedValues } from '../../cli/drctl';
import { isTransient, retrying, Unreachable } from '../../cli/reconnect';
import { controlTaskQueue } from '../../domain/runs';
import type { SignedStatement } from '../../domain/approval-statement';
import { approvalVerifier } from '../../activities/approval-verify';
import { loadConfig } from '../../config/load';
import { ROOT } from '../../lab/paths';

const example = join(ROOT, 'config', 'example.yaml');

/** The bundler's chatter stays out of the test output; its errors do not. */
const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} };

let scratch: string;
let workflowBundle: { code: string };
let env: TestWorkflowEnvironment;
let worker: Worker;
let workerRun: Promise<void>;
let config: string;

/**
 * The example config pointed at a Temporal server. The stand-in runs check approvers by name, so signatures are
 * not required here unless asked for (they are tested against the real runbooks in the gate tests).
 */
function configFor(address: string, name: string, approval: Record<string, unknown> = { requireSignature: false }): string {
  const doc = parseDocument(readFileSync(example, 'utf8'));
  doc.setIn(['temporal', 'address'], address);
  doc.setIn(['temporal', 'namespace'], 'default');
  for (const [k, v] of Object.entries(approval)) doc.setIn(['approval', k], v);
  // The example's keys live in /etc/dr on a real control host; these stand-ins run without encryption.
  doc.deleteIn(['temporal', 'encryption']);
  doc.deleteIn(['temporal', 'codecServer']);
  const file = join(scratch, name);
  writeFileSync(file, doc.toString());
  return file;
}

const devServer = (extra: { port?: number; dbFilename?: string } = {}) =>
  TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal') }, ip: '127.0.0.1', ...extra },
  });

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'drctl-test-'));
  workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows/drctl-stand-ins'), logger: quietLogger });
  env = await devServer();
  config = configFor(env.address, 'dr.yaml');
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: controlTaskQueue, workflowBundle });
  workerRun = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerRun;
  await env?.teardown();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

interface Exit {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** drctl as the operator runs it; `onOutput` sees stdout and stderr as they come. Killed after 90 s (exit null). */
function drctl(configFile: string, args: string[], onOutput?: (text: string) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli/drctl.ts'), '--config', configFile, ...args], { cwd: ROOT });
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const out = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (text: string) => {
        out[stream] += text;
        onOutput?.(text);
      });
    }
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, ...out });
    });
  });
}

/** Exit code and message, and never a stack trace. */
function assertExit(r: Exit, code: number, message: RegExp, what: string): void {
  assert.equal(r.status, code, `${what}: exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, message, what);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `${what}: a stack trace`);
}

test('status, approve, reject, report and skip-step of a run that does not exist exit 3: no such run', async () => {
  const commands = [
    ['status', 'failover-nowhere'],
    ['approve', 'failover-nowhere', '--by', 'ops-lead', '--reason', 'go'],
    ['reject', 'failover-nowhere', '--by', 'ops-lead', '--reason', 'no'],
    ['report', 'failover-nowhere'],
    ['skip-step', 'failover-nowhere', '--by', 'ops-lead', '--reason', 'fixed by hand'],
  ];
  const results = await Promise.all(commands.map((args) => drctl(config, args)));
  commands.forEach((args, i) => assertExit(results[i]!, 3, /^no such run: failover-nowhere \(namespace default\)$/m, args.join(' ')));
});

test('approve and reject of a completed run exit 3 with its outcome; of a terminated one, with how it ended', async () => {
  await env.client.workflow.execute('rejectedFailover', { taskQueue: controlTaskQueue, workflowId: 'failover-done' });
  for (const decision of ['approve', 'reject']) {
    const r = await drctl(config, [decision, 'failover-done', '--by', 'ops-lead', '--reason', 'late']);
    assertExit(r, 3, new RegExp(`^failover-done already completed \\(outcome rejected at \\S+Z\\); nothing to ${decision}$`, 'm'), decision);
  }
  const stopped = await env.client.workflow.start('waiting', {
    taskQueue: controlTaskQueue,
    workflowId: 'failover-stopped',
    args: ['waiting-approval'],
  });
  await stopped.terminate('operator stopped it');
  const r = await drctl(config, ['approve', 'failover-stopped', '--by', 'ops-lead', '--reason', 'late']);
  assertExit(r, 3, /^failover-stopped already ended \(terminated at \S+Z\); nothing to approve$/m, 'approve of a terminated run');
});

test('drctl sign prints a statement signed with the approver’s key for the UI or the temporal CLI; a key that is not theirs, or none, sends nothing', async () => {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'ops-lead', '-f', join(scratch, 'ops-lead')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'intruder', '-f', join(scratch, 'intruder')]);
  const approvers = [{ name: 'ops-lead', key: readFileSync(join(scratch, 'ops-lead.pub'), 'utf8').trim() }];
  const signing = configFor(env.address, 'signing.yaml', { approvers, requireSignature: true, quorum: 1 });
  const h = await env.client.workflow.start('waiting', { taskQueue: controlTaskQueue, workflowId: 'failover-gated', args: ['waiting-approval'] });
  try {
    const key = `file:${join(scratch, 'ops-lead')}`;
    const r = await drctl(signing, ['sign', 'approve', 'failover-gated', '--by', 'ops-lead', '--reason', 'lag is zero', '--key', key]);
    assert.equal(r.status, 0, r.stderr);
    const { signed } = JSON.parse(r.stdout) as { signed: SignedStatement };
    assert.match(r.stderr, /^signal it: temporal workflow signal --workflow-id failover-gated --name approve --input '\{"signed":/m);
    const verdict = await approvalVerifier(loadConfig(signing))({
      signed,
      expect: { workflowId: 'failover-gated', runId: h.firstExecutionRunId, action: 'gate' },
    });
    assert.ok(verdict.ok, JSON.stringify(verdict));
    assert.equal(verdict.ok && verdict.statement.reason, 'lag is zero');
    const wrong = await drctl(signing, [
      'approve',
      'failover-gated',
      '--by',
      'ops-lead',
      '--reason',
      'go',
      '--key',
      `file:${join(scratch, 'intruder')}`,
    ]);
    assertExit(
      wrong,
      2,
      /^approve not sent: the key in file:.*intruder is SHA256:\S+, but ops-lead's configured key is SHA256:\S+$/m,
      'a key not theirs',
    );
    const none = await drctl(signing, ['reject', 'failover-gated', '--by', 'ops-lead', '--reason', 'no']);
    assertExit(none, 2, /^reject not sent: ops-lead's decision must be signed: give --key file:PATH/m, 'no key');
  } finally {
    await h.terminate('test over');
  }
});

test('retry-step and skip-step go through the run’s Update: refused for a non-approver, a run not waiting for an operator, an ended run', async () => {
  const stuck = await env.client.workflow.start('operatorDesk', { taskQueue: controlTaskQueue, workflowId: 'failover-stuck', args: [true] });
  const busy = await env.client.workflow.start('operatorDesk', { taskQueue: controlTaskQueue, workflowId: 'failover-busy', args: [false] });
  try {
    const intruder = await drctl(config, ['retry-step', 'failover-stuck', '--by', 'intern', '--reason', 'try again']);
    assertExit(intruder, 3, /^retry-step refused: 'intern' is not an approver \(approvers: ops-lead, dba-oncall, cto\)$/m, 'non-approver');
    const early = await drctl(config, ['skip-step', 'failover-busy', '--by', 'ops-lead', '--reason', 'skip it']);
    assertExit(early, 3, /^skip-step refused: the run is running, not waiting for an operator$/m, 'run not waiting');
    const ended = await drctl(config, ['retry-step', 'failover-done', '--by', 'ops-lead', '--reason', 'again']);
    assertExit(ended, 3, /^failover-done already completed \(outcome rejected at \S+Z\); nothing to retry$/m, 'completed run');

    const sent = await drctl(config, ['skip-step', 'failover-stuck', '--by', 'dba-oncall', '--reason', 'ProxySQL fixed by hand']);
    assert.equal(sent.status, 0, sent.stderr);
    assert.match(sent.stdout, /^skip-step of 'route' accepted from dba-oncall$/m);
    // Refused Updates never reach the history; the accepted one does, once.
    const accepted = (await stuck.fetchHistory()).events!.flatMap((e) => e.workflowExecutionUpdateAcceptedEventAttributes ?? []);
    assert.deepEqual(
      accepted.map((u) => u.acceptedRequest?.input?.name),
      ['operate'],
    );
    const progress = await stuck.query<{ steps: Array<{ name: string; state: string; detail?: { skipped?: string } }> }>('progress');
    assert.equal(progress.steps.find((s) => s.name === 'route')?.detail?.skipped, 'skipped by dba-oncall: ProxySQL fixed by hand');
  } finally {
    await Promise.all([stuck.terminate('test over'), busy.terminate('test over')]);
  }
});

test('--max-delete-share outside 0..1 or not a number exits 2 naming the flag and the range, in every spelling', async () => {
  // example.yaml's Temporal is not reachable here: these are refused before any connection.
  const bad: Array<[string[], string]> = [
    [['--max-delete-share', '-0.5'], '-0.5'],
    [['--max-delete-share=-0.5'], '-0.5'],
    [['--max-delete-share', '1.5'], '1.5'],
    [['--max-delete-share', 'half'], 'half'],
    [['--max-delete-share', ''], ''],
    [['--max-delete-share', '0x1'], '0x1'],
    [['--max-delete-share', '--no-wait'], '--no-wait'],
  ];
  const results = await Promise.all(bad.map(([flag]) => drctl(example, ['start', 'file-sync', '--site', 'tw', ...flag])));
  bad.forEach(([flag, value], i) =>
    assertExit(
      results[i]!,
      2,
      new RegExp(`^--max-delete-share must be a number from 0 to 1, not '${value.replace(/[.]/g, '\\.')}'$`, 'm'),
      flag.join(' '),
    ),
  );
  assert.deepEqual(joinedValues(['start', 'file-sync', '--max-delete-share', '-0.5', '--', '--max-delete-share', 'x']), [
    'start',
    'file-sync',
    '--max-delete-share=-0.5',
    '--',
    '--max-delete-share',
    'x',
  ]);
});

test('a good --max-delete-share reaches the run as a number', async () => {
  const r = await drctl(config, ['start', 'file-sync', '--site', 'tw', '--max-delete-share', '0.25', '--no-wait']);
  assert.equal(r.status, 0, r.stderr);
  const id = /^started (\S+) /m.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const history = await env.client.workflow.getHandle(id).fetchHistory();
  const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  assert.deepEqual(JSON.parse(Buffer.from(input.data!).toString()), { site: 'tw', kind: 'incremental', maxDeleteShare: 0.25 });
});

test('an unplanned failover may leave out --to (the runbook chooses); a planned one may not', async () => {
  const planned = await drctl(example, ['start', 'failover', '--from', 'tw', '--reason', 'r', '--by', 'ops-lead']);
  assertExit(planned, 2, /^--to is required$/m, 'planned failover');
  const r = await drctl(config, ['start', 'failover', '--from', 'tw', '--mode', 'unplanned', '--reason', 'r', '--by', 'ops-lead', '--no-wait']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /unplanned failover of trading from tw to the most advanced replica/);
  const id = /^started (\S+) /m.exec(r.stdout)?.[1];
  assert.ok(id, r.stdout);
  const handle = env.client.workflow.getHandle(id);
  const history = await handle.fetchHistory();
  const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  const started = JSON.parse(Buffer.from(input.data!).toString()) as Record<string, unknown>;
  assert.equal(started.to, undefined);
  assert.equal(started.mode, 'unplanned');
  await handle.terminate('drctl test: nothing runs it');
});

test('a failover or failback from a site to itself exits 2 naming the flags, before connecting', async () => {
  const [failover, failback] = await Promise.all([
    drctl(example, ['start', 'failover', '--from', 'sg', '--to', 'sg', '--reason', 'r', '--by', 'ops-lead']),
    drctl(example, ['start', 'failback', '--returning', 'tw', '--current', 'tw', '--reason', 'r', '--by', 'ops-lead']),
  ]);
  assertExit(failover, 2, /^--from and --to are both 'sg'/m, 'failover');
  assertExit(failback, 2, /^--returning and --current are both 'tw'$/m, 'failback');
});

test('an unreachable Temporal is one line and exit 1, no stack trace', async () => {
  const nowhere = configFor(`127.0.0.1:${await freePort()}`, 'nowhere.yaml');
  const r = await drctl(nowhere, ['status', 'failover-trading']);
  assertExit(r, 1, /^drctl: cannot reach Temporal at 127\.0\.0\.1:\d+: /, 'status');
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('start follows its run through a restart of Temporal and exits with the run’s real outcome', async () => {
  // A persistent dev server on a fixed port: stopped while drctl follows, started again on the same file.
  const port = await freePort();
  const dbFilename = join(scratch, 'restart.db');
  const restartConfig = configFor(`127.0.0.1:${port}`, 'restart.yaml');
  let first: TestWorkflowEnvironment | undefined = await devServer({ port, dbFilename });
  let second: TestWorkflowEnvironment | undefined;
  let seen = '';
  let signalled: () => void = () => {};
  let ended: Exit | undefined;
  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${pattern} from drctl within ${ms} ms; so far:\n${seen}`)), ms);
      signalled = () => {
        if (pattern.test(seen)) resolve();
        else if (ended) reject(new Error(`drctl exited ${ended.status} before ${pattern}:\n${seen}`));
        else return;
        clearTimeout(timer);
      };
      signalled();
    });
  const t0 = Date.now();
  // No worker yet: the run stays open until after the restart.
  const following = drctl(restartConfig, ['start', 'file-sync', '--site', 'tw'], (text) => {
    seen += text;
    signalled();
  }).then((exit) => {
    ended = exit;
    signalled();
    return exit;
  });
  try {
    await waitFor(/^started file-sync-tw-incremental-manual-/m, 30_000);
    await first.teardown();
    first = undefined;
    await waitFor(/lost Temporal at 127\.0\.0\.1:\d+: .*reconnecting for up to 60 s/, 30_000);
    second = await devServer({ port, dbFilename });
    const late = await Worker.create({ connection: second.nativeConnection, taskQueue: controlTaskQueue, workflowBundle });
    const r = await late.runUntil(following);
    assert.equal(r.status, 0, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.match(r.stdout, /^outcome: completed$/m);
    assert.match(r.stderr, /\(reconnected\)/);
    assert.doesNotMatch(r.stderr, /^\s+at |Channel has been shut down/m);
    console.log(`followed through a restart in ${Date.now() - t0} ms`);
  } finally {
    await first?.teardown();
    await second?.teardown();
  }
});

test('the reconnect helper: retries transient errors with backoff within the budget, nothing else', async () => {
  const unavailable = () => Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
  let clock = 0;
  const waits: number[] = [];
  const hooks = { now: () => clock, sleep: async (ms: number) => void (waits.push(ms), (clock += ms)) };
  const policy = { budgetMs: 10_000, initialMs: 250, maxMs: 2_000 };

  let calls = 0;
  const value = await retrying(async () => (++calls < 4 ? Promise.reject(unavailable()) : 'back'), policy, hooks);
  assert.equal(value, 'back');
  assert.deepEqual(waits, [250, 500, 1000]);

  waits.length = 0;
  await assert.rejects(
    retrying(() => Promise.reject(unavailable()), policy, hooks),
    (err: unknown) => err instanceof Unreachable && err.forMs <= policy.budgetMs && /Temporal unreachable for \d+ s/.test(err.message),
  );
  assert.ok(waits.reduce((a, b) => a + b, 0) <= policy.budgetMs, `waited ${waits.join('+')} ms`);

  calls = 0;
  await assert.rejects(
    retrying(() => (calls++, Promise.reject(new Error('boom'))), policy, hooks),
    /boom/,
  );
  assert.equal(calls, 1, 'a non-transient error is not retried');

  // A run that failed because its database refused a connection is the run's outcome, not a lost server.
  const runFailed = new WorkflowFailedError(
    'Workflow execution failed',
    ApplicationFailure.create({ message: 'connect ECONNREFUSED 10.0.0.5:3306' }),
    'NON_RETRYABLE_FAILURE',
  );
  assert.equal(isTransient(runFailed), false);
  assert.equal(isTransient(new Error('Channel has been shut down')), true);
  assert.deepEqual(exitFor(new Error('something odd\n    at main (drctl.ts:1:1)')), ['drctl: something odd', 1]);
});
