// Runbook: file sync. Push one site's share to the object store, path by path, from that site's own worker:
//
//   paths → for each path: guard (count the share; the store's count as the last sync recorded it, else listed)
//   → sync (heartbeats progress; records its listing's count) → [full: check] → record
//   → on any failure: notice (escalated after three in a row) and fail
//
// rclone sync is idempotent, so a worker that dies mid-sync is handled by retrying the activity.
import { ApplicationFailure, patched, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import type { CheckResult, Difference, GuardResult, SyncResult } from '../activities/file-sync';
import type { PathRecord } from '../activities/sync-state';
import { Progress } from './kit/progress';
import { errorText } from '../domain/errors';
import { control, siteActivities } from './kit/sites';
import type { Plan } from '../domain/plan';
import type { StepRecord } from '../domain/steps';

export interface FileSyncInput {
  site: string;
  kind: 'incremental' | 'full';
  /** Overrides the configured deletion guard for this run, when an operator means the deletions. */
  maxDeleteShare?: number;
}

export interface PathReport {
  path: string;
  ok: boolean;
  /** The store location whose recorded count this run used or will renew (patched runs). */
  store?: string;
  guard?: GuardResult;
  sync?: SyncResult;
  check?: CheckResult;
  error?: string;
  consecutiveFailures?: number;
}

export interface FileSyncReport {
  runbook: 'file-sync';
  workflowId: string;
  site: string;
  kind: FileSyncInput['kind'];
  outcome: 'completed' | 'failed';
  startedAt: string;
  endedAt: string;
  paths: PathReport[];
  escalated: boolean;
  steps: StepRecord[];
  notes: string[];
}

/** Failures that retrying cannot fix: fix the input, the credentials or the share first. */
export const FINAL_ERRORS = ['BadInput', 'BadConfig', 'BadCredentials', 'DeletionGuard'];
export const ESCALATE_AFTER = 3;

/** Long rclone runs: heartbeats tell a dead worker from a slow sync; a retry resumes the sync. */
export function longRunning(plan: Plan, site: string): ReturnType<typeof siteActivities> {
  const opts: Partial<ActivityOptions> = {
    startToCloseTimeout: '12h',
    heartbeatTimeout: '15s',
    // Long enough for a site worker to restart; a site that stays away fails the run (and sends a notice).
    scheduleToStartTimeout: '2m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: FINAL_ERRORS },
  };
  return siteActivities(plan, site, opts);
}

function quick(plan: Plan, site: string): ReturnType<typeof siteActivities> {
  return siteActivities(plan, site, {
    startToCloseTimeout: '10m',
    scheduleToStartTimeout: '2m',
    retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 3, nonRetryableErrorTypes: FINAL_ERRORS },
  });
}

/** Steps per configured path are named after it. */
type FileSyncStep = 'load plan' | 'paths' | 'notify' | `${'guard' | 'sync' | 'check' | 'record'} ${string}`;
type RestoreStep = 'load plan' | 'paths' | `restore ${string}`;

export async function fileSync(input: FileSyncInput): Promise<FileSyncReport> {
  const progress = new Progress<FileSyncStep>('file-sync', ['load plan', 'paths']);
  const plan = await progress.run('load plan', () => control.loadPlan());
  checkSite(plan, input?.site, 'input.site');
  if (input.kind !== 'incremental' && input.kind !== 'full') throw bad(`input.kind: must be 'incremental' or 'full', not '${input.kind}'`);
  const { site, kind } = input;
  const long = longRunning(plan, site);
  const short = quick(plan, site);
  const report: FileSyncReport = {
    runbook: 'file-sync',
    workflowId: workflowInfo().workflowId,
    site,
    kind,
    outcome: 'completed',
    startedAt: new Date().toISOString(),
    endedAt: '',
    paths: [],
    escalated: false,
    steps: progress.view.steps,
    notes: progress.view.notes,
  };

  const { paths } = await progress.run(
    'paths',
    () => short.fileSyncPaths(),
    (r) => ({ ...r }),
  );
  for (const path of paths) {
    const p: PathReport = { path, ok: false };
    report.paths.push(p);
    try {
      const guarded = await guard(progress, short, input, path);
      p.guard = guarded.guard;
      p.store = guarded.store;
      p.sync = await progress.run(
        `sync ${path}`,
        async () => {
          // From here the store may change: its recorded count is void until this run records a new one.
          if (p.store) await control.fileSyncBeginWrite({ store: p.store, runId: workflowInfo().runId });
          return long.fileSyncRun({ path, kind, maxDelete: p.guard!.maxDelete });
        },
        (r) => ({ ...r }),
      );
      if (p.sync.stoppedLeftover)
        progress.note(`sync ${path}: stopped rclone pid ${p.sync.stoppedLeftover}, left running by a worker that died, before syncing again`);
      if (kind === 'full') {
        p.check = await progress.run(
          `check ${path}`,
          () => long.fileSyncCheck({ path }),
          (r) => ({ mode: r.mode, matching: r.matching, differences: r.differences }),
        );
        if (p.check.differences.length > 0)
          throw ApplicationFailure.nonRetryable(differencesText(site, path, p.check.differences), 'CheckDifferences');
      }
      p.ok = true;
      const rec = await progress.run(`record ${path}`, () =>
        control.recordFileSync({
          site,
          path,
          ok: true,
          kind,
          startedAt: p.sync!.startedAt,
          stats: (p.sync!.stats as unknown as Record<string, unknown>) ?? null,
          checked: kind === 'full',
          ...storeWrite(p, site, p.sync!.storeFiles),
        }),
      );
      p.consecutiveFailures = rec.consecutiveFailures;
    } catch (err) {
      p.error = errorText(err);
      const rec: PathRecord | null = await control
        .recordFileSync({ site, path, ok: false, at: new Date().toISOString(), error: p.error, ...storeWrite(p, site) })
        .catch(() => null);
      p.consecutiveFailures = rec?.consecutiveFailures;
    }
  }

  const failed = report.paths.filter((p) => !p.ok);
  if (failed.length > 0) {
    report.outcome = 'failed';
    report.escalated = failed.some((p) => (p.consecutiveFailures ?? 0) >= ESCALATE_AFTER);
    await notice(progress, report);
    progress.view.status = 'failed';
    report.endedAt = new Date().toISOString();
    throw ApplicationFailure.create({
      message: failed.map((p) => p.error).join('\n'),
      type: 'FileSyncFailed',
      nonRetryable: true,
      details: [report],
    });
  }
  progress.view.status = 'completed';
  report.endedAt = new Date().toISOString();
  return report;
}

/** Runs started before the guard used the recorded store count list the store for it every time. */
const RECORDED_STORE_COUNT = 'file-sync-recorded-store-count';

/**
 * The deletion guard. An incremental run takes the copy's count from the control plane's record of the last
 * sync that wrote the store (so the store is listed once per run, by the sync itself); a run with no usable
 * record, and every full run, lists the store for it, and an incremental run says why in its notes.
 */
async function guard(
  progress: Progress<FileSyncStep>,
  short: ReturnType<typeof siteActivities>,
  input: FileSyncInput,
  path: string,
): Promise<{ guard: GuardResult; store?: string }> {
  const maxDeleteShare = input.maxDeleteShare;
  if (!patched(RECORDED_STORE_COUNT)) {
    const g = await progress.run(
      `guard ${path}`,
      () => short.fileSyncGuard({ path, maxDeleteShare }),
      (r) => ({ ...r }),
    );
    return { guard: g };
  }
  return progress.run(
    `guard ${path}`,
    async (step) => {
      const recorded = await control.fileSyncRecordedCount({ site: input.site, path });
      const use = input.kind === 'incremental' && recorded.files !== null;
      step.detail = use
        ? { recordedCount: { files: recorded.files, countedAt: recorded.countedAt, countedBy: recorded.countedBy } }
        : { storeListedBecause: recorded.files === null ? recorded.reason : 'a full run lists the store' };
      if (!use && recorded.files === null && input.kind === 'incremental') progress.note(recountNote(path, recorded.reason));
      const g = await short.fileSyncGuard({ path, maxDeleteShare, ...(use ? { recorded: { files: recorded.files! } } : {}) });
      return { guard: g, store: recorded.store };
    },
    (r) => ({ ...r.guard }),
  );
}

function recountNote(path: string, reason: string): string {
  return `guard ${path}: no usable recorded count of the store (${reason}); the store was listed to count it`;
}

/** What `record` tells the control plane about the store this run wrote (patched runs only). */
function storeWrite(
  p: PathReport,
  site: string,
  files?: number,
): { storeWrite?: { store: string; runId: string; files?: number; countedBy: string } } {
  if (!p.store) return {};
  const runId = workflowInfo().runId;
  return {
    storeWrite: {
      store: p.store,
      runId,
      countedBy: `site ${site}, path ${p.path}, workflow ${workflowInfo().workflowId}`,
      ...(files !== undefined ? { files } : {}),
    },
  };
}

export interface RestoreFilesInput {
  toSite: string;
}

export interface RestoreFilesReport {
  runbook: 'restore-files';
  workflowId: string;
  toSite: string;
  paths: Array<{ path: string; files: number; bytes: number; copiedFiles: number; copiedBytes: number; matching: number; differences: Difference[] }>;
  totals: { files: number; bytes: number; copiedFiles: number; copiedBytes: number };
  steps: StepRecord[];
}

/** Runbook: copy the latest copy in the object store to `toSite`'s share, and verify it with rclone check. */
export async function restoreFiles(input: RestoreFilesInput): Promise<RestoreFilesReport> {
  const progress = new Progress<RestoreStep>('restore-files', ['load plan', 'paths']);
  const plan = await progress.run('load plan', () => control.loadPlan());
  checkSite(plan, input?.toSite, 'input.toSite');
  const site = input.toSite;
  const { paths } = await progress.run(
    'paths',
    () => quick(plan, site).fileSyncPaths(),
    (r) => ({ ...r }),
  );
  const report: RestoreFilesReport = {
    runbook: 'restore-files',
    workflowId: workflowInfo().workflowId,
    toSite: site,
    paths: [],
    totals: { files: 0, bytes: 0, copiedFiles: 0, copiedBytes: 0 },
    steps: progress.view.steps,
  };
  for (const path of paths) {
    const r = await progress.run(
      `restore ${path}`,
      () => longRunning(plan, site).fileRestore({ path }),
      (x) => ({
        files: x.files,
        bytes: x.bytes,
        copiedFiles: x.copiedFiles,
        copiedBytes: x.copiedBytes,
        matching: x.check.matching,
        differences: x.check.differences,
      }),
    );
    report.paths.push({
      path,
      files: r.files,
      bytes: r.bytes,
      copiedFiles: r.copiedFiles,
      copiedBytes: r.copiedBytes,
      matching: r.check.matching,
      differences: r.check.differences,
    });
    report.totals.files += r.files;
    report.totals.bytes += r.bytes;
    report.totals.copiedFiles += r.copiedFiles;
    report.totals.copiedBytes += r.copiedBytes;
    if (r.check.differences.length > 0) {
      progress.view.status = 'failed';
      throw ApplicationFailure.nonRetryable(`restore to ${differencesText(site, path, r.check.differences)}`, 'CheckDifferences', report);
    }
  }
  progress.view.status = 'completed';
  return report;
}

const bad = (m: string) => ApplicationFailure.nonRetryable(m, 'BadInput');

function checkSite(plan: Plan, id: string | undefined, field: string): void {
  const s = plan.sites.find((x) => x.id === id);
  if (!s) throw bad(`${field}: unknown site '${id}' (known sites: ${plan.sites.map((x) => x.id).join(', ')})`);
  if (!s.rclone)
    throw bad(
      `${field}: site '${id}' has no rclone section in ${plan.name}'s config (sites with one: ${
        plan.sites
          .filter((x) => x.rclone)
          .map((x) => x.id)
          .join(', ') || 'none'
      })`,
    );
}

function differencesText(site: string, path: string, diffs: Difference[]): string {
  const shown = diffs.slice(0, 20).map((d) => `${d.kind} ${d.path}`);
  return `site ${site}, path ${path}: rclone check found ${diffs.length} difference(s): ${shown.join(', ')}${diffs.length > shown.length ? ', …' : ''}`;
}

async function notice(progress: Progress<FileSyncStep>, r: FileSyncReport): Promise<void> {
  const failed = r.paths.filter((p) => !p.ok);
  const streak = Math.max(...failed.map((p) => p.consecutiveFailures ?? 0));
  await progress.run('notify', async (s) => {
    try {
      s.detail = {
        escalated: r.escalated,
        results: await control.notify({
          title: `File sync failed: ${r.site} ${r.kind}${r.escalated ? ` (${streak} failures in a row)` : ''}`,
          severity: 'critical',
          escalate: r.escalated,
          text:
            (r.escalated ? `This sync has failed ${streak} times in a row: escalated.\n` : '') +
            failed.map((p) => `path ${p.path}: ${p.error}`).join('\n'),
          fields: { site: r.site, kind: r.kind, workflow: r.workflowId, 'failures in a row': String(streak) },
        }),
      };
    } catch (err) {
      // An undeliverable notice must not hide the sync failure itself.
      s.detail = { error: errorText(err) };
    }
  });
}
