// File sync adapters for one site: the share (CephFS on a primary, NFS on a DR site) and the copy in
// S3-compatible storage at <bucket>/<prefix>/<path>. Each call is one idempotent rclone step:
// guard (count the share; the store's count comes from the control plane's record, else a listing), sync,
// check, restore. Errors name the site and the path.
import { statSync } from 'node:fs';
import { posix, resolve } from 'node:path';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Site } from '../config/schema';
import { classify, errorSummary, runRclone, type RcloneRun, type RcloneStats } from './rclone';
import { resolveSecret } from './secrets';

export interface FileSyncContext {
  site: Site;
  baseDir: string;
}

/** Where deleted and replaced objects go (--backup-dir), and the prefix the sync must never touch. */
export const DR_DIR = '.dr-trash';

// One rclone-level retry (Temporal retries the activity); low-level retries absorb a store's transient 500s.
const COMMON = ['--retries', '1', '--low-level-retries', '5', '--contimeout', '5s', '--timeout', '30s'];

/** The sync command line (bench:sync runs bare rclone with exactly this). */
export function syncCommand(local: string, remote: string, flags: string[]): string[] {
  return ['sync', local, remote, ...COMMON, ...flags];
}

export interface PathTarget {
  path: string;
  local: string;
  remote: string;
  /** bucket/key, for messages (the remote spec may hold an endpoint, never a secret). */
  remoteLabel: string;
  /** rclone filters keeping the trash out of a sync/check at the bucket root. */
  filters: string[];
  where: string;
}

function rcloneOf(ctx: FileSyncContext) {
  const rc = ctx.site.rclone;
  if (!rc) throw ApplicationFailure.nonRetryable(`site ${ctx.site.id}: the config has no rclone section for this site`, 'BadConfig');
  return rc;
}

export function targetOf(ctx: FileSyncContext, path: string): PathTarget {
  const rc = rcloneOf(ctx);
  if (!rc.paths.includes(path)) {
    throw ApplicationFailure.nonRetryable(`site ${ctx.site.id}, path ${path}: not one of the configured paths (${rc.paths.join(', ')})`, 'BadInput');
  }
  const key = posix
    .normalize(posix.join(rc.prefix || '.', path))
    .replace(/^\.\/?|\/$/g, '')
    .replace(/^\.$/, '');
  const bucketKey = key ? `${rc.bucket}/${key}` : rc.bucket;
  const local = resolve(ctx.baseDir, rc.sharePath, path);
  return {
    path,
    local,
    remote: `${rc.remote}${bucketKey}`,
    remoteLabel: bucketKey,
    filters: key ? [] : ['--exclude', `/${DR_DIR}/**`],
    where: `site ${ctx.site.id}, path ${path} (${local} ↔ ${bucketKey})`,
  };
}

/** The store location a path's copy is in (remote, bucket and key; no secret): the key of its recorded count. */
export function storeOf(ctx: FileSyncContext, path: string): string {
  return targetOf(ctx, path).remote;
}

function env(ctx: FileSyncContext): Record<string, string> {
  const rc = rcloneOf(ctx);
  const e: Record<string, string> = {};
  if (rc.accessKeyId) e.RCLONE_S3_ACCESS_KEY_ID = resolveSecret(rc.accessKeyId, ctx.baseDir);
  if (rc.secretAccessKey) e.RCLONE_S3_SECRET_ACCESS_KEY = resolveSecret(rc.secretAccessKey, ctx.baseDir);
  return e;
}

/** Turns a failed rclone run into an error an operator can act on; bad input and credentials are final. */
function failure(t: PathTarget, what: string, run: RcloneRun): ApplicationFailure {
  const summary = errorSummary(run);
  const kind = classify(summary);
  const details = [{ rcloneErrors: summary, exitCode: run.code }];
  const make = (message: string, type: string, nonRetryable: boolean) =>
    ApplicationFailure.create({ message: `${t.where}: ${message}`, type, nonRetryable, details });
  switch (kind) {
    case 'credentials':
      return make(`${what}: the object store refused the credentials: ${summary}`, 'BadCredentials', true);
    case 'unreachable':
      return make(`${what}: the object store is unreachable: ${summary}`, 'RemoteUnreachable', false);
    case 'not-found':
      return make(`${what}: not found: ${summary}`, 'BadInput', true);
    case 'max-delete':
      return make(`${what}: stopped by --max-delete (deletion guard): ${summary}`, 'DeletionGuard', true);
    default:
      return make(`${what} failed: ${summary}`, 'RcloneFailed', false);
  }
}

function requireSourceDir(t: PathTarget): void {
  let st;
  try {
    st = statSync(t.local);
  } catch {
    throw ApplicationFailure.nonRetryable(
      `${t.where}: the source folder ${t.local} does not exist (is the share mounted?); nothing was synced or deleted`,
      'BadInput',
    );
  }
  if (!st.isDirectory())
    throw ApplicationFailure.nonRetryable(`${t.where}: the source ${t.local} is not a folder; nothing was synced or deleted`, 'BadInput');
}

// A store that refuses connections fails the first try at once; rclone's own backoff would take ~2 min
// per count. Temporal's activity retries cover a brief outage instead.
const FAST = ['--retries', '1', '--low-level-retries', '1', '--contimeout', '5s', '--timeout', '30s'];

async function size(ctx: FileSyncContext, t: PathTarget, side: 'local' | 'remote'): Promise<{ count: number; bytes: number }> {
  const count = (common: string[]) =>
    runRclone(['size', '--json', ...common, ...(side === 'remote' ? t.filters : []), side === 'local' ? t.local : t.remote], { env: env(ctx) });
  let run = await count(FAST);
  // An error that is not a clear answer (a transient 500, say) gets rclone's low-level retries.
  if (run.code !== 0 && classify(errorSummary(run)) === 'other') run = await count(COMMON);
  // No bucket or prefix yet (a first sync) is an empty copy, not an error.
  if (run.code !== 0 && side === 'remote' && classify(errorSummary(run)) === 'not-found') return { count: 0, bytes: 0 };
  if (run.code !== 0) throw failure(t, `counting the ${side === 'local' ? 'source' : 'object store'} files`, run);
  const r = JSON.parse(run.stdout) as { count: number; bytes: number };
  return { count: r.count, bytes: r.bytes };
}

export interface GuardResult {
  path: string;
  sourceFiles: number;
  sourceBytes: number;
  destFiles: number;
  /** Only when the store was listed for the count. */
  destBytes?: number;
  /** Where destFiles came from: the count recorded by the last sync that wrote the store, or a listing now. */
  destCountedFrom: 'record' | 'listing';
  /** Files the sync would delete at most (destination minus source), as a share of the destination. */
  lossShare: number;
  maxDeleteShare: number;
  /** Passed to rclone as --max-delete: the guard again, should the source shrink after the count. */
  maxDelete: number;
}

/** The guard's arithmetic: how much of the copy the sync would delete, the limit in files, and the verdict. */
export function guardVerdict(sourceFiles: number, destFiles: number, share: number): { lossShare: number; maxDelete: number; refused: boolean } {
  const lossShare = destFiles === 0 ? 0 : Math.max(0, destFiles - sourceFiles) / destFiles;
  return { lossShare, maxDelete: Math.floor(destFiles * share), refused: lossShare > share };
}

/**
 * The store, asked one cheap question: a listing of a key that never holds anything (one request). It fails
 * the way a count would on wrong credentials or an unreachable store, before anything changes.
 */
async function probeStore(ctx: FileSyncContext, t: PathTarget): Promise<void> {
  const rc = rcloneOf(ctx);
  const probe = (common: string[]) => runRclone(['lsjson', '--stat', ...common, `${rc.remote}${rc.bucket}/${DR_DIR}/.probe`], { env: env(ctx) });
  let run = await probe(FAST);
  if (run.code !== 0 && classify(errorSummary(run)) === 'other') run = await probe(COMMON);
  if (run.code !== 0 && classify(errorSummary(run)) !== 'not-found') throw failure(t, 'reaching the object store', run);
}

/**
 * The deletion guard's pre-check: a source that lost more than maxDeleteShare of its files must not wipe the
 * copy. The copy's count is the one recorded by the last sync that wrote the store (`recorded`, read by the
 * control plane), so only the share is walked; without one, the store is listed as before.
 */
export async function guardPath(
  ctx: FileSyncContext,
  i: { path: string; maxDeleteShare?: number; recorded?: { files: number } },
): Promise<GuardResult> {
  const t = targetOf(ctx, i.path);
  requireSourceDir(t);
  const share = i.maxDeleteShare ?? rcloneOf(ctx).maxDeleteShare;
  // The remote first: unreachable stores and wrong credentials show up here, before anything changes.
  let dest: { count: number; bytes?: number };
  if (i.recorded) {
    await probeStore(ctx, t);
    dest = { count: i.recorded.files };
  } else {
    dest = await size(ctx, t, 'remote');
  }
  const src = await size(ctx, t, 'local');
  const verdict = guardVerdict(src.count, dest.count, share);
  const r: GuardResult = {
    path: i.path,
    sourceFiles: src.count,
    sourceBytes: src.bytes,
    destFiles: dest.count,
    ...(dest.bytes !== undefined ? { destBytes: dest.bytes } : {}),
    destCountedFrom: i.recorded ? 'record' : 'listing',
    lossShare: verdict.lossShare,
    maxDeleteShare: share,
    maxDelete: verdict.maxDelete,
  };
  if (verdict.refused) throw guardRefusal(ctx, t, r);
  return r;
}

function guardRefusal(ctx: FileSyncContext, t: PathTarget, r: GuardResult): ApplicationFailure {
  return ApplicationFailure.create({
    message:
      `${t.where}: deletion guard: the source has ${r.sourceFiles} files, the copy ${r.destFiles}; syncing would delete ` +
      `${r.destFiles - r.sourceFiles} (${(r.lossShare * 100).toFixed(1)}%), over the limit of ${(r.maxDeleteShare * 100).toFixed(1)}%. ` +
      `Nothing was synced or deleted. If the deletions are intended, run once with a higher maxDeleteShare: ` +
      `drctl start file-sync --site ${ctx.site.id} --max-delete-share ${(Math.ceil(r.lossShare * 100) / 100).toFixed(2)}`,
    type: 'DeletionGuard',
    nonRetryable: true,
    details: [r],
  });
}

export interface SyncResult {
  path: string;
  kind: 'incremental' | 'full';
  /** When this (successful) attempt started: everything older is in the copy. This is the RPO point. */
  startedAt: string;
  endedAt: string;
  stats: RcloneStats | null;
  /** Files uploaded from the share; rclone's transfers also count the server-side moves into the backup dir. */
  uploadedFiles: number;
  uploadedBytes: number;
  backupDir: string;
  flags: string[];
  /** A leftover rclone of this path from a worker that died, stopped before this attempt ran. */
  stoppedLeftover?: number;
  /** Files in the store after this sync, from rclone's own listing (--combined): the next guard's count. */
  storeFiles: number;
}

/**
 * Files in the destination after a successful sync, from its --combined report: identical (=), replaced (*)
 * and uploaded (+) files are there; deleted (-) ones are not.
 */
export function storeFilesAfter(marks: Record<string, number>): number {
  return (marks['='] ?? 0) + (marks['*'] ?? 0) + (marks['+'] ?? 0);
}

export function tuningFlags(ctx: FileSyncContext): string[] {
  const rc = rcloneOf(ctx);
  return ['--checkers', String(rc.checkers), '--transfers', String(rc.transfers), ...(rc.fastList ? ['--fast-list'] : [])];
}

/**
 * What one deleted file costs against --max-delete. With --backup-dir, a store that has no server-side move
 * (S3, B2: copy, then delete) has rclone count each file twice, so a limit of N files must be passed as 2N.
 */
async function deletesPerBackupMove(ctx: FileSyncContext, t: PathTarget): Promise<number> {
  const run = await runRclone(['backend', 'features', t.remote], { env: env(ctx) });
  if (run.code !== 0) throw failure(t, "reading the store's features", run);
  return (JSON.parse(run.stdout) as { Features?: { Move?: boolean } }).Features?.Move ? 1 : 2;
}

/** rclone sync share → store, heartbeating its stats. A retry runs it again: sync is idempotent. */
export async function syncPath(ctx: FileSyncContext, i: { path: string; kind: 'incremental' | 'full'; maxDelete: number }): Promise<SyncResult> {
  const t = targetOf(ctx, i.path);
  requireSourceDir(t);
  const rc = rcloneOf(ctx);
  const startedAt = new Date();
  const stamp = startedAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const backupDir = `${rc.remote}${rc.bucket}/${DR_DIR}/${stamp}/${t.remoteLabel.slice(rc.bucket.length + 1) || '_root'}`;
  const flags = [
    ...tuningFlags(ctx),
    '--max-delete',
    String(i.maxDelete * (await deletesPerBackupMove(ctx, t))),
    '--backup-dir',
    backupDir,
    ...t.filters,
  ];
  const activity = Context.current();
  activity.heartbeat({ path: i.path, phase: 'starting' });
  const marks: Record<string, number> = {};
  const run = await runRclone([...syncCommand(t.local, t.remote, flags), '--combined', '-'], {
    env: env(ctx),
    owner: `sync ${t.local} -> ${t.remote}`,
    signal: activity.cancellationSignal,
    onStdoutLine: (line) => (marks[line[0] ?? ''] = (marks[line[0] ?? ''] ?? 0) + 1),
    onStats: (s) =>
      activity.heartbeat({
        path: i.path,
        files: s.transfers,
        totalFiles: s.totalTransfers,
        checks: s.checks,
        bytes: s.bytes,
        totalBytes: s.totalBytes,
        speed: s.speed,
        eta: s.eta,
        deletes: s.deletes,
        errors: s.errors,
      }),
  });
  if (run.code !== 0) throw failure(t, 'sync', run);
  const st = run.stats as
    (RcloneStats & { serverSideCopies?: number; serverSideMoves?: number; serverSideCopyBytes?: number; serverSideMoveBytes?: number }) | null;
  const uploadedFiles = st ? st.transfers - (st.serverSideCopies ?? 0) - (st.serverSideMoves ?? 0) : 0;
  const uploadedBytes = st ? st.bytes - (st.serverSideCopyBytes ?? 0) - (st.serverSideMoveBytes ?? 0) : 0;
  return {
    path: i.path,
    kind: i.kind,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    stats: run.stats,
    uploadedFiles,
    uploadedBytes,
    backupDir: backupDir.slice(rc.remote.length),
    flags,
    ...(run.stoppedLeftover ? { stoppedLeftover: run.stoppedLeftover } : {}),
    storeFiles: storeFilesAfter(marks),
  };
}

export interface Difference {
  path: string;
  /** differs: both sides, other content; missing-on-dest / missing-on-source; error: could not read. */
  kind: 'differs' | 'missing-on-dest' | 'missing-on-source' | 'error';
}

export interface CheckResult {
  path: string;
  mode: 'download' | 'hash';
  matching: number;
  differences: Difference[];
}

const MARK: Record<string, Difference['kind']> = { '*': 'differs', '+': 'missing-on-dest', '-': 'missing-on-source', '!': 'error' };

async function check(ctx: FileSyncContext, t: PathTarget, src: string, dst: string, extra: string[]): Promise<CheckResult> {
  const rc = rcloneOf(ctx);
  const activity = Context.current();
  const run = await runRclone(
    [
      'check',
      src,
      dst,
      '--combined',
      '-',
      ...COMMON,
      '--checkers',
      String(rc.checkers),
      ...(rc.fullCheck === 'download' ? ['--download'] : []),
      ...t.filters,
      ...extra,
    ],
    {
      env: env(ctx),
      signal: activity.cancellationSignal,
      onStats: (s) => activity.heartbeat({ path: t.path, phase: 'check', checks: s.checks, totalChecks: s.totalChecks, bytes: s.bytes }),
    },
  );
  const differences: Difference[] = [];
  let matching = 0;
  for (const line of run.stdout.split('\n')) {
    const m = /^([=*+\-!]) (.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '=') matching++;
    else differences.push({ path: m[2]!, kind: MARK[m[1]!]! });
  }
  // Exit 1 with listed differences is a result, not a failure; anything else (no listing at all) is.
  if (run.code !== 0 && differences.length === 0) throw failure(t, 'check', run);
  return { path: t.path, mode: rc.fullCheck, matching, differences };
}

/** rclone check share ↔ store: every difference, by path. */
export async function checkPath(ctx: FileSyncContext, i: { path: string }): Promise<CheckResult> {
  const t = targetOf(ctx, i.path);
  requireSourceDir(t);
  return check(ctx, t, t.local, t.remote, []);
}

export interface RestoreResult {
  path: string;
  files: number;
  bytes: number;
  copiedFiles: number;
  copiedBytes: number;
  check: CheckResult;
  startedAt: string;
  endedAt: string;
}

/**
 * Copies the store's copy into this site's share, then checks every stored file arrived intact. copy, not
 * sync: a restore never deletes anything already on the DR share.
 */
export async function restorePath(ctx: FileSyncContext, i: { path: string }): Promise<RestoreResult> {
  const t = targetOf(ctx, i.path);
  const startedAt = new Date().toISOString();
  const stored = await size(ctx, t, 'remote');
  if (stored.count === 0) {
    throw ApplicationFailure.nonRetryable(
      `${t.where}: the object store holds no files there; nothing to restore (wrong bucket or prefix?)`,
      'BadInput',
    );
  }
  const activity = Context.current();
  const run = await runRclone(['copy', t.remote, t.local, ...COMMON, ...tuningFlags(ctx), ...t.filters], {
    env: env(ctx),
    owner: `restore ${t.remote} -> ${t.local}`,
    signal: activity.cancellationSignal,
    onStats: (s) =>
      activity.heartbeat({
        path: i.path,
        phase: 'restore',
        files: s.transfers,
        totalFiles: s.totalTransfers,
        bytes: s.bytes,
        totalBytes: s.totalBytes,
        speed: s.speed,
        eta: s.eta,
      }),
  });
  if (run.code !== 0) throw failure(t, 'restore copy', run);
  const verified = await check(ctx, t, t.remote, t.local, ['--one-way']);
  return {
    path: i.path,
    files: stored.count,
    bytes: stored.bytes,
    copiedFiles: run.stats?.transfers ?? 0,
    copiedBytes: run.stats?.bytes ?? 0,
    check: verified,
    startedAt,
    endedAt: new Date().toISOString(),
  };
}

export function syncPaths(ctx: FileSyncContext): { site: string; paths: string[]; share: string; store: string } {
  const rc = rcloneOf(ctx);
  return { site: ctx.site.id, paths: rc.paths, share: resolve(ctx.baseDir, rc.sharePath), store: `${rc.bucket}/${rc.prefix}` };
}
