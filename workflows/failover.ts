// Runbook: failover. Planned (switchover: zero loss) or unplanned (bounded, listed loss).
//
//   assess → gate → scale up the new site → fence the old primary → catch up → DNS
//   ── POINT OF NO RETURN: promote ──→ route ProxySQL → verify → notify → report
//
// Before the point of no return any failure undoes what was done, newest first. After it the run only
// rolls forward; a step that keeps failing waits for an operator (retry-step / skip-step).
import { ApplicationFailure, ParentClosePolicy, getExternalWorkflowHandle, patched, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { DatabaseState } from '../activities/inspect';
import type { FenceResult } from '../activities/fence';
import type { PromoteResult } from '../activities/promote';
import { ApprovalGate, type ApprovalOutcome } from './kit/approval';
import { Compensations } from './kit/compensation';
import { fenceOnReturn, promotedSignal } from './fence-on-return';
import { countGtids, formatRanges, subtractGtids } from '../domain/gtid';
import { OperatorDesk } from './kit/operator';
import { Progress } from './kit/progress';
import { errorText } from '../domain/errors';
import { control, isUnreachable, siteActivities } from './kit/sites';
import { fenceOnReturnWorkflowId } from '../domain/runs';
import type { Plan } from '../domain/plan';
import type { StepRecord } from '../domain/steps';

export interface FailoverInput {
  group: string;
  from: string;
  to: string;
  mode: 'planned' | 'unplanned';
  reason: string;
  requestedBy: string;
  /** Accept an estimated loss over the RPO budget up front; requestedBy must be an approver. */
  acceptLoss?: boolean;
  /** The approval a parent runbook (failback) already obtained; honoured only when this run is its child. */
  approvedByParent?: ApprovalOutcome;
}

export type FailoverOutcome = 'completed' | 'rejected' | 'compensated' | 'completed-with-skips';

export interface FailoverReport {
  runbook: 'failover';
  workflowId: string;
  runId: string;
  input: FailoverInput;
  outcome: FailoverOutcome;
  startedAt: string;
  endedAt: string;
  objectives: Plan['objectives'];
  /** Start of the run until DNS is INSYNC and the new primary accepts writes. */
  rtoMs: number | null;
  pointOfNoReturn: { reached: boolean; at: string | null; step: 'promote' };
  rpo: {
    lagSecondsAtPromotion: number | null;
    gtidAtPromotion: string | null;
    /** Transactions the old primary executed that the new one never got. Unknown while the old primary is away. */
    lost: { known: boolean; count: number | null; gtids: string[]; note: string };
  };
  approval: ApprovalOutcome | null;
  refusedDecisions: Array<{ by: string; reason: string; why: string; at: string }>;
  operatorActions: Array<{ step: string; action: string; by: string; reason: string; at: string }>;
  steps: StepRecord[];
  notes: string[];
  error?: string;
  files?: { json: string; markdown: string };
}

export const FAILOVER_STEPS = ['load plan', 'assess', 'gate', 'scale', 'fence', 'catch up', 'dns', 'promote', 'route', 'verify', 'standby', 'notify', 'report'];

export async function failover(input: FailoverInput): Promise<FailoverReport> {
  const progress = new Progress('failover', FAILOVER_STEPS);
  const t0 = Date.now();
  const plan = await progress.run('load plan', () => control.loadPlan());
  checkInput(plan, input);
  const gate = new ApprovalGate(plan, progress);
  const desk = new OperatorDesk(plan, progress);
  const undo = new Compensations(progress);
  const { from, to, mode } = input;
  const oldSite = siteActivities(plan, from);
  const newSite = siteActivities(plan, to);
  const catchUpSite = siteActivities(plan, to, { startToCloseTimeout: plan.timeouts.catchUpMs + 10_000, heartbeatTimeout: 10_000 });
  const scaling = { startToCloseTimeout: plan.timeouts.scaleReadyMs + 10_000, heartbeatTimeout: 10_000 };
  const scaleSite = siteActivities(plan, to, scaling);
  const report = emptyReport(plan, input, t0);

  let promoted: PromoteResult | undefined;
  let oldFence: FenceResult | undefined;
  let lastSeenOld: DatabaseState | undefined;
  const unreachable = new Set<string>();
  try {
    // 1. Assess both sites, each through its own worker.
    const { oldDb, newDb } = await progress.run('assess', async (s) => {
      const [oldDb, newDb] = await Promise.all([inspect(plan, from), inspect(plan, to)]);
      s.detail = { [from]: summarise(oldDb), [to]: summarise(newDb) };
      return { oldDb, newDb };
    });
    if (newDb === 'unreachable' || typeof newDb === 'string') {
      throw refuse(`the candidate site ${to} is ${newDb === 'unreachable' ? 'unreachable (its worker did not pick up)' : `not usable: ${newDb}`}; nothing was changed`);
    }
    if (oldDb !== 'unreachable' && typeof oldDb !== 'string') lastSeenOld = oldDb;
    // Asking a dead site again would cost a schedule-to-start timeout per step: remember it.
    if (oldDb === 'unreachable') unreachable.add(from);
    if (mode === 'planned' && !lastSeenOld) {
      throw refuse(`a planned switchover needs the old primary ${from} reachable (it is ${oldDb}); use mode 'unplanned' for a failover from a lost site`);
    }
    if (!newDb.readOnly && lastSeenOld && !lastSeenOld.readOnly) {
      throw refuse(`both ${from} and ${to} are writable already: resolve the split brain by hand first`);
    }

    // 2. Gate: loss budget, then the approval policy.
    const lagSeconds = newDb.replication?.secondsBehind ?? null;
    const gap = lastSeenOld ? subtractGtids(newDb.dialect, lastSeenOld.gtidExecuted, newDb.gtidExecuted) : null;
    const estimatedLossSeconds = mode === 'planned' ? 0 : lagSeconds;
    const lossOverBudget = estimatedLossSeconds !== null && estimatedLossSeconds > plan.objectives.rpoSeconds;
    const group = plan.groups.find((g) => g.id === input.group)!;
    const summary =
      `${mode} failover of ${input.group} from ${from} to ${to}: replica lag ${lagSeconds ?? 'unknown'} s, ` +
      `GTID gap ${gap ? `${countGtids(gap)} transaction(s)` : 'unknown (old primary unreachable)'}` +
      (lossOverBudget ? `; estimated loss ${estimatedLossSeconds} s is over the RPO budget of ${plan.objectives.rpoSeconds} s` : '');
    const approval = await progress.run('gate', () =>
      gate.request(
        {
          summary,
          lossOverBudget,
          detail: {
            lagSeconds,
            gtidGap: gap ? formatRanges(newDb.dialect, gap) : null,
            estimatedLossSeconds,
            rpoSeconds: plan.objectives.rpoSeconds,
            changes: [
              group.services.length ? `scale ${group.services.join(', ')} in ${to} to production` : null,
              `fence ${from} (read_only, kill client sessions, ProxySQL writer OFFLINE_HARD)`,
              mode === 'planned' ? `wait until ${to} has executed every transaction of ${from}` : `apply what ${to} has received`,
              plan.dnsRecords.length ? `point ${plan.dnsRecords.join(', ')} at ${to}` : null,
              `promote ${to} (point of no return)`,
              `route ProxySQL writers to ${to}`,
              group.services.length && mode === 'planned' ? `scale ${from} to standby size` : null,
            ].filter(Boolean),
          },
        },
        input.acceptLoss ? { by: input.requestedBy, reason: input.reason, acceptLoss: true } : undefined,
        { decided: workflowInfo().parent && !lossOverBudget ? input.approvedByParent : undefined },
      ),
    );
    report.approval = approval;
    if (approval.decision === 'rejected') {
      report.outcome = 'rejected';
      progress.note(`rejected by ${approval.by}: ${approval.reason}`);
      for (const name of ['scale', 'fence', 'catch up', 'dns', 'promote', 'route', 'verify', 'standby']) progress.skip(name, 'rejected at the gate');
      if (lossOverBudget && approval.how === 'auto') {
        report.error = `${approval.reason}. Nothing was changed. To accept the loss, an approver (${plan.approval.approvers.join(', ') || 'none configured'}) must start the failover with acceptLoss: true.`;
      }
      return await finish(progress, report, gate, desk);
    }

    // 3. Scale the new site up first: it does not touch writes, and it shortens the outage.
    if (group.services.length === 0) {
      progress.skip('scale', 'skipped: no services configured');
    } else {
      const scaled = await progress.run('scale', () => scaleSite.scaleServices({ group: input.group, profile: 'production', timeoutMs: plan.timeouts.scaleReadyMs }), (r) => ({ ...r }));
      undo.add(`scale ${to} back`, () => scaleSite.restoreScale({ group: input.group, previous: scaled.previous, timeoutMs: plan.timeouts.scaleReadyMs }));
    }

    // 4. Fence the old primary, or queue a fence that runs the moment its site returns. Then take the
    //    old writer out of every reachable ProxySQL.
    await progress.run('fence', async (s) => {
      if (lastSeenOld) {
        const f = await oldSite.fenceDatabase();
        oldFence = f;
        undo.add(`unfence ${from}`, () => oldSite.unfenceDatabase({ wasWritable: f.wasWritable }));
        s.detail = { database: f };
      } else {
        s.detail = { database: await queueFenceOnReturn(from, to) };
        undo.add(`cancel the queued fence of ${from}`, () => cancelFenceOnReturn(from));
      }
      const results = await proxysqlEverywhere(plan, unreachable, (site) => siteActivities(plan, site).proxysqlFenceWriter({ primary: from }));
      for (const r of results) {
        if (r.result) undo.add(`restore ProxySQL in ${r.site}`, () => siteActivities(plan, r.site).proxysqlRestore({ rows: r.result!.configBefore }));
      }
      s.detail = { ...s.detail, proxysql: results.map((r) => ({ site: r.site, skipped: r.skipped ?? null, after: r.result?.after ?? null })) };
    });

    // 5. Catch up.
    const caught = await progress.run('catch up', async () => {
      if (mode === 'planned') return catchUpSite.waitForGtids({ gtids: oldFence!.gtidExecuted, timeoutMs: plan.timeouts.catchUpMs });
      return catchUpSite.applyRetrieved({ timeoutMs: plan.timeouts.catchUpMs });
    }, (r) => ({ ...r }));
    progress.note(`${to} executed ${caught.executed}`);

    // 6. DNS, while the change is still cheap to undo.
    if (plan.dnsRecords.length === 0) {
      progress.skip('dns', 'skipped: no DNS records configured');
    } else {
      const change = await progress.run('dns', async (s) => {
        const c = await newSite.dnsPointAt({ site: to, comment: `failover ${workflowInfo().workflowId}: ${input.reason}` });
        s.detail = { changeId: c.changeId, records: c.records };
        undo.add('restore DNS records', () => newSite.dnsRestore({ records: c.records }));
        const insync = await newSite.dnsWaitInsync({ changeId: c.changeId, timeoutMs: plan.timeouts.dnsInsyncMs });
        s.detail = { ...s.detail, insync };
        return c;
      });
      progress.note(`DNS change ${change.changeId} is INSYNC`);
    }
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === 'Refused') {
      report.outcome = 'rejected';
      report.error = err.message;
      await finish(progress, report, gate, desk);
      throw err;
    }
    report.error = errorText(err);
    progress.note(`failed before the point of no return: ${report.error}; undoing ${undo.size} step(s)`);
    const r = await undo.runAll();
    report.outcome = 'compensated';
    progress.view.status = 'compensated';
    await finish(progress, report, gate, desk);
    throw ApplicationFailure.nonRetryable(
      `failover aborted before the point of no return: ${report.error}. Undone: ${r.undone.join(', ') || 'nothing to undo'}` +
        (r.failed.length ? `. NOT undone: ${r.failed.map((f) => `${f.name} (${f.error})`).join('; ')}` : ''),
      'Compensated',
    );
  }

  // ── POINT OF NO RETURN ── From here the run only rolls forward.
  promoted = await desk.rollForward('promote', () => newSite.promoteDatabase(), (r) => ({ ...r }));
  report.pointOfNoReturn = { reached: true, at: new Date().toISOString(), step: 'promote' };
  if (promoted) {
    report.rpo.lagSecondsAtPromotion = promoted.lagSecondsAtPromotion;
    report.rpo.gtidAtPromotion = promoted.gtidAtPromotion;
    report.rpo.lost = lostTransactions(mode, oldFence, promoted, lastSeenOld);
    if (!oldFence) await tellFenceOnReturn(from, promoted);
  }

  await desk.rollForward('route', async () => {
    const results = await proxysqlEverywhere(plan, unreachable, (site) => siteActivities(plan, site).proxysqlRouteWriter({ newPrimary: to, oldPrimary: from }));
    const failed = results.filter((r) => r.error);
    if (failed.length) throw new Error(failed.map((f) => `${f.site}: ${f.error}`).join('; '));
    return results;
  }, (results) => ({ proxysql: results.map((r) => ({ site: r.site, skipped: r.skipped ?? null, after: r.result?.after ?? null })) }));

  const probe = await desk.rollForward('verify', () => newSite.writeProbe({ runbook: workflowInfo().workflowId }), (r) => ({ ...r }));
  report.rtoMs = probe ? Date.now() - t0 : null;
  await pauseFileSync(plan, progress, from, to);

  // The old primary is now the DR site: standby size, after the service is back so it adds nothing to RTO.
  const group = plan.groups.find((g) => g.id === input.group)!;
  if (group.services.length === 0) progress.skip('standby', 'skipped: no services configured');
  else if (mode !== 'planned') progress.skip('standby', `skipped: ${from} was lost; the failback runbook sizes it`);
  else await desk.rollForward('standby', () => siteActivities(plan, from, scaling).scaleServices({ group: input.group, profile: 'standby', timeoutMs: plan.timeouts.scaleReadyMs }), (r) => ({ ...r }));
  return finish(progress, report, gate, desk);
}

/**
 * The old primary's share is no longer the source of truth: pause its sync schedules so they do not push a
 * stale share over the copy. Best effort; the failback runbook resumes them (resumeSyncSchedules).
 */
async function pauseFileSync(plan: Plan, progress: Progress, from: string, to: string): Promise<void> {
  // patched: failovers that started before this step replay without it.
  if (!plan.sites.find((s) => s.id === from)?.rclone || !patched('failover-pause-file-sync')) return;
  await progress.run('pause file sync', async (s) => {
    try {
      s.detail = { schedules: await control.pauseSyncSchedules({ site: from, reason: `failover ${workflowInfo().workflowId}: ${to} is the source of truth now` }) };
    } catch (err) {
      s.detail = { error: errorText(err) };
      progress.note(`could not pause the file-sync schedules of ${from}: ${errorText(err)}; pause them by hand (npm run schedules -- pause --site ${from})`);
    }
  });
}

function checkInput(plan: Plan, input: FailoverInput): void {
  const known = plan.sites.map((s) => s.id);
  const bad = (m: string) => ApplicationFailure.nonRetryable(m, 'BadInput');
  if (!input || typeof input !== 'object') throw bad('input must be { group, from, to, mode, reason, requestedBy }');
  const group = plan.groups.find((g) => g.id === input.group);
  if (!group) throw bad(`input.group: unknown group '${input.group}' (known groups: ${plan.groups.map((g) => g.id).join(', ')})`);
  for (const f of ['from', 'to'] as const) {
    if (!known.includes(input[f])) throw bad(`input.${f}: unknown site '${input[f]}' (known sites: ${known.join(', ')})`);
    if (!group.sites.includes(input[f])) throw bad(`input.${f}: site '${input[f]}' is not in group ${group.id} (${group.sites.join(', ')})`);
  }
  if (input.from === input.to) throw bad(`input.to: '${input.to}' is also the site to fail over from`);
  if (input.mode !== 'planned' && input.mode !== 'unplanned') throw bad(`input.mode: must be 'planned' or 'unplanned', not '${input.mode}'`);
  if (!input.requestedBy) throw bad('input.requestedBy: who asks for this failover is required');
  if (input.acceptLoss && !plan.approval.approvers.includes(input.requestedBy)) {
    throw bad(`input.acceptLoss: only an approver may accept a loss over the RPO budget; '${input.requestedBy}' is not one (approvers: ${plan.approval.approvers.join(', ') || 'none'})`);
  }
}

const refuse = (message: string) => ApplicationFailure.nonRetryable(message, 'Refused');

async function inspect(plan: Plan, site: string): Promise<DatabaseState | 'unreachable' | string> {
  try {
    return await siteActivities(plan, site, { retry: { maximumAttempts: 2 } }).inspectDatabase();
  } catch (err) {
    return isUnreachable(err) ? 'unreachable' : `database down (${errorText(err)})`;
  }
}

function summarise(db: DatabaseState | string): Record<string, unknown> | string {
  if (typeof db === 'string') return db;
  return { readOnly: db.readOnly, gtidExecuted: db.gtidExecuted, retrieved: db.replication?.retrievedGtids ?? null, lagSeconds: db.replication?.secondsBehind ?? null };
}

/** Runs a ProxySQL change in every reachable site that has ProxySQL; an unreachable site is noted, not fatal. */
async function proxysqlEverywhere<T>(plan: Plan, unreachable: Set<string>, fn: (site: string) => Promise<T>): Promise<Array<{ site: string; result?: T; skipped?: string; error?: string }>> {
  return Promise.all(
    plan.sites
      .filter((s) => s.proxysql)
      .map(async (s) => {
        if (unreachable.has(s.id)) return { site: s.id, skipped: 'site unreachable at assess; its own fence on return takes its writer out' };
        try {
          return { site: s.id, result: await fn(s.id) };
        } catch (err) {
          if (isUnreachable(err)) return { site: s.id, skipped: 'site unreachable' };
          return { site: s.id, error: errorText(err) };
        }
      }),
  ).then((rs) => {
    const failed = rs.filter((r) => r.error);
    if (failed.length) throw new Error(`ProxySQL: ${failed.map((f) => `${f.site}: ${f.error}`).join('; ')}`);
    return rs;
  });
}

async function queueFenceOnReturn(site: string, newPrimary: string): Promise<Record<string, unknown>> {
  const workflowId = fenceOnReturnWorkflowId(site);
  try {
    await startChild(fenceOnReturn, {
      workflowId,
      args: [{ site, newPrimary, failoverWorkflowId: workflowInfo().workflowId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
    return { queued: workflowId, on: `dr-site-${site}-return` };
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { queued: workflowId, already: true };
    throw err;
  }
}

async function cancelFenceOnReturn(site: string): Promise<void> {
  await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site)).cancel();
}

async function tellFenceOnReturn(site: string, promoted: PromoteResult): Promise<void> {
  try {
    await getExternalWorkflowHandle(fenceOnReturnWorkflowId(site)).signal(promotedSignal, { site: promoted.site, gtidAtPromotion: promoted.gtidAtPromotion, failoverWorkflowId: workflowInfo().workflowId });
  } catch {
    /* the fence already finished; it reports without the comparison */
  }
}

function lostTransactions(mode: FailoverInput['mode'], fence: FenceResult | undefined, promoted: PromoteResult, lastSeen: DatabaseState | undefined): FailoverReport['rpo']['lost'] {
  if (mode === 'planned') return { known: true, count: 0, gtids: [], note: 'planned switchover: the new primary executed the old primary\'s exact GTID set' };
  const oldSet = fence?.gtidExecuted ?? lastSeen?.gtidExecuted;
  if (!oldSet) {
    return { known: false, count: null, gtids: [], note: 'the old primary was unreachable: its GTID set is unknown until it returns; the queued fence compares the sets then and writes an addendum' };
  }
  const dialect = lastSeen?.dialect ?? 'mariadb';
  const lost = subtractGtids(dialect, oldSet, promoted.gtidAtPromotion);
  return { known: true, count: countGtids(lost), gtids: formatRanges(dialect, lost), note: 'old primary executed set minus the new primary\'s set at promotion' };
}

function emptyReport(plan: Plan, input: FailoverInput, t0: number): FailoverReport {
  const info = workflowInfo();
  return {
    runbook: 'failover',
    workflowId: info.workflowId,
    runId: info.runId,
    input,
    outcome: 'completed',
    startedAt: new Date(t0).toISOString(),
    endedAt: '',
    objectives: plan.objectives,
    rtoMs: null,
    pointOfNoReturn: { reached: false, at: null, step: 'promote' },
    rpo: { lagSecondsAtPromotion: null, gtidAtPromotion: null, lost: { known: false, count: null, gtids: [], note: 'not promoted' } },
    approval: null,
    refusedDecisions: [],
    operatorActions: [],
    steps: [],
    notes: [],
  };
}

async function finish(progress: Progress, report: FailoverReport, gate: ApprovalGate, desk: OperatorDesk): Promise<FailoverReport> {
  report.endedAt = new Date().toISOString();
  if (report.outcome === 'completed' && progress.view.steps.some((s) => s.state === 'skipped' && String(s.detail?.skipped ?? '').startsWith('skipped by'))) {
    report.outcome = 'completed-with-skips';
  }
  const severity = report.outcome === 'completed' ? 'info' : report.outcome === 'rejected' ? 'warning' : 'critical';
  await progress.run('notify', async (s) => {
    try {
      s.detail = { results: await control.notify({ title: `Failover ${report.input.from} → ${report.input.to}: ${report.outcome}`, severity, text: noticeText(report), fields: { workflow: report.workflowId, mode: report.input.mode, rto: report.rtoMs === null ? 'n/a' : `${report.rtoMs} ms` } }) };
    } catch (err) {
      // A notice that cannot be delivered must not undo or block a failover.
      s.detail = { error: errorText(err) };
    }
  });
  report.steps = progress.view.steps;
  report.notes = progress.view.notes;
  report.refusedDecisions = gate.refused.map((r) => ({ by: r.by, reason: r.reason, why: r.why, at: r.at }));
  report.operatorActions = desk.actions;
  // The report describes the run including its own writing, which is its last step.
  const files = await progress.run('report', () => control.writeReport({ ...report, steps: report.steps.map((s) => (s.name === 'report' ? { ...s, state: 'done' as const } : s)) } as FailoverReport));
  report.files = files;
  if (report.outcome === 'completed' || report.outcome === 'completed-with-skips') progress.view.status = 'completed';
  else if (report.outcome === 'rejected') progress.view.status = 'failed';
  return report;
}

function noticeText(r: FailoverReport): string {
  const lines = [`${r.input.mode} failover of ${r.input.group} from ${r.input.from} to ${r.input.to}, requested by ${r.input.requestedBy}: ${r.input.reason}`, `outcome: ${r.outcome}`];
  if (r.rtoMs !== null) lines.push(`RTO ${(r.rtoMs / 1000).toFixed(1)} s (objective ${r.objectives.rtoSeconds} s)`);
  if (r.pointOfNoReturn.reached) lines.push(`lost transactions: ${r.rpo.lost.known ? r.rpo.lost.count : 'unknown until the old primary returns'}`);
  if (r.error) lines.push(`error: ${r.error}`);
  return lines.join('\n');
}
