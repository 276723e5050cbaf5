// At most one rclone per target: a leftover from a dead worker is stopped, a live worker's run is not
// touched, and stale or reused-pid claims are ignored. Real rclone processes, no lab.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { claim, ownerDir, processStart } from '../../activities/rclone-owner';
import { runRclone } from '../../activities/rclone';
import { projectBinary } from '../helpers/binaries';

let dir: string;
let rclone: string;
const children: ChildProcess[] = [];

before(() => {
  rclone = projectBinary('rclone');
  process.env.DR_RCLONE = rclone;
  dir = mkdtempSync(join(tmpdir(), 'dr-rclone-owner-'));
  process.env.DR_RCLONE_OWNER_DIR = join(dir, 'owners');
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'big.dat'), Buffer.alloc(4 << 20, 7));
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A slow sync (4 MiB at 16 KiB/s) standing in for a worker's rclone: [process, argv]. */
function slowSync(dest: string): [ChildProcess, string[]] {
  const args = ['sync', join(dir, 'src'), join(dir, dest), '--bwlimit', '16k'];
  const child = spawn(rclone, args, { stdio: 'ignore' });
  children.push(child);
  return [child, [rclone, ...args]];
}

/** Wait until /proc shows rclone itself (after exec), so its cmdline is the one claimed. */
async function running(child: ChildProcess, argv: string[]): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if (readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replace(/\0$/, '') === argv.join('\0')) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`rclone pid ${child.pid} did not start`);
}

/** Rewrite the one claim file there is, as a dead worker or a reused pid would leave it. */
function editClaim(change: (c: Record<string, unknown>) => void): void {
  const files = readdirSync(ownerDir());
  assert.equal(files.length, 1, `one claim file: ${files.join(', ')}`);
  const f = join(ownerDir(), files[0]!);
  const c = JSON.parse(readFileSync(f, 'utf8')) as Record<string, unknown>;
  change(c);
  writeFileSync(f, JSON.stringify(c));
}

const list = () => ['lsjson', join(dir, 'src')];

test('a leftover rclone of a dead worker is stopped before the retry runs, and the run says so', async () => {
  const [orphan, argv] = slowSync('dst-1');
  await running(orphan, argv);
  claim('target-1', orphan.pid!, argv);
  editClaim((c) => (c.workerStart = 'dead')); // the worker that started it is gone (or its pid was reused)
  const r = await runRclone(list(), { owner: 'target-1' });
  assert.equal(r.code, 0, r.errors.join('\n'));
  assert.equal(r.stoppedLeftover, orphan.pid);
  assert.equal(processStart(orphan.pid!), undefined, 'the leftover rclone is gone');
  assert.deepEqual(readdirSync(ownerDir()), [], 'the run released its own claim');
});

test("a live worker's run is refused with a retryable error naming it, and left running", async () => {
  const [child, argv] = slowSync('dst-2');
  await running(child, argv);
  const release = claim('target-2', child.pid!, argv);
  await assert.rejects(runRclone(list(), { owner: 'target-2' }), (err: Error & { type?: string; nonRetryable?: boolean }) => {
    assert.equal(err.type, 'RcloneBusy');
    assert.equal(err.nonRetryable, false);
    assert.match(
      err.message,
      new RegExp(`^target-2: another rclone run already holds this target \\(rclone pid ${child.pid}, worker pid ${process.pid}, since `),
    );
    return true;
  });
  assert.notEqual(processStart(child.pid!), undefined, 'the running sync was not touched');
  child.kill('SIGKILL');
  release();
});

test('a claim whose rclone has ended, or whose pid now runs another command, is ignored', async () => {
  const [ended, endedArgv] = slowSync('dst-3');
  await running(ended, endedArgv);
  claim('target-3', ended.pid!, endedArgv);
  editClaim((c) => (c.workerStart = 'dead'));
  ended.kill('SIGKILL');
  await new Promise((r) => ended.once('exit', r));
  const r = await runRclone(list(), { owner: 'target-3' });
  assert.equal(r.code, 0);
  assert.equal(r.stoppedLeftover, undefined);

  const [other, otherArgv] = slowSync('dst-4');
  await running(other, otherArgv);
  claim('target-4', other.pid!, otherArgv);
  editClaim((c) => {
    c.workerStart = 'dead';
    c.cmdline = 'some-other-command'; // the pid was reused by a process that is not this rclone
  });
  const r2 = await runRclone(list(), { owner: 'target-4' });
  assert.equal(r2.stoppedLeftover, undefined);
  assert.notEqual(processStart(other.pid!), undefined, 'an unrelated process is never signalled');
  other.kill('SIGKILL');
});
