// File sync on the real lab: rclone (pinned), the lab's object store (rclone serve s3, objects on disk),
// the site workers as processes, and a control worker here whose notices go to local receivers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Client, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MockActivityEnvironment } from '@temporalio/testing';
import '../helpers/quiet';
import { createControlActivities } from '../../activities';
import { guardPath, syncPath, type FileSyncContext, type SyncResult } from '../../activities/file-sync';
import { runRclone } from '../../activities/rclone';
import { processStart } from '../../activities/rclone-owner';
import { resolveSecret } from '../../activities/secrets';
import type { SyncState } from '../../activities/sync-state';
import type { FileSyncReport, RestoreFilesReport } from '../../workflows/file-sync';
import type { PreflightReport } from '../../workflows/preflight';
import { controlTaskQueue } from '../../domain/runs';
import type { Lab } from '../../lab';
import { workerName } from '../../lab/services';
import { alive, readPid } from '../../lab/procs';
import { s3Dir } from '../../lab/s3';
import { projectBinary } from '../helpers/binaries';
import { freshLab, labClient, waitUntil } from '../helpers/lab';
import { content, countFiles, diffTrees, generateTree, listTree } from '../helpers/files';
import { assertNoSecretsInHistories } from '../helpers/histories';
import { startSmtpReceiver, startWebhookReceiver, type SmtpReceiver, type WebhookReceiver } from '../helpers/receivers';
import { connectionOptions, temporalAccess } from '../../activities/temporal-access';

let lab: Lab;
let client: Client;
let close: () => Promise<void>;
let hook: WebhookReceiver;
let pager: WebhookReceiver;
let smtp: SmtpReceiver;
let worker: Worker;
let workerDone: Promise<void>;
let workerConn: NativeConnection;
let n = 0;

const share = (site: string) => resolve(lab.loaded.baseDir, lab.loaded.config.sites.find((s) => s.id === site)!.rclone!.sharePath);
/** The stored objects on disk: <stateDir>/data/s3/<bucket>/<prefix>. */
const store = () => join(s3Dir(lab.dirs), 'dr-files', 'trading');
const stateFile = () => join(lab.dirs.state, 'file-sync-state.json');

async function run(kind: 'incremental' | 'full', extra: Record<string, unknown> = {}): Promise<FileSyncReport> {
  return client.workflow.execute('fileSync', {
    taskQueue: controlTaskQueue,
    workflowId: `test-file-sync-${kind}-${Date.now()}-${n++}`,
    args: [{ site: 'tw', kind, ...extra }],
  });
}

async function failing(kind: 'incremental' | 'full'): Promise<{ message: string; report: FileSyncReport }> {
  try {
    await run(kind);
  } catch (err) {
    const cause = (err as WorkflowFailedError).cause as { message: string; details?: unknown[] };
    return { message: cause.message, report: cause.details?.[0] as FileSyncReport };
  }
  throw new Error(`the ${kind} sync was expected to fail but succeeded`);
}

/** What the S3 API lists (path → size), besides what is on disk. */
async function s3Listing(): Promise<Map<string, number>> {
  const rc = lab.loaded.config.sites[0]!.rclone!;
  const r = await runRclone(['lsjson', '-R', '--files-only', `${rc.remote}dr-files/trading`], {
    env: {
      RCLONE_S3_ACCESS_KEY_ID: resolveSecret(rc.accessKeyId!, lab.loaded.baseDir),
      RCLONE_S3_SECRET_ACCESS_KEY: resolveSecret(rc.secretAccessKey!, lab.loaded.baseDir),
    },
  });
  assert.equal(r.code, 0, r.errors.join('\n'));
  return new Map((JSON.parse(r.stdout) as Array<{ Path: string; Size: number }>).map((e) => [e.Path, e.Size]));
}

async function assertMirrored(): Promise<number> {
  const src = listTree(share('tw'));
  const copy = listTree(store());
  const diff = diffTrees(src, copy);
  assert.deepEqual(diff.slice(0, 10), [], `${diff.length} difference(s) between the share and the stored objects`);
  const listed = await s3Listing();
  assert.deepEqual([...listed.keys()].sort(), [...src.keys()].sort(), 'the S3 listing names exactly the source files');
  for (const [k, v] of src) assert.equal(listed.get(k), Number(v.split(':')[0]), `size of ${k} in the S3 listing`);
  return src.size;
}

before(async () => {
  projectBinary('rclone');
  lab = await freshLab();
  ({ client, close } = await labClient(lab.loaded));
  [hook, pager, smtp] = await Promise.all([startWebhookReceiver(), startWebhookReceiver(), startSmtpReceiver()]);
  // This file's control worker: the lab's, with notices going to the local receivers.
  await lab.stopComponent(workerName());
  const loaded = {
    ...lab.loaded,
    config: {
      ...lab.loaded.config,
      notifications: {
        webhooks: [
          { name: 'slack-dr', url: hook.url },
          { name: 'pager', url: pager.url },
        ],
        email: [{ name: 'ops-mail', host: '127.0.0.1', port: smtp.port, secure: false, from: 'dr-runbooks@lab.test', to: ['ops@lab.test'] }],
        escalateTo: ['pager'],
      },
    },
  };
  const access = temporalAccess(lab.loaded);
  workerConn = await NativeConnection.connect(connectionOptions(access));
  worker = await Worker.create({
    connection: workerConn,
    namespace: access.namespace,
    dataConverter: access.dataConverter,
    taskQueue: controlTaskQueue,
    workflowsPath: require.resolve('../../workflows'),
    activities: createControlActivities(loaded),
  });
  workerDone = worker.run();
});

after(async () => {
  worker?.shutdown();
  await workerDone;
  await workerConn?.close();
  await close();
  await Promise.all([hook?.close(), pager?.close(), smtp?.close()]);
  await lab.startWorker();
});

test('a 5,000-file tree syncs; after modify/add/delete the incremental sync mirrors it exactly', async () => {
  const files = generateTree(share('tw'), 5000);
  const first = await run('incremental');
  assert.equal(first.outcome, 'completed');
  assert.equal(first.paths[0]!.sync!.uploadedFiles, 5000);
  assert.equal(await assertMirrored(), 5000);

  // 50 modified (other size), 50 added, 50 deleted: 1% deleted, under the 10% guard.
  for (const f of files.slice(0, 50)) writeFileSync(join(share('tw'), f), content(`changed-${f}`, 777));
  generateTree(share('tw'), 50, { seed: 'added', dir: 'added' });
  for (const f of files.slice(100, 150)) rmSync(join(share('tw'), f));
  const second = await run('incremental');
  const s = second.paths[0]!.sync!;
  assert.equal(s.uploadedFiles, 100, `only the 50 modified and 50 added files are uploaded: ${JSON.stringify(s.stats)}`);
  assert.equal(
    s.uploadedBytes,
    50 * 777 + [...Array(50).keys()].reduce((a, i) => a + 64 + (i % 500), 0),
    'the bytes of those 100 files, not of the moves into the backup dir',
  );
  // (rclone's `deletes` also counts the moves into the backup dir; the listings below are the truth.)
  assert.equal(second.paths[0]!.guard!.destFiles, 5000);
  assert.equal(second.paths[0]!.guard!.sourceFiles, 5000);
  // The first run listed the store for the guard (nothing recorded yet) and said so; the second used the
  // count the first one's sync recorded, so the store was listed once, by the sync.
  assert.equal(first.paths[0]!.guard!.destCountedFrom, 'listing');
  assert.ok(
    first.notes.some((n) => /guard \.: no usable recorded count of the store \(no count of the store is recorded yet\)/.test(n)),
    first.notes.join('\n'),
  );
  assert.equal(second.paths[0]!.guard!.destCountedFrom, 'record');
  assert.deepEqual(second.notes, []);
  assert.equal(await assertMirrored(), 5000);
  // What the sync replaced or deleted went to the backup dir, not away.
  const trash = listTree(join(s3Dir(lab.dirs), 'dr-files', '.dr-trash'));
  assert.equal(trash.size, 100, 'the 50 old versions and the 50 deleted files are kept in --backup-dir');

  // The file RPO: the start of the last successful sync, per path.
  const state = JSON.parse(readFileSync(stateFile(), 'utf8')) as SyncState;
  const rec = state.paths['tw:.']!;
  assert.equal(rec.lastSuccessAt, s.startedAt);
  assert.equal(rec.consecutiveFailures, 0);
  // The store's count after the sync, from the sync's own listing: what the next guard uses.
  assert.equal(state.stores![second.paths[0]!.store!]!.files, 5000);
  assert.deepEqual(state.stores![second.paths[0]!.store!]!.writing, {});
});

test('full: rclone check reports a byte flipped in a stored object', async () => {
  const victim = 'd010/f001000.dat';
  const onDisk = join(store(), victim);
  const mtimeNs = statSync(onDisk, { bigint: true }).mtimeNs;
  const data = readFileSync(onDisk);
  data[7] = data[7]! ^ 0xff;
  writeFileSync(onDisk, data);
  // Same size, same time to the nanosecond (bit rot in the store): the sync sees nothing, only the bytes tell.
  execFileSync('touch', ['-m', '-d', `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`, onDisk]);
  assert.equal(statSync(onDisk, { bigint: true }).mtimeNs, mtimeNs);
  const mails = smtp.received.length;
  const { message, report } = await failing('full');
  assert.match(message, /site tw, path \.: rclone check found 1 difference\(s\): differs d010\/f001000\.dat/);
  assert.deepEqual(report.paths[0]!.check!.differences, [{ path: victim, kind: 'differs' }]);
  assert.equal(report.paths[0]!.check!.matching, 4999);
  await waitUntil('the failure notice by e-mail', async () => smtp.received.length > mails);
  assert.match(smtp.received.at(-1)!.text, /differs d010\/f001000\.dat/);
  // Put the good object back (and the sync state with it) for the next tests.
  writeFileSync(onDisk, readFileSync(join(share('tw'), victim)));
  await run('full');
});

test('deleting 50% of the source trips the deletion guard: nothing deleted in the store, a notice sent; the third failure escalates', async () => {
  const storedBefore = listTree(store());
  const removed = [...listTree(share('tw')).keys()].filter((_, i) => i % 2 === 0);
  const moved = join(lab.dirs.state, 'moved-away');
  for (const f of removed) {
    const to = join(moved, f);
    mkdirSync(join(to, '..'), { recursive: true });
    renameSync(join(share('tw'), f), to);
  }
  const hooks = hook.received.length;
  const mails = smtp.received.length;
  const { message, report } = await failing('incremental');
  assert.match(
    message,
    /site tw, path \. \(.*\): deletion guard: the source has 2500 files, the copy 5000; syncing would delete 2500 \(50\.0%\), over the limit of 10\.0%\. Nothing was synced or deleted/,
  );
  assert.equal(report.escalated, false);
  assert.deepEqual(
    (report.steps.find((s) => s.name === 'guard .')!.detail as { recordedCount?: { files: number } }).recordedCount?.files,
    5000,
    "the copy's count came from the record, with no listing of the store",
  );
  assert.equal(
    report.steps.find((s) => s.name === 'sync .'),
    undefined,
    'the sync step never ran',
  );
  assert.deepEqual(diffTrees(storedBefore, listTree(store())), [], 'the store is untouched');
  await waitUntil('webhook and e-mail notices', async () => hook.received.length > hooks && smtp.received.length > mails);
  assert.match(hook.received.at(-1)!.text, /File sync failed: tw incremental[\s\S]*deletion guard/);
  assert.match(smtp.received.at(-1)!.subject, /^\[CRITICAL\] File sync failed: tw incremental/);
  assert.match(smtp.received.at(-1)!.text, /deletion guard/);

  // Second and third failure in a row: the third is an escalation and also reaches the escalateTo target.
  await failing('incremental');
  const pagerBefore = pager.received.length;
  const third = await failing('incremental');
  assert.equal(third.report.escalated, true);
  assert.equal(third.report.paths[0]!.consecutiveFailures, 3);
  await waitUntil('the escalation at the pager', async () => pager.received.length > pagerBefore);
  assert.match(pager.received.at(-1)!.text, /ESCALATION: File sync failed: tw incremental \(3 failures in a row\)/);
  await waitUntil('the escalation by e-mail', async () => /ESCALATION/.test(smtp.received.at(-1)!.subject));
  assert.match(smtp.received.at(-1)!.text, /failed 3 times in a row: escalated/);
  assert.deepEqual(diffTrees(storedBefore, listTree(store())), [], 'the store is still untouched');

  for (const f of removed) renameSync(join(moved, f), join(share('tw'), f));
  const ok = await run('incremental');
  assert.equal(ok.paths[0]!.consecutiveFailures, 0);
  await assertMirrored();
});

test('with the recorded store count missing, stale or left void by a sync that never finished, the guard lists the store, still refuses 50% deleted, and says so in the notes', async () => {
  const original = readFileSync(stateFile(), 'utf8');
  const state = JSON.parse(original) as SyncState;
  const [storeKey] = Object.keys(state.stores ?? {});
  assert.ok(storeKey && state.stores![storeKey]!.files === 5000, `a recorded count of 5000 to start from: ${JSON.stringify(state.stores)}`);
  const storedBefore = listTree(store());
  const removed = [...listTree(share('tw')).keys()].filter((_, i) => i % 2 === 0);
  const moved = join(lab.dirs.state, 'moved-away-stale');
  for (const f of removed) {
    const to = join(moved, f);
    mkdirSync(join(to, '..'), { recursive: true });
    renameSync(join(share('tw'), f), to);
  }
  const twoDaysAgo = new Date(Date.now() - 48 * 3600_000).toISOString();
  const cases: Array<[string, SyncState['stores'], RegExp]> = [
    ['missing', {}, /no count of the store is recorded yet/],
    ['stale', { [storeKey!]: { ...state.stores![storeKey!]!, countedAt: twoDaysAgo } }, /the recorded count \(.*\) is older than 24 h/],
    [
      'void',
      { [storeKey!]: { files: null, countedAt: null, countedBy: null, writing: { 'a-run-that-died': { since: twoDaysAgo, overlapped: false } } } },
      /a sync \(run a-run-that-died, started .*\) wrote the store and has not recorded its outcome/,
    ],
  ];
  try {
    for (const [name, stores, reason] of cases) {
      writeFileSync(stateFile(), JSON.stringify({ ...state, stores }));
      const { message, report } = await failing('incremental');
      assert.match(message, /deletion guard: the source has 2500 files, the copy 5000; syncing would delete 2500 \(50\.0%\)/, name);
      assert.ok(
        report.notes.some(
          (n) => /guard \.: no usable recorded count of the store \(/.test(n) && reason.test(n) && /the store was listed to count it/.test(n),
        ),
        `${name}: ${report.notes.join('\n')}`,
      );
      assert.match(String((report.steps.find((s) => s.name === 'guard .')!.detail as { storeListedBecause?: string }).storeListedBecause), reason);
      assert.equal(
        report.steps.find((s) => s.name === 'sync .'),
        undefined,
        `${name}: the sync step never ran`,
      );
      assert.deepEqual(diffTrees(storedBefore, listTree(store())), [], `${name}: the store is untouched`);
    }
  } finally {
    for (const f of removed) renameSync(join(moved, f), join(share('tw'), f));
    writeFileSync(stateFile(), original);
  }
  // Put back: the next run uses the record again.
  const ok = await run('incremental');
  assert.equal(ok.paths[0]!.guard!.destCountedFrom, 'record');
  await assertMirrored();
});

test('bad input: a missing source, an unreachable store, wrong credentials; each names site and path and deletes nothing', async () => {
  const site = lab.loaded.config.sites.find((s) => s.id === 'tw')!;
  const env = new MockActivityEnvironment();
  const stored = listTree(store());
  const expectFailure = async (ctx: FileSyncContext, type: string, pattern: RegExp) => {
    // The guard as a run without a recorded count uses it (the store listed), and with one (the store probed).
    for (const recorded of [undefined, { files: 5000 }]) {
      await assert.rejects(
        env.run(async () => {
          const g = await guardPath(ctx, { path: '.', ...(recorded ? { recorded } : {}) });
          return syncPath(ctx, { path: '.', kind: 'incremental', maxDelete: g.maxDelete });
        }),
        (err: Error & { type?: string }) => {
          assert.equal(err.type, type, `${recorded ? 'recorded count' : 'listed'}: ${err.message}`);
          assert.match(err.message, /^site tw, path \. \(/);
          assert.match(err.message, pattern);
          return true;
        },
      );
    }
  };
  // The share not mounted: the folder is gone.
  const hidden = `${share('tw')}.unmounted`;
  renameSync(share('tw'), hidden);
  try {
    await expectFailure(
      { site, baseDir: lab.loaded.baseDir },
      'BadInput',
      /source folder .* does not exist \(is the share mounted\?\); nothing was synced or deleted/,
    );
  } finally {
    renameSync(hidden, share('tw'));
  }
  const wrongSecret = join(lab.dirs.state, 'wrong-secret');
  writeFileSync(wrongSecret, 'not-the-secret');
  await expectFailure(
    { site: { ...site, rclone: { ...site.rclone!, secretAccessKey: `file:${wrongSecret}` } }, baseDir: lab.loaded.baseDir },
    'BadCredentials',
    /refused the credentials/,
  );
  const deadRemote = site.rclone!.remote.replace(/:\d+'/, ":1'");
  await expectFailure(
    { site: { ...site, rclone: { ...site.rclone!, remote: deadRemote } }, baseDir: lab.loaded.baseDir },
    'RemoteUnreachable',
    /unreachable: .*connection refused/,
  );
  assert.deepEqual(diffTrees(stored, listTree(store())), [], 'the store is untouched');

  // Through the runbook too: an unknown site is refused with the known ones named.
  await assert.rejects(
    client.workflow.execute('fileSync', {
      taskQueue: controlTaskQueue,
      workflowId: `test-file-sync-bad-${Date.now()}`,
      args: [{ site: 'hk', kind: 'incremental' }],
    }),
    (err: WorkflowFailedError) => /input\.site: unknown site 'hk' \(known sites: tw, tw2, sg\)/.test((err.cause as Error).message),
  );
});

test('--max-delete, the guard again inside the sync: a limit of N files lets exactly N deletions through the backup dir', async () => {
  // Its own prefix and share, so the main tree is not touched.
  const site = lab.loaded.config.sites.find((s) => s.id === 'tw')!;
  const own = join(lab.dirs.state, 'max-delete-share');
  rmSync(own, { recursive: true, force: true });
  const ctx: FileSyncContext = {
    site: { ...site, rclone: { ...site.rclone!, prefix: 'max-delete-test', sharePath: own } },
    baseDir: lab.loaded.baseDir,
  };
  const stored = join(s3Dir(lab.dirs), 'dr-files', 'max-delete-test');
  const env = new MockActivityEnvironment();
  const files = generateTree(own, 100, { seed: 'max-delete' });
  await env.run(() => syncPath(ctx, { path: '.', kind: 'incremental', maxDelete: 0 }));
  assert.equal(countFiles(stored), 100);
  for (const f of files.slice(0, 40)) rmSync(join(own, f));

  await assert.rejects(
    env.run(() => syncPath(ctx, { path: '.', kind: 'incremental', maxDelete: 30 })),
    (err: Error & { type?: string }) => {
      assert.equal(err.type, 'DeletionGuard', err.message);
      assert.match(err.message, /^site tw, path \. \(.*\): sync: stopped by --max-delete/);
      return true;
    },
  );
  assert.ok(countFiles(stored) >= 70, `at most 30 deleted (${countFiles(stored)} left)`);
  // rclone counts a move into the backup dir twice on S3 (copy, then delete); the limit is in files.
  const ok: SyncResult = await env.run(() => syncPath(ctx, { path: '.', kind: 'incremental', maxDelete: 40 }));
  assert.equal(countFiles(stored), 60);
  assert.ok(ok.flags.join(' ').includes('--max-delete 80'), ok.flags.join(' '));
});

/** Pids of rclone processes on this host syncing from `dir`, read from /proc. */
function rcloneSyncsOf(dir: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return /rclone$/.test(argv[0]!) && argv[1] === 'sync' && argv[2] === dir;
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('the site worker killed in the middle of a large sync: the sync completes after the restart and the copy is exact', async () => {
  generateTree(share('tw'), 600, { seed: 'big', dir: 'big', size: () => 1 << 20 });
  const h = await client.workflow.start('fileSync', {
    taskQueue: controlTaskQueue,
    workflowId: `test-file-sync-kill-${Date.now()}`,
    args: [{ site: 'tw', kind: 'incremental' }],
  });
  const bigStored = () => countFiles(join(store(), 'big'));
  await waitUntil('the first big objects in the store', async () => bigStored() >= 20, 120_000);
  const [orphan] = rcloneSyncsOf(share('tw'));
  assert.ok(orphan, "the worker's rclone is running");
  const worker = readPid(lab.dirs.pids, workerName('tw'))!;
  try {
    // The worker alone, as an OOM kill would: its rclone lives on. Freeze that orphan so it is surely still
    // there when the retry comes, which must stop it rather than sync beside it.
    process.kill(worker.pid, 'SIGKILL');
    process.kill(orphan, 'SIGSTOP');
    await waitUntil('the worker is gone', async () => !alive(worker));
    const atKill = bigStored();
    assert.ok(atKill < 600, `the sync was still under way when the worker died (${atKill} of 600 big files stored)`);
    assert.equal((await h.describe()).status.name, 'RUNNING');
    await lab.startWorker('tw');
    const r: FileSyncReport = await h.result();
    assert.equal(r.outcome, 'completed');
    assert.ok(
      r.notes.some((n) => n.includes(`stopped rclone pid ${orphan}, left running by a worker that died`)),
      r.notes.join('\n'),
    );
    assert.equal(processStart(orphan), undefined, 'the orphaned rclone was stopped');
    assert.deepEqual(rcloneSyncsOf(share('tw')), [], 'no rclone of the dead worker is left syncing the share');
  } finally {
    if (processStart(orphan) !== undefined) process.kill(orphan, 'SIGKILL');
  }
  await assertMirrored();
  const history = await h.fetchHistory();
  const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
  assert.ok(Math.max(...attempts) >= 2, 'the sync activity was retried after the worker died');
});

test('drctl start file-sync follows the run and prints what it uploaded, deleted and checked; exit 0', async () => {
  // Not spawnSync: this process hosts the control worker, which must keep running meanwhile.
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      join(__dirname, '..', '..', 'cli', 'drctl.ts'),
      '--config',
      lab.loaded.file,
      'start',
      'file-sync',
      '--site',
      'tw',
      '--kind',
      'full',
    ]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (status) => done({ status, stdout, stderr }));
  });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /^started file-sync-tw-full-manual-\S+ \(run [0-9a-f-]+\): full file sync of tw$/m);
  assert.match(r.stdout, /^ {2}running: (guard|sync|check) \. running$/m, 'progress lines while it runs');
  assert.match(
    r.stdout,
    /^outcome: completed\n\.: uploaded 0 file\(s\), 0\.0 MiB in [\d.]+ s; source (\d+) file\(s\), store \1 before; what it replaced or deleted is kept in dr-files\/\.dr-trash\/\S+\/trading\n\.: check: \1 matching, 0 difference\(s\)$/m,
  );
});

test('restoreFiles: the DR share ends equal to the source, verified by rclone check', async () => {
  const r: RestoreFilesReport = await client.workflow.execute('restoreFiles', {
    taskQueue: controlTaskQueue,
    workflowId: `test-restore-${Date.now()}`,
    args: [{ toSite: 'sg' }],
  });
  const src = listTree(share('tw'));
  const dr = listTree(share('sg'));
  assert.deepEqual(diffTrees(src, dr).slice(0, 10), []);
  assert.equal(r.totals.files, src.size);
  assert.equal(
    r.totals.bytes,
    [...src.values()].reduce((a, v) => a + Number(v.split(':')[0]), 0),
  );
  assert.equal(r.paths[0]!.matching, src.size);
  assert.deepEqual(r.paths[0]!.differences, []);
});

test('preflight flags a file RPO older than rpoSeconds', async () => {
  const preflight = (): Promise<PreflightReport> =>
    client.workflow.execute('preflight', { taskQueue: controlTaskQueue, workflowId: `test-preflight-file-rpo-${Date.now()}-${n++}`, args: [{}] });
  const fresh = await preflight();
  assert.deepEqual(
    fresh.flags.filter((f) => f.code.startsWith('file-')),
    [],
  );
  const original = readFileSync(stateFile(), 'utf8');
  const state = JSON.parse(original) as SyncState;
  state.paths['tw:.']!.lastSuccessAt = new Date(Date.now() - 3_600_000).toISOString(); // as if the last good sync was an hour ago
  writeFileSync(stateFile(), JSON.stringify(state));
  try {
    const stale = await preflight();
    const f = stale.flags.filter((x) => x.code === 'file-rpo-over');
    assert.equal(f.length, 1, JSON.stringify(stale.flags));
    assert.match(f[0]!.message, /^site tw, path \.: file RPO over the objective of 300 s: last successful sync 36\d\d s ago/);
    assert.equal(stale.ok, false);
  } finally {
    writeFileSync(stateFile(), original);
  }
});

test('no workflow history on the lab server holds a secret value (after the file syncs, restores and schedules)', async () => {
  await assertNoSecretsInHistories(client, lab.dirs.secrets, 6);
});
