// Whether a drill may run: inside the window or overridden by an approver, no other runbook of the group, a
// healthy estate (the preflight runbook), and the approval gate under the configured policy.
import { executeChild, workflowInfo } from '@temporalio/workflow';
import { drillWindow } from '../../domain/drill-window';
import { quorumFor } from '../../domain/plan';
import type { ApprovalOutcome } from '../kit/approval';
import { refuse } from '../kit/runbook';
import { control } from '../kit/sites';
import { preflight, type PreflightReport } from '../preflight';
import { aim, type Drill } from '../drill';
import { gateRequest, preflightRefusal } from './texts';

/** 1–2. The window (a look at the clock: refused first), then preflight. Each refusal says why and changes nothing. */
export async function admit(d: Drill): Promise<void> {
  const { run, input } = d;
  await run.progress.run('window', async (s) => {
    const plan = run.plan.drills;
    const w = plan ? drillWindow(Date.now(), plan) : { inside: true, localTime: new Date().toISOString(), why: 'no drills section: any time' };
    run.report.window = { ...w, override: input.windowOverride ?? null };
    s.detail = { ...run.report.window };
    if (w.inside) return;
    if (!input.windowOverride)
      throw refuse(`outside the drill window: ${w.why} (${w.localTime}); an approver may override with windowOverride { by, reason }`);
    run.progress.note(`outside the window (${w.why}), overridden by ${input.windowOverride.by}: ${input.windowOverride.reason}`);
  });
  await run.progress.run('preflight', async (s) => {
    const self = workflowInfo().runId;
    const others = (await control.runbooksOfGroup({ group: input.group })).filter((r) => r.runId !== self);
    if (others.length)
      throw refuse(
        `${others.map((r) => `a ${r.type} of ${input.group} is running (workflow ${r.workflowId}, started ${r.startedAt})`).join('; ')}; drill after it has finished`,
      );
    const report: PreflightReport = await executeChild(preflight, { args: [{ group: input.group }] });
    s.detail = { ok: report.ok, flags: report.flags };
    if (!report.ok) throw refuse(preflightRefusal(report));
    if (!d.input.site) aim(d, primaryFound(report));
  });
}

/** 3. The approval gate under the configured policy. A rejection ends the drill before anything changed. */
export async function gate(d: Drill): Promise<ApprovalOutcome> {
  const { run } = d;
  // Outside its window the drill needs its own count of approvers, and then people, whatever the policy.
  const outside = run.report.window?.inside === false;
  const people = outside && quorumFor(run.plan, ['drillOutsideWindow']) > 1;
  const opts = outside ? { quorum: ['drillOutsideWindow' as const], ...(people ? { policy: 'manual' as const } : {}) } : {};
  const approval = await run.progress.run('gate', () => run.gate.request(gateRequest(d), undefined, opts));
  run.report.approval = approval;
  if (approval.decision === 'rejected') {
    run.report.verdict = 'refused';
    run.progress.note(`rejected by ${approval.by}: ${approval.reason}`);
  }
  return approval;
}

/** The group's writable server as preflight saw it: the default target of a drill. */
function primaryFound(report: PreflightReport): string {
  const writable = report.sites.filter((s) => s.database && !s.database.readOnly).map((s) => s.site);
  if (writable.length !== 1)
    throw refuse(`preflight found ${writable.length ? writable.join(' and ') : 'no'} writable server(s); name the site to drill with site`);
  return writable[0]!;
}
