// 7. Cleanup, always, whatever stopped the scenario. Each step records its error and the next one still runs:
// heal → the sites return (a fenced old primary first) → measure → failback (child) → schedules → drift audit.
import { ParentClosePolicy, executeChild, getExternalWorkflowHandle, patched, sleep } from '@temporalio/workflow';
import { auditDrift, type EstateSnapshot } from '../../domain/drill-audit';
import { errorText } from '../../domain/errors';
import { failbackWorkflowId, incidentWorkflowId } from '../../domain/runs';
import { signaturesRequired } from '../../domain/plan';
import { acknowledgeSignal } from '../incident/inbox';
import { failback, type FailbackInput } from '../failback';
import { control, inspectSite, isAvailable, siteActivities } from '../kit/sites';
import type { Drill, DrillStep } from '../drill';
import { estateSnapshot } from './estate';
import { measure } from './measure';
import { driftNotice } from './texts';

const CLEANUP: DrillStep[] = ['heal', 'return', 'measure', 'failback', 'schedules', 'audit'];

export async function cleanUp(d: Drill): Promise<void> {
  const { run } = d;
  if (!d.baseline) return run.skipAll(CLEANUP, 'skipped: the drill stopped before it changed anything');
  await attempt(d, 'heal', async () => {
    const healed = await d.heal.runAll();
    run.report.cleanup.healed = healed.undone;
    if (healed.failed.length) throw new Error(`not healed: ${healed.failed.map((f) => `${f.name} (${f.error})`).join('; ')}`);
    return { healed: healed.undone };
  });
  await attempt(d, 'return', () => sitesReturn(d));
  await attempt(d, 'measure', () => measure(d));
  await attempt(d, 'failback', () => failBack(d));
  await attempt(d, 'schedules', () => restoreSchedules(d));
  await audit(d);
}

/** One cleanup step: its failure is recorded and cleanup goes on. */
async function attempt(d: Drill, step: DrillStep, fn: () => Promise<Record<string, unknown> | void>): Promise<void> {
  try {
    await d.run.progress.run(step, async (s) => {
      const detail = await fn();
      if (detail) s.detail = { ...s.detail, ...detail };
    });
  } catch (err) {
    d.run.report.cleanup.errors.push(`${step}: ${errorText(err)}`);
  }
}

/** Every faulted site answers again; an old primary that was replaced is fenced (its queued fence ran first). */
async function sitesReturn(d: Drill): Promise<Record<string, unknown>> {
  const { run } = d;
  const replaced = d.failover?.pointOfNoReturn.reached ? d.failover.input.from : null;
  const limitMs = run.plan.failback?.returnWaitMs ?? 300_000;
  const deadline = Date.now() + limitMs;
  const seen: Record<string, string> = {};
  for (const site of d.sites) {
    for (;;) {
      const db = await inspectSite(run.plan, site);
      const ready = isAvailable(db) && (site !== replaced || db.readOnly);
      seen[site] = isAvailable(db) ? (db.readOnly ? 'read-only' : 'writable') : db.why;
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`${site} did not return within ${limitMs} ms (${seen[site]})`);
      await sleep(1000);
    }
  }
  run.report.cleanup.returned = true;
  return { sites: seen, reopened: replaced ? null : await reopenPrimary(d) };
}

/**
 * No failover took over (an abort before it, detection missed): a primary that restarted fenced, as a server
 * should after a power loss, is opened again as it was, unless another server of the group is writable.
 */
async function reopenPrimary(d: Drill): Promise<string | null> {
  const { run } = d;
  const primary = d.baseline!.primary;
  if (!primary || !d.sites.includes(primary)) return null;
  const now = await inspectSite(run.plan, primary);
  if (!isAvailable(now) || !now.readOnly) return null;
  const others = run.plan.groups.find((g) => g.id === d.input.group)!.sites.filter((s) => s !== primary);
  const writable = (await Promise.all(others.map((s) => inspectSite(run.plan, s)))).filter((db) => isAvailable(db) && !db.readOnly);
  if (writable.length)
    throw new Error(
      `${primary} came back fenced and ${writable.map((db) => (db as { site: string }).site).join(', ')} is writable: not reopening it`,
    );
  await siteActivities(run.plan, primary).unfenceDatabase({ wasWritable: true });
  run.progress.note(`${primary} came back read-only with no failover behind it: opened for writes again, as at the baseline`);
  return primary;
}

/** The failback runbook as a child, under the drill's approval: the errant writes are the drill's own. */
async function failBack(d: Drill): Promise<Record<string, unknown> | void> {
  const { run, input } = d;
  const promoted = d.failover?.pointOfNoReturn.reached ? d.failover.input.to : undefined;
  if (!promoted) return void run.progress.skip('failback', 'skipped: no failover promoted another site');
  const args: FailbackInput = {
    group: input.group,
    returning: d.failover!.input.from,
    current: promoted,
    requestedBy: input.requestedBy,
    reason: `drill ${d.drillId} cleanup: ${input.reason}`,
    discardErrant: true,
    approvedByParent: run.report.approval ?? undefined,
  };
  const child = await executeChild(failback, {
    workflowId: failbackWorkflowId(input.group),
    args: [args],
    parentClosePolicy: ParentClosePolicy.ABANDON,
  });
  d.failbackSteps = child.steps;
  run.report.cleanup.failback = { workflowId: child.workflowId, outcome: child.outcome, rtoMs: child.rtoMs, files: child.files ?? null };
  if (child.outcome !== 'completed') throw new Error(`the failback ended ${child.outcome}: ${child.error ?? 'see its report'}`);
  const acknowledged = await acknowledgeIncident(d);
  return { workflowId: child.workflowId, outcome: child.outcome, errant: child.errant.count, reseeded: child.reseed.done, ...acknowledged };
}

/**
 * The incident that failed over for a drill of detection blocks the next automatic failover until someone
 * acknowledges it: the drill's requester does, as the failback has put things back. An acknowledgement by a
 * non-approver is refused by the incident, and the block stays.
 */
async function acknowledgeIncident(d: Drill): Promise<Record<string, unknown>> {
  const { input } = d;
  if (input.recovery !== 'detection' || !patched('drill-acknowledges-incident')) return {};
  const incident = incidentWorkflowId(input.group);
  // A runbook has no key to sign with: where acknowledgements must be signed, a person gives it.
  if (signaturesRequired(d.run.plan)) {
    d.run.progress.note(`${incident} blocks the next automatic failover until an approver acknowledges it, signed: drctl acknowledge ${incident}`);
    return { acknowledged: null, why: 'acknowledgements must be signed by an approver' };
  }
  try {
    await getExternalWorkflowHandle(incident).signal(acknowledgeSignal, {
      by: input.requestedBy,
      reason: `drill ${d.drillId}: its failover, failed back`,
    });
    return { acknowledged: incident };
  } catch (err) {
    return { acknowledged: null, why: errorText(err) };
  }
}

/** Schedules as they were at the baseline (a failover pauses the file sync of the site it left). */
async function restoreSchedules(d: Drill): Promise<Record<string, unknown>> {
  const now = await control.scheduleStates();
  const changed: string[] = [];
  for (const [scheduleId, paused] of Object.entries(d.baseline!.schedules)) {
    if (now[scheduleId] === undefined || now[scheduleId] === paused) continue;
    await control.setSchedulePaused({ scheduleId, paused, reason: `drill ${d.drillId} cleanup: back to its state before the drill` });
    changed.push(`${scheduleId} ${paused ? 'paused' : 'resumed'}`);
  }
  d.run.report.cleanup.schedules = changed;
  return { changed };
}

/** The drift audit. Replication settles for a few seconds after a failback, so a difference must last to count. */
async function audit(d: Drill): Promise<void> {
  const { run } = d;
  const maxLag = run.plan.failback?.maxLagSeconds ?? 5;
  let now: EstateSnapshot | undefined;
  try {
    // The drill leaves no rows: removed on the primary (and so everywhere), once every client has stopped.
    if (d.baseline?.primary) await siteActivities(run.plan, d.baseline.primary).deleteStreamRows({ drill: d.drillId });
    for (let tries = 0; tries < 10; tries++) {
      if (tries) await sleep(2000);
      now = await estateSnapshot(d, 'audit');
      run.report.cleanup.drift = auditDrift(d.baseline!, now, maxLag);
      if (run.report.cleanup.drift.length === 0) break;
    }
  } catch (err) {
    run.report.cleanup.errors.push(`audit: ${errorText(err)}`);
  }
  const { drift, errors } = run.report.cleanup;
  run.report.cleanup.verdict = errors.length ? 'failed' : drift.length ? 'drift' : 'clean';
  if (drift.length || errors.length) await control.notify(driftNotice(d)).catch(() => undefined);
}
