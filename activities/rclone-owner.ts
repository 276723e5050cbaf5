// At most one rclone per target on a host. A worker killed mid-sync leaves its rclone running as an
// orphan; the retried activity would then race it over the same objects. Each writing run claims a
// lock file naming its rclone and the worker that started it. A claim whose worker is gone is a
// leftover and is stopped; a claim whose worker still lives is a concurrent run and is refused.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';

interface Claim {
  owner: string;
  rclonePid: number;
  rcloneStart: string;
  /** argv joined by NUL, as /proc shows it: a reused pid will not match. */
  cmdline: string;
  workerPid: number;
  workerStart: string;
  since: string;
}

export function ownerDir(): string {
  return process.env.DR_RCLONE_OWNER_DIR ?? join(tmpdir(), 'dr-runbook-rclone');
}

function claimFile(owner: string): string {
  return join(ownerDir(), `${createHash('sha256').update(owner).digest('hex').slice(0, 20)}.json`);
}

/** Start time of a live (non-zombie) process from /proc/<pid>/stat, or undefined when it is gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '');
  } catch {
    return undefined;
  }
}

function readClaim(file: string): Claim | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Claim;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function stop(pid: number, start: string): Promise<void> {
  const same = () => processStart(pid) === start;
  for (const [signal, waitMs] of [
    ['SIGTERM', 10_000],
    ['SIGKILL', 5_000],
  ] as const) {
    if (!same()) return;
    try {
      process.kill(pid, signal);
      process.kill(pid, 'SIGCONT'); // a stopped (hung, ^Z) process acts on SIGTERM only once it runs
    } catch {
      return;
    }
    for (let t = 0; t < waitMs && same(); t += 50) await sleep(50);
  }
  if (same()) throw new Error(`rclone pid ${pid} left over from an earlier attempt did not stop`);
}

/**
 * Before starting rclone for `owner`: stop a leftover from a dead worker (returns its pid), or refuse
 * (retryable) while another live worker's run holds the target.
 */
export async function clearLeftover(owner: string): Promise<number | undefined> {
  const file = claimFile(owner);
  const c = readClaim(file);
  if (!c) return undefined;
  const rcloneAlive = processStart(c.rclonePid) === c.rcloneStart && cmdlineOf(c.rclonePid) === c.cmdline;
  if (!rcloneAlive) {
    rmSync(file, { force: true });
    return undefined;
  }
  if (processStart(c.workerPid) === c.workerStart) {
    throw ApplicationFailure.retryable(
      `${owner}: another rclone run already holds this target (rclone pid ${c.rclonePid}, worker pid ${c.workerPid}, since ${c.since}); not starting a second one`,
      'RcloneBusy',
    );
  }
  await stop(c.rclonePid, c.rcloneStart);
  rmSync(file, { force: true });
  return c.rclonePid;
}

/** Record that rclone `pid` (started with `argv`) now holds `owner`; returns the release function. */
export function claim(owner: string, pid: number, argv: string[]): () => void {
  const file = claimFile(owner);
  const rcloneStart = processStart(pid);
  const workerStart = processStart(process.pid);
  if (rcloneStart === undefined || workerStart === undefined) return () => undefined; // no /proc: no claims
  mkdirSync(ownerDir(), { recursive: true });
  const c: Claim = {
    owner,
    rclonePid: pid,
    rcloneStart,
    cmdline: argv.join('\0'),
    workerPid: process.pid,
    workerStart,
    since: new Date().toISOString(),
  };
  writeFileSync(file, JSON.stringify(c));
  return () => {
    if (readClaim(file)?.rclonePid === pid) rmSync(file, { force: true });
  };
}
