// Runbook: failback. Primary service goes back to the site it was failed over from, without losing anything
// and without silently discarding what that site took before it went away.
//
//   assess (fence the returning site if it is writable) → errant transactions: export, then a person decides
//   (re-seed or abort) → re-seed (when errant, or the primary lacks the binlogs the returning site needs)
//   → reprotect (replicate from the current primary until the lag is under the threshold) → approval
//   → planned switchover back: the failover runbook as a child workflow (which re-points the group's other
//   replicas) → restore protection → semi-sync roles → report
//
// Until the switchover the returning site is a fenced (read-only) replica at every step, which is the safe
// state: there is nothing to undo. The switchover undoes itself before its point of no return.
import { ApplicationFailure, ChildWorkflowFailure, ParentClosePolicy, executeChild, patched, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DatabaseState } from '../activities/inspect';
import type { ErrantExport } from '../activities/errant';
import type { ReseedResult } from '../activities/reseed';
import type { CaughtUpResult, ReprotectResult } from '../activities/reprotect';
import { errorText } from '../domain/errors';
import { contains, countGtids, errantGtids, formatRanges, type GtidRange } from '../domain/gtid';
import type { Plan } from '../domain/plan';
import { failoverWorkflowId } from '../domain/runs';
import { DRILL_TABLE } from '../domain/drill';
import { HEARTBEAT_TABLE } from '../domain/lease';
import type { ApprovalOutcome } from './kit/approval';
import { approverOnly, badInput, checkGroupSites } from './kit/input';
import { isRefusal, refuse, startRunbook, type Runbook, type RunbookReport } from './kit/runbook';
import { control, inspectSite, isAvailable, longStep, siteActivities } from './kit/sites';
import { failover, type FailoverInput, type FailoverReport } from './failover';
import { waitForReturn } from './failback/return';
import { refuseDuringDrill } from './kit/drill-exclusion';
import { proxysqlEverywhere, proxysqlRecord } from './kit/everywhere';
import { errantGateRequest, noticeOf, switchBackRequest } from './failback/texts';
import { applySemiSyncRoles, type SemiSyncRecord } from './failover/semi-sync';

export interface FailbackInput {
  group: string;
  /** The site primary service goes back to (it was failed over from). */
  returning: string;
  /** The site that is primary now. */
  current: string;
  requestedBy: string;
  reason: string;
  /** Decide the errant-transaction gate up front: re-seed after the export. requestedBy must be an approver. */
  discardErrant?: boolean;
  /** The approval a parent runbook (a drill's cleanup) already obtained; honoured only when this run is its child. */
  approvedByParent?: ApprovalOutcome;
}

export type FailbackOutcome = 'completed' | 'rejected' | 'aborted' | 'failed';

export interface FailbackReport extends RunbookReport<'failback', FailbackInput, FailbackOutcome> {
  /** The switchover's: start of the switchover until the returning site accepted a probe write. */
  rtoMs: number | null;
  errant: {
    count: number;
    gtids: string[];
    tables: string[];
    /** The file holding the errant transactions' events, written before anything could discard them. */
    export: Pick<ErrantExport, 'file' | 'sha256' | 'bytes' | 'transactions' | 'statements' | 'chunks'> | null;
    decision: ApprovalOutcome | null;
  };
  reseed: { done: boolean; why: string; result: ReseedResult | null };
  reprotect: { start: ReprotectResult | null; caughtUp: CaughtUpResult | null };
  switchover: {
    workflowId: string;
    outcome: string;
    rtoMs: number | null;
    lost: FailoverReport['rpo']['lost'] | null;
    files: FailoverReport['files'] | null;
    /** The group's other replicas, as the switchover left them. */
    replicas?: FailoverReport['replicas'];
  } | null;
  semiSync?: SemiSyncRecord | null;
}

export const FAILBACK_STEPS = [
  'load plan',
  'assess',
  'errant',
  'errant gate',
  're-seed',
  'reprotect',
  'catch up',
  'gate',
  'switchover',
  'restore protection',
  'semi-sync',
  'resume file sync',
  'notify',
  'report',
] as const;
export type FailbackStep = (typeof FAILBACK_STEPS)[number];

const DEFAULTS: NonNullable<Plan['failback']> = { maxLagSeconds: 5, returnWaitMs: 300_000, reseedMs: 7_200_000, catchUpMs: 1_800_000 };

/** One failback in flight: the kit's shell and what the steps learned. */
interface Failback {
  run: Runbook<FailbackStep, FailbackReport>;
  input: FailbackInput;
  limits: NonNullable<Plan['failback']>;
  dialect: DatabaseState['dialect'];
  /** The returning site as assessed, fenced. */
  returning?: DatabaseState;
  errant: GtidRange[];
  exported?: ErrantExport;
  reseeded?: ReseedResult;
}

export async function failback(input: FailbackInput): Promise<FailbackReport> {
  const run = await startRunbook<FailbackStep, FailbackInput, FailbackReport>('failback', FAILBACK_STEPS, input, checkInput, {
    errant: { count: 0, gtids: [], tables: [], export: null, decision: null },
    reseed: { done: false, why: 'not reached', result: null },
    reprotect: { start: null, caughtUp: null },
    switchover: null,
  });
  const fb: Failback = { run, input, limits: run.plan.failback ?? DEFAULTS, dialect: 'mariadb', errant: [] };
  try {
    const primary = await assess(fb);
    if ((await errantTransactions(fb, primary)) === 'aborted') return await finish(fb);
    await reseed(fb);
    const caught = await reprotect(fb);
    if ((await gate(fb, caught)).decision === 'rejected') return await finish(fb);
  } catch (err) {
    return await failBeforeSwitchover(fb, err);
  }
  try {
    const child = await switchover(fb);
    const restored = await restoreProtection(fb, child);
    await semiSyncRoles(fb, child, restored);
    await resumeFileSync(fb);
  } catch (err) {
    return await switchoverFailed(fb, err);
  }
  return finish(fb);
}

/** 1. No failover of the group in flight, the current site is the primary, the returning site answers and is fenced. */
async function assess(fb: Failback): Promise<DatabaseState> {
  const { run, input } = fb;
  const { group, returning, current } = input;
  const { ret, cur } = await run.progress.run('assess', async (s) => {
    await refuseDuringDrill(group, 'failback');
    const running = await control.workflowRunning({ workflowId: failoverWorkflowId(group) });
    if (running.running) {
      throw refuse(
        `a failover of ${group} is running (workflow ${failoverWorkflowId(group)}, run ${running.runId}, started ${running.startedAt}); fail back after it has finished`,
      );
    }
    const cur = await inspectSite(run.plan, current);
    if (!isAvailable(cur)) throw refuse(`the current primary ${current} is ${cur.why}; nothing was changed`);
    if (cur.readOnly)
      throw refuse(
        `${current} is read-only, so it is not the primary: there is nothing to fail back from (is ${returning} the primary already?); nothing was changed`,
      );
    const found = await waitForReturn(run.plan, returning, fb.limits.returnWaitMs, s);
    const { ret, fenced } = found.readOnly ? { ret: found, fenced: null } : await fenceReturning(fb);
    s.detail = { [returning]: summarise(ret), [current]: summarise(cur), fencedNow: fenced };
    return { ret, cur };
  });
  fb.returning = ret;
  fb.dialect = cur.dialect;
  return cur;
}

/** Two writable servers: the returning one must stop taking writes before anything else happens. */
async function fenceReturning(fb: Failback): Promise<{ ret: DatabaseState; fenced: unknown }> {
  const { returning, current } = fb.input;
  const back = siteActivities(fb.run.plan, returning);
  fb.run.progress.note(`${returning} is writable while ${current} is the primary: fencing ${returning} first`);
  let fenced: unknown;
  let ret: DatabaseState;
  try {
    fenced = await back.fenceSite({ primary: returning });
    ret = await back.inspectDatabase();
  } catch (err) {
    throw refuse(
      `${returning} is writable and could not be fenced (${errorText(err)}): both ${returning} and ${current} take writes; fence ${returning} by hand, then run the failback again`,
    );
  }
  if (!ret.readOnly)
    throw refuse(`${returning} is still writable after its fence: both ${returning} and ${current} take writes; fence ${returning} by hand`);
  return { ret, fenced };
}

/** 2. Transactions the returning site has and the primary lacks: exported first, always; then a person decides. */
async function errantTransactions(fb: Failback, cur: DatabaseState): Promise<'none' | 'discard' | 'aborted'> {
  const { run, input, dialect } = fb;
  const ret = fb.returning!;
  const errant = errantGtids(dialect, { executed: ret.gtidExecuted }, { executed: cur.gtidExecuted, slavePos: cur.gtidSlavePos });
  if (errant.unknownDomains.length) {
    throw refuse(
      `cannot tell which transactions of ${input.returning} are missing from ${input.current} in GTID domain(s) ${errant.unknownDomains.join(', ')} ` +
        `(${input.returning} ${ret.gtidExecuted}, ${input.current} ${cur.gtidExecuted}, replicated ${cur.gtidSlavePos ?? 'none'}); compare the binary logs by hand`,
    );
  }
  fb.errant = errant.ranges;
  run.report.errant.count = countGtids(errant.ranges);
  run.report.errant.gtids = formatRanges(dialect, errant.ranges);
  if (errant.ranges.length === 0) {
    run.progress.skip('errant', `skipped: ${input.current} has every transaction of ${input.returning}`);
    run.progress.skip('errant gate', 'skipped: no errant transactions');
    return 'none';
  }
  const exported = await exportErrant(fb);
  return errantGate(fb, exported);
}

async function exportErrant(fb: Failback): Promise<ErrantExport> {
  const { run, input, dialect } = fb;
  const report = run.report;
  const name = `${workflowInfo().workflowId}-${input.returning}-errant`;
  const exported = await run.progress.run(
    'errant',
    () => longRunning(fb, fb.limits.catchUpMs).exportErrant({ dialect, ranges: fb.errant, name, currentPrimary: input.current }),
    (e) => ({ count: e.transactions, gtids: report.errant.gtids, tables: e.tables, file: e.file, sha256: e.sha256, bytes: e.bytes }),
  );
  fb.exported = exported;
  report.errant.tables = exported.tables;
  const { file, sha256, bytes, transactions, statements, chunks } = exported;
  report.errant.export = { file, sha256, bytes, transactions, statements, chunks };
  return exported;
}

/** Discarding transactions is a person's call whatever the policy; an approver may make it up front. */
async function errantGate(fb: Failback, exported: ErrantExport): Promise<'discard' | 'aborted'> {
  const { run, input } = fb;
  // A parent (a drill's cleanup) may discard only the drill's own rows (and the agents' heartbeats, which hold
  // no data): anything else waits for a person.
  const drillRowsOnly = exported.tables.includes(DRILL_TABLE) && exported.tables.every((t) => t === DRILL_TABLE || t === HEARTBEAT_TABLE);
  const byParent = input.discardErrant && drillRowsOnly ? parentApproval(input) : undefined;
  if (input.discardErrant && parentApproval(input) && !drillRowsOnly)
    run.progress.note(`the errant transactions touch ${exported.tables.join(', ')}, not only the drill's table: a person decides`);
  const preApproved = input.discardErrant && !parentApproval(input) ? { by: input.requestedBy, reason: input.reason } : undefined;
  const request = errantGateRequest(input, exported, run.report.errant.gtids);
  const decision = await run.progress.run('errant gate', () =>
    run.gate.request(request, preApproved, { step: 'errant gate', policy: 'manual', decided: byParent, quorum: ['discardErrant'] }),
  );
  run.gate.next();
  run.report.errant.decision = decision;
  if (decision.decision === 'approved') return 'discard';
  run.report.outcome = 'aborted';
  run.progress.note(
    `aborted by ${decision.by}: ${decision.reason}. ${input.returning} stays fenced and keeps its errant transactions; the export is ${exported.file}`,
  );
  run.skipAll(
    ['re-seed', 'reprotect', 'catch up', 'gate', 'switchover', 'restore protection', 'semi-sync', 'resume file sync'],
    'aborted at the errant-transaction gate',
  );
  return 'aborted';
}

/** 3. Re-seed when there are errant transactions, or the primary no longer has the binary logs the returning site needs. */
async function reseed(fb: Failback): Promise<void> {
  const { run, input, dialect } = fb;
  const { returning, current } = input;
  const ret = fb.returning!;
  const horizon = await siteActivities(run.plan, current).binlogHorizon();
  const canReplicate = contains(dialect, ret.gtidExecuted, horizon.purged);
  const why = fb.errant.length
    ? `${run.report.errant.count} errant transaction(s), exported to ${fb.exported!.file}`
    : !canReplicate
      ? `${current} has purged binary logs ${returning} needs (purged up to ${horizon.purged}, ${returning} at ${ret.gtidExecuted})`
      : '';
  if (!why) {
    run.report.reseed = { done: false, why: `no errant transactions and ${current} still has every binary log ${returning} needs`, result: null };
    return run.progress.skip('re-seed', `skipped: ${run.report.reseed.why}`);
  }
  const discards = { count: run.report.errant.count, exportFile: fb.exported?.file ?? null, sha256: fb.exported?.sha256 ?? null };
  fb.reseeded = await run.progress.run(
    're-seed',
    () => longRunning(fb, fb.limits.reseedMs).reseedFrom({ source: current, discards }),
    (r) => ({ why, bytes: r.bytes, tables: r.tables, gtidPosition: r.gtidPosition, durationMs: r.durationMs, dropped: r.dropped }),
  );
  run.report.reseed = { done: true, why, result: fb.reseeded };
}

/** 4. Replicate from the current primary with GTID auto-positioning, until the lag is small. */
async function reprotect(fb: Failback): Promise<CaughtUpResult> {
  const { run, input, limits } = fb;
  const back = siteActivities(run.plan, input.returning);
  // Without a re-seed (MariaDB) replication continues after what the returning site has executed.
  const slavePos = fb.reseeded || fb.dialect === 'mysql' ? null : fb.returning!.gtidExecuted;
  const started = await run.progress.run(
    'reprotect',
    () => back.replicateFrom({ source: input.current, slavePos }),
    (r) => ({ ...r }),
  );
  const caught = await run.progress.run(
    'catch up',
    () => longRunning(fb, limits.catchUpMs).waitReplicaCaughtUp({ maxLagSeconds: limits.maxLagSeconds, timeoutMs: limits.catchUpMs }),
    (r) => ({ ...r }),
  );
  run.report.reprotect = { start: started, caughtUp: caught };
  run.progress.note(`${input.returning} replicates from ${input.current}, ${caught.lagSeconds} s behind after ${caught.waitedMs} ms`);
  return caught;
}

/** 5. Approval to switch back, under the policy from the config. */
async function gate(fb: Failback, caught: CaughtUpResult): Promise<ApprovalOutcome> {
  const { run, input } = fb;
  const request = switchBackRequest(run.plan, input, caught, fb.reseeded, run.report.errant);
  const approval = await run.progress.run('gate', () => run.gate.request(request, undefined, { decided: parentApproval(input) }));
  run.report.approval = approval;
  if (approval.decision === 'rejected') {
    run.report.outcome = 'rejected';
    run.progress.note(`switch back rejected by ${approval.by}: ${approval.reason}. ${input.returning} stays a replica of ${input.current}`);
    run.skipAll(['switchover', 'restore protection', 'semi-sync', 'resume file sync'], 'rejected at the gate');
  }
  return approval;
}

/** Before the switchover the returning site is a fenced replica: nothing needs undoing. */
async function failBeforeSwitchover(fb: Failback, err: unknown): Promise<never> {
  const { run, input } = fb;
  run.report.outcome = isRefusal(err) ? 'rejected' : 'failed';
  run.report.error = errorText(err);
  run.progress.note(`${run.report.outcome === 'rejected' ? 'refused' : 'failed'}: ${run.report.error}`);
  await finish(fb);
  if (isRefusal(err)) throw err;
  throw ApplicationFailure.nonRetryable(
    `failback failed before the switchover: ${run.report.error}. ${input.returning} is fenced; nothing needs undoing`,
    'FailbackFailed',
  );
}

/**
 * 6. Planned switchover back: the failover runbook with the roles swapped. Its fixed id keeps any other
 *    failover of the group out while it runs; abandoned, it finishes even if this run is terminated.
 */
async function switchover(fb: Failback): Promise<FailoverReport> {
  const { run, input } = fb;
  const { group, returning, current } = input;
  const reason = `failback ${workflowInfo().workflowId}: ${input.reason}`;
  const args: [FailoverInput] = [
    { group, from: current, to: returning, mode: 'planned' as const, reason, requestedBy: input.requestedBy, approvedByParent: run.report.approval! },
  ];
  const child = await run.progress.run(
    'switchover',
    () => executeChild(failover, { workflowId: failoverWorkflowId(group), args, parentClosePolicy: ParentClosePolicy.ABANDON }),
    (r) => ({ workflowId: r.workflowId, runId: r.runId, outcome: r.outcome, rtoMs: r.rtoMs, files: r.files ?? null }),
  );
  run.report.switchover = {
    workflowId: child.workflowId,
    outcome: child.outcome,
    rtoMs: child.rtoMs,
    lost: child.rpo.lost,
    files: child.files ?? null,
    replicas: child.replicas,
  };
  run.report.rtoMs = child.rtoMs;
  run.report.pointOfNoReturn = child.pointOfNoReturn;
  if (!child.outcome.startsWith('completed')) throw new Error(`the switchover ended ${child.outcome}: ${child.error ?? ''}`);
  return child;
}

/** 7. The old primary becomes a replica of the new one, so the group is protected again. */
async function restoreProtection(fb: Failback, child: FailoverReport): Promise<boolean> {
  const { run, input } = fb;
  const slavePos = fb.dialect === 'mysql' ? null : child.rpo.gtidAtPromotion;
  return run.progress
    .run('restore protection', async (s) => {
      const r = await siteActivities(run.plan, input.current).replicateFrom({ source: input.returning, slavePos });
      s.detail = { ...r };
      // patched: failbacks that started before this replay without it. A replica again serves reads again.
      if (patched('failback-reader-online')) {
        const readers = await proxysqlEverywhere(run.plan, new Set(), (site) =>
          siteActivities(run.plan, site).proxysqlReaderOnline({ site: input.current }),
        );
        s.detail = { ...s.detail, readers: proxysqlRecord(readers) };
      }
      return true;
    })
    .catch((err) => {
      run.progress.note(`${input.current} is fenced but does not replicate from ${input.returning} yet: ${errorText(err)}; set it up by hand`);
      return false;
    });
}

/** 8. Semi-sync roles once the old primary replicates too: it may be the returning site's acknowledger (tw2 for tw). */
async function semiSyncRoles(fb: Failback, child: FailoverReport, restored: boolean): Promise<void> {
  const { run, input } = fb;
  // patched: failbacks that started before this step replay without it.
  if (!patched('failback-semi-sync')) return run.progress.skip('semi-sync', 'skipped: the run started before this step existed');
  const replicas = child.replicas ?? [];
  const followers = [...replicas.filter((r) => r.outcome === 'replicates').map((r) => r.site), ...(restored ? [input.current] : [])];
  const away = new Set(replicas.filter((r) => r.outcome === 'unreachable').map((r) => r.site));
  const reachable = run.plan.groups.find((g) => g.id === input.group)!.sites.filter((s) => !away.has(s));
  run.report.semiSync = await applySemiSyncRoles(run.plan, run.progress, { group: input.group, primary: input.returning, followers, reachable });
}

/** 9. The returning site's share is the source of truth again (the switchover paused the other site's). */
async function resumeFileSync(fb: Failback): Promise<void> {
  const { run, input } = fb;
  const { returning } = input;
  if (!run.plan.sites.find((s) => s.id === returning)?.rclone) return run.progress.skip('resume file sync', `skipped: ${returning} has no file sync`);
  await run.progress.run('resume file sync', async (s) => {
    try {
      s.detail = {
        schedules: await control.resumeSyncSchedules({
          site: returning,
          reason: `failback ${workflowInfo().workflowId}: ${returning} is the source of truth again`,
        }),
      };
    } catch (err) {
      s.detail = { error: errorText(err) };
      run.progress.note(
        `could not resume the file-sync schedules of ${returning}: ${errorText(err)}; resume them by hand (npm run schedules -- resume --site ${returning})`,
      );
    }
  });
}

async function switchoverFailed(fb: Failback, err: unknown): Promise<never> {
  const { run, input } = fb;
  const switchoverId = failoverWorkflowId(input.group);
  const raced = err instanceof WorkflowExecutionAlreadyStartedError;
  run.report.outcome = 'failed';
  run.report.error = raced
    ? `another failover of ${input.group} (${switchoverId}) started meanwhile; ${input.returning} stays a replica of ${input.current}`
    : errorText(err);
  if (!(err instanceof ChildWorkflowFailure) && !raced) run.progress.note(`switchover: ${run.report.error}`);
  await finish(fb);
  throw ApplicationFailure.nonRetryable(
    `failback: the switchover back did not complete: ${run.report.error}. See ${switchoverId}`,
    'SwitchoverFailed',
  );
}

function finish(fb: Failback): Promise<FailbackReport> {
  return fb.run.finish(noticeOf(fb.run.report), fb.run.report.outcome === 'completed' ? 'completed' : 'failed');
}

function checkInput(plan: Plan, input: FailbackInput): void {
  checkGroupSites(plan, input, '{ group, returning, current, requestedBy, reason }', ['returning', 'current']);
  if (input.returning === input.current) throw badInput(`input.returning: '${input.returning}' is also the current primary`);
  if (!input.requestedBy) throw badInput('input.requestedBy: who asks for this failback is required');
  if (!parentApproval(input))
    approverOnly(plan, 'discardErrant', input.discardErrant, input.requestedBy, 'decide up front to discard errant transactions');
}

/** A parent's approval counts only for its own child (a drill's cleanup), never for a run started by hand. */
const parentApproval = (input: FailbackInput): ApprovalOutcome | undefined =>
  workflowInfo().parent && input.approvedByParent?.decision === 'approved' ? input.approvedByParent : undefined;

function longRunning(fb: Failback, ms: number) {
  return siteActivities(fb.run.plan, fb.input.returning, { ...longStep(fb.run.plan, ms), retry: { maximumAttempts: 2 } });
}

function summarise(db: DatabaseState): Record<string, unknown> {
  const replicatingFrom = db.replication ? `${db.replication.sourceHost}:${db.replication.sourcePort}` : null;
  return { readOnly: db.readOnly, gtidExecuted: db.gtidExecuted, gtidSlavePos: db.gtidSlavePos, replicatingFrom };
}
