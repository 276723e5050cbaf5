// Runbook: failback. Primary service goes back to the site it was failed over from, without losing anything
// and without silently discarding what that site took before it went away.
//
//   assess (fence the returning site if it is writable) → errant transactions: export, then a person decides
//   (re-seed or abort) → re-seed (when errant, or the primary lacks the binlogs the returning site needs)
//   → reprotect (replicate from the current primary until the lag is under the threshold) → approval
//   → planned switchover back: the failover runbook as a child workflow → restore protection → report
//
// Until the switchover the returning site is a fenced (read-only) replica at every step, which is the safe
// state: there is nothing to undo. The switchover undoes itself before its point of no return.
import { ApplicationFailure, ChildWorkflowFailure, ParentClosePolicy, executeChild, sleep, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DatabaseState } from '../activities/inspect';
import type { ErrantExport } from '../activities/errant';
import type { ReseedResult } from '../activities/reseed';
import type { CaughtUpResult, ReprotectResult } from '../activities/reprotect';
import { ApprovalGate, type ApprovalOutcome } from './kit/approval';
import { failover, type FailoverReport } from './failover';
import { contains, countGtids, errantGtids, formatRanges } from '../domain/gtid';
import { Progress } from './kit/progress';
import { errorText } from '../domain/errors';
import { control, isUnreachable, siteActivities } from './kit/sites';
import { failoverWorkflowId } from '../domain/runs';
import type { Plan } from '../domain/plan';
import type { StepRecord } from '../domain/steps';

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
}

export type FailbackOutcome = 'completed' | 'rejected' | 'aborted' | 'failed';

export interface FailbackReport {
  runbook: 'failback';
  workflowId: string;
  runId: string;
  input: FailbackInput;
  outcome: FailbackOutcome;
  startedAt: string;
  endedAt: string;
  objectives: Plan['objectives'];
  /** The switchover's: start of the switchover until the returning site accepted a probe write. */
  rtoMs: number | null;
  pointOfNoReturn: { reached: boolean; at: string | null; step: 'promote' };
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
  approval: ApprovalOutcome | null;
  switchover: { workflowId: string; outcome: string; rtoMs: number | null; lost: FailoverReport['rpo']['lost'] | null; files: FailoverReport['files'] | null } | null;
  refusedDecisions: Array<{ by: string; reason: string; why: string; at: string }>;
  steps: StepRecord[];
  notes: string[];
  error?: string;
  files?: { json: string; markdown: string };
}

export const FAILBACK_STEPS = ['load plan', 'assess', 'errant', 'errant gate', 're-seed', 'reprotect', 'catch up', 'gate', 'switchover', 'restore protection', 'resume file sync', 'notify', 'report'];

const DEFAULTS: NonNullable<Plan['failback']> = { maxLagSeconds: 5, returnWaitMs: 300_000, reseedMs: 7_200_000, catchUpMs: 1_800_000 };

export async function failback(input: FailbackInput): Promise<FailbackReport> {
  const progress = new Progress('failback', FAILBACK_STEPS);
  const t0 = Date.now();
  const plan = await progress.run('load plan', () => control.loadPlan());
  checkInput(plan, input);
  const limits = plan.failback ?? DEFAULTS;
  const gate = new ApprovalGate(plan, progress);
  const { group, returning, current } = input;
  const back = siteActivities(plan, returning);
  const primary = siteActivities(plan, current);
  const longBack = (ms: number) => siteActivities(plan, returning, { startToCloseTimeout: ms + 10_000, heartbeatTimeout: 30_000, retry: { maximumAttempts: 2 } });
  const report = emptyReport(plan, input, t0);
  let dialect: DatabaseState['dialect'] = 'mariadb';

  try {
    // 1. Assess: no failover of the group in flight, the current site is the primary, the returning site
    //    answers (bounded wait) and is fenced.
    const { ret, cur } = await progress.run('assess', async (s) => {
      const running = await control.workflowRunning({ workflowId: failoverWorkflowId(group) });
      if (running.running) {
        throw refuse(`a failover of ${group} is running (workflow ${failoverWorkflowId(group)}, run ${running.runId}, started ${running.startedAt}); fail back after it has finished`);
      }
      const cur = await inspect(plan, current);
      if (typeof cur === 'string') throw refuse(`the current primary ${current} is ${cur}; nothing was changed`);
      if (cur.readOnly) throw refuse(`${current} is read-only, so it is not the primary: there is nothing to fail back from (is ${returning} the primary already?); nothing was changed`);
      let ret = await waitForReturn(plan, returning, limits.returnWaitMs, s);
      let fenced: unknown = null;
      if (!ret.readOnly) {
        // Two writable servers: the returning one must stop taking writes before anything else happens.
        progress.note(`${returning} is writable while ${current} is the primary: fencing ${returning} first`);
        try {
          fenced = await back.fenceSite({ primary: returning });
          ret = await back.inspectDatabase();
        } catch (err) {
          throw refuse(`${returning} is writable and could not be fenced (${errorText(err)}): both ${returning} and ${current} take writes; fence ${returning} by hand, then run the failback again`);
        }
        if (!ret.readOnly) throw refuse(`${returning} is still writable after its fence: both ${returning} and ${current} take writes; fence ${returning} by hand`);
      }
      s.detail = { [returning]: summarise(ret), [current]: summarise(cur), fencedNow: fenced };
      return { ret, cur };
    });

    // 2. Errant transactions: export them first, always; then a person decides.
    dialect = cur.dialect;
    const errant = errantGtids(dialect, { executed: ret.gtidExecuted }, { executed: cur.gtidExecuted, slavePos: cur.gtidSlavePos });
    if (errant.unknownDomains.length) {
      throw refuse(
        `cannot tell which transactions of ${returning} are missing from ${current} in GTID domain(s) ${errant.unknownDomains.join(', ')} ` +
          `(${returning} ${ret.gtidExecuted}, ${current} ${cur.gtidExecuted}, replicated ${cur.gtidSlavePos ?? 'none'}); compare the binary logs by hand`,
      );
    }
    report.errant.count = countGtids(errant.ranges);
    report.errant.gtids = formatRanges(dialect, errant.ranges);
    let exported: ErrantExport | undefined;
    if (errant.ranges.length === 0) {
      progress.skip('errant', `skipped: ${current} has every transaction of ${returning}`);
      progress.skip('errant gate', 'skipped: no errant transactions');
    } else {
      exported = await progress.run(
        'errant',
        () => longBack(limits.catchUpMs).exportErrant({ dialect, ranges: errant.ranges, name: `${workflowInfo().workflowId}-${returning}-errant`, currentPrimary: current }),
        (e) => ({ count: e.transactions, gtids: report.errant.gtids, tables: e.tables, file: e.file, sha256: e.sha256, bytes: e.bytes }),
      );
      report.errant.tables = exported.tables;
      report.errant.export = { file: exported.file, sha256: exported.sha256, bytes: exported.bytes, transactions: exported.transactions, statements: exported.statements, chunks: exported.chunks };
      // Discarding transactions is a person's call whatever the policy; an approver may make it up front.
      const decision = await progress.run('errant gate', () =>
        gate.request(
          {
            summary: `${returning} has ${exported!.transactions} transaction(s) that ${current} never got, touching ${exported!.tables.join(', ') || 'no tables'}; exported to ${exported!.file}. Approve to re-seed ${returning} from ${current} (discarding them there), reject to abort.`,
            lossOverBudget: false,
            detail: { count: exported!.transactions, gtids: report.errant.gtids, tables: exported!.tables, statements: exported!.statements.slice(0, 20), exportFile: exported!.file, sha256: exported!.sha256, approve: 're-seed', reject: 'abort' },
          },
          input.discardErrant ? { by: input.requestedBy, reason: input.reason } : undefined,
          { step: 'errant gate', policy: 'manual' },
        ),
      );
      gate.next();
      report.errant.decision = decision;
      if (decision.decision === 'rejected') {
        report.outcome = 'aborted';
        progress.note(`aborted by ${decision.by}: ${decision.reason}. ${returning} stays fenced and keeps its errant transactions; the export is ${exported.file}`);
        for (const name of ['re-seed', 'reprotect', 'catch up', 'gate', 'switchover', 'restore protection', 'resume file sync']) progress.skip(name, 'aborted at the errant-transaction gate');
        return await finish(progress, report, gate);
      }
    }

    // 3. Re-seed when the returning site has errant transactions, or the primary no longer has the binary
    //    logs it would need to catch up from where it is.
    const horizon = await primary.binlogHorizon();
    const canReplicate = contains(dialect, ret.gtidExecuted, horizon.purged);
    const why = errant.ranges.length
      ? `${report.errant.count} errant transaction(s), exported to ${exported!.file}`
      : !canReplicate
        ? `${current} has purged binary logs ${returning} needs (purged up to ${horizon.purged}, ${returning} at ${ret.gtidExecuted})`
        : '';
    let reseeded: ReseedResult | undefined;
    if (!why) {
      report.reseed = { done: false, why: `no errant transactions and ${current} still has every binary log ${returning} needs`, result: null };
      progress.skip('re-seed', `skipped: ${report.reseed.why}`);
    } else {
      reseeded = await progress.run(
        're-seed',
        () => longBack(limits.reseedMs).reseedFrom({ source: current, discards: { count: report.errant.count, exportFile: exported?.file ?? null, sha256: exported?.sha256 ?? null } }),
        (r) => ({ why, bytes: r.bytes, tables: r.tables, gtidPosition: r.gtidPosition, durationMs: r.durationMs, dropped: r.dropped }),
      );
      report.reseed = { done: true, why, result: reseeded };
    }

    // 4. Reprotect: replicate from the current primary with GTID auto-positioning, until the lag is small.
    const started = await progress.run(
      'reprotect',
      // Without a re-seed (MariaDB) replication continues after what the returning site has executed.
      () => back.replicateFrom({ source: current, slavePos: reseeded || dialect === 'mysql' ? null : ret.gtidExecuted }),
      (r) => ({ ...r }),
    );
    const caught = await progress.run('catch up', () => longBack(limits.catchUpMs).waitReplicaCaughtUp({ maxLagSeconds: limits.maxLagSeconds, timeoutMs: limits.catchUpMs }), (r) => ({ ...r }));
    report.reprotect = { start: started, caughtUp: caught };
    progress.note(`${returning} replicates from ${current}, ${caught.lagSeconds} s behind after ${caught.waitedMs} ms`);

    // 5. Approval to switch back, under the policy from the config.
    const approval = await progress.run('gate', () =>
      gate.request({
        summary: `switch ${group} back from ${current} to ${returning}: ${returning} replicates ${caught.lagSeconds} s behind${reseeded ? ` after a re-seed of ${reseeded.bytes} bytes` : ''}`,
        lossOverBudget: false,
        detail: {
          lagSeconds: caught.lagSeconds,
          errant: { count: report.errant.count, exportFile: exported?.file ?? null },
          changes: [
            `fence ${current}`,
            `wait until ${returning} has executed every transaction of ${current}`,
            plan.dnsRecords.length ? `point ${plan.dnsRecords.join(', ')} at ${returning}` : null,
            `promote ${returning} (point of no return)`,
            `route ProxySQL writers to ${returning}`,
            `make ${current} a replica of ${returning}`,
          ].filter(Boolean),
        },
      }),
    );
    report.approval = approval;
    if (approval.decision === 'rejected') {
      report.outcome = 'rejected';
      progress.note(`switch back rejected by ${approval.by}: ${approval.reason}. ${returning} stays a replica of ${current}`);
      for (const name of ['switchover', 'restore protection', 'resume file sync']) progress.skip(name, 'rejected at the gate');
      return await finish(progress, report, gate);
    }
  } catch (err) {
    report.outcome = err instanceof ApplicationFailure && err.type === 'Refused' ? 'rejected' : 'failed';
    report.error = errorText(err);
    progress.note(`${report.outcome === 'rejected' ? 'refused' : 'failed'}: ${report.error}`);
    await finish(progress, report, gate);
    throw err instanceof ApplicationFailure && err.type === 'Refused' ? err : ApplicationFailure.nonRetryable(`failback failed before the switchover: ${report.error}. ${returning} is fenced; nothing needs undoing`, 'FailbackFailed');
  }

  // 6. Planned switchover back: the failover runbook with the roles swapped. Its fixed id keeps any other
  //    failover of the group out while it runs; abandoned, it finishes even if this run is terminated.
  const switchoverId = failoverWorkflowId(group);
  try {
    const child = await progress.run(
      'switchover',
      () =>
        executeChild(failover, {
          workflowId: switchoverId,
          args: [{ group, from: current, to: returning, mode: 'planned' as const, reason: `failback ${workflowInfo().workflowId}: ${input.reason}`, requestedBy: input.requestedBy, approvedByParent: report.approval! }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
        }),
      (r) => ({ workflowId: r.workflowId, runId: r.runId, outcome: r.outcome, rtoMs: r.rtoMs, files: r.files ?? null }),
    );
    report.switchover = { workflowId: child.workflowId, outcome: child.outcome, rtoMs: child.rtoMs, lost: child.rpo.lost, files: child.files ?? null };
    report.rtoMs = child.rtoMs;
    report.pointOfNoReturn = child.pointOfNoReturn;
    if (child.outcome !== 'completed' && child.outcome !== 'completed-with-skips') throw new Error(`the switchover ended ${child.outcome}: ${child.error ?? ''}`);

    // 7. The old primary becomes a replica of the new one, so the group is protected again.
    const position = child.rpo.gtidAtPromotion;
    await progress
      .run('restore protection', async (s) => {
        const r = await primary.replicateFrom({ source: returning, slavePos: dialect === 'mysql' ? null : position });
        s.detail = { ...r };
      })
      .catch((err) => progress.note(`${current} is fenced but does not replicate from ${returning} yet: ${errorText(err)}; set it up by hand`));

    // 8. The returning site's share is the source of truth again (the switchover paused the other site's).
    if (!plan.sites.find((s) => s.id === returning)?.rclone) progress.skip('resume file sync', `skipped: ${returning} has no file sync`);
    else {
      await progress.run('resume file sync', async (s) => {
        try {
          s.detail = { schedules: await control.resumeSyncSchedules({ site: returning, reason: `failback ${workflowInfo().workflowId}: ${returning} is the source of truth again` }) };
        } catch (err) {
          s.detail = { error: errorText(err) };
          progress.note(`could not resume the file-sync schedules of ${returning}: ${errorText(err)}; resume them by hand (npm run schedules -- resume --site ${returning})`);
        }
      });
    }
  } catch (err) {
    report.outcome = 'failed';
    report.error = err instanceof WorkflowExecutionAlreadyStartedError ? `another failover of ${group} (${switchoverId}) started meanwhile; ${returning} stays a replica of ${current}` : errorText(err);
    if (!(err instanceof ChildWorkflowFailure) && !(err instanceof WorkflowExecutionAlreadyStartedError)) progress.note(`switchover: ${report.error}`);
    await finish(progress, report, gate);
    throw ApplicationFailure.nonRetryable(`failback: the switchover back did not complete: ${report.error}. See ${switchoverId}`, 'SwitchoverFailed');
  }
  return finish(progress, report, gate);
}

function checkInput(plan: Plan, input: FailbackInput): void {
  const known = plan.sites.map((s) => s.id);
  const bad = (m: string) => ApplicationFailure.nonRetryable(m, 'BadInput');
  if (!input || typeof input !== 'object') throw bad('input must be { group, returning, current, requestedBy, reason }');
  const group = plan.groups.find((g) => g.id === input.group);
  if (!group) throw bad(`input.group: unknown group '${input.group}' (known groups: ${plan.groups.map((g) => g.id).join(', ')})`);
  for (const f of ['returning', 'current'] as const) {
    if (!known.includes(input[f])) throw bad(`input.${f}: unknown site '${input[f]}' (known sites: ${known.join(', ')})`);
    if (!group.sites.includes(input[f])) throw bad(`input.${f}: site '${input[f]}' is not in group ${group.id} (${group.sites.join(', ')})`);
  }
  if (input.returning === input.current) throw bad(`input.returning: '${input.returning}' is also the current primary`);
  if (!input.requestedBy) throw bad('input.requestedBy: who asks for this failback is required');
  if (input.discardErrant && !plan.approval.approvers.includes(input.requestedBy)) {
    throw bad(`input.discardErrant: only an approver may decide up front to discard errant transactions; '${input.requestedBy}' is not one (approvers: ${plan.approval.approvers.join(', ') || 'none'})`);
  }
}

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'Refused');

async function inspect(plan: Plan, site: string): Promise<DatabaseState | string> {
  try {
    return await siteActivities(plan, site, { retry: { maximumAttempts: 2 } }).inspectDatabase();
  } catch (err) {
    return isUnreachable(err) ? 'unreachable (its worker did not pick up)' : `database down (${errorText(err)})`;
  }
}

/** The returning site may still be on its way back: ask again until it answers or the wait is over. */
async function waitForReturn(plan: Plan, site: string, waitMs: number, s: StepRecord): Promise<DatabaseState> {
  const t0 = Date.now();
  for (let attempt = 1; ; attempt++) {
    const db = await inspect(plan, site);
    if (typeof db !== 'string') return db;
    const waited = Date.now() - t0;
    s.detail = { ...s.detail, waitingFor: site, attempt, waitedMs: waited, waitMs, last: db };
    if (waited >= waitMs) throw refuse(`the returning site ${site} is ${db}, still after ${attempt} attempt(s) over ${waited} ms (failback.returnWait is ${waitMs} ms); nothing was changed`);
    await sleep(Math.min(5_000, waitMs - waited));
  }
}

function summarise(db: DatabaseState): Record<string, unknown> {
  return { readOnly: db.readOnly, gtidExecuted: db.gtidExecuted, gtidSlavePos: db.gtidSlavePos, replicatingFrom: db.replication ? `${db.replication.sourceHost}:${db.replication.sourcePort}` : null };
}

function emptyReport(plan: Plan, input: FailbackInput, t0: number): FailbackReport {
  const info = workflowInfo();
  return {
    runbook: 'failback',
    workflowId: info.workflowId,
    runId: info.runId,
    input,
    outcome: 'completed',
    startedAt: new Date(t0).toISOString(),
    endedAt: '',
    objectives: plan.objectives,
    rtoMs: null,
    pointOfNoReturn: { reached: false, at: null, step: 'promote' },
    errant: { count: 0, gtids: [], tables: [], export: null, decision: null },
    reseed: { done: false, why: 'not reached', result: null },
    reprotect: { start: null, caughtUp: null },
    approval: null,
    switchover: null,
    refusedDecisions: [],
    steps: [],
    notes: [],
  };
}

async function finish(progress: Progress, report: FailbackReport, gate: ApprovalGate): Promise<FailbackReport> {
  report.endedAt = new Date().toISOString();
  const severity = report.outcome === 'completed' ? 'info' : report.outcome === 'failed' ? 'critical' : 'warning';
  await progress.run('notify', async (s) => {
    try {
      s.detail = { results: await control.notify({ title: `Failback ${report.input.current} → ${report.input.returning}: ${report.outcome}`, severity, text: noticeText(report), fields: { workflow: report.workflowId } }) };
    } catch (err) {
      s.detail = { error: errorText(err) };
    }
  });
  report.steps = progress.view.steps;
  report.notes = progress.view.notes;
  report.refusedDecisions = gate.refused.map((r) => ({ by: r.by, reason: r.reason, why: r.why, at: r.at }));
  const files = await progress.run('report', () => control.writeReport({ ...report, steps: report.steps.map((s) => (s.name === 'report' ? { ...s, state: 'done' as const } : s)) } as FailbackReport));
  report.files = files;
  progress.view.status = report.outcome === 'completed' ? 'completed' : 'failed';
  return report;
}

function noticeText(r: FailbackReport): string {
  const lines = [`failback of ${r.input.group} from ${r.input.current} to ${r.input.returning}, requested by ${r.input.requestedBy}: ${r.input.reason}`, `outcome: ${r.outcome}`];
  if (r.errant.count) lines.push(`errant transactions on ${r.input.returning}: ${r.errant.count}${r.errant.export ? `, exported to ${r.errant.export.file}` : ''}`);
  if (r.reseed.done && r.reseed.result) lines.push(`re-seeded ${r.input.returning}: ${r.reseed.result.bytes} bytes, ${r.reseed.result.tables} tables in ${r.reseed.result.durationMs} ms`);
  if (r.rtoMs !== null) lines.push(`switchover RTO ${(r.rtoMs / 1000).toFixed(1)} s`);
  if (r.error) lines.push(`error: ${r.error}`);
  return lines.join('\n');
}
