// Runbook: site failover. A site fails, not a database: every group whose primary is in it fails over, to one
// target, on one decision.
//
//   assess (every server of every group of the site; one target for all) → gate (once, for every group) → [scale
//   up the target (once, every group's services) ‖ DNS change submitted (one change, every name)] → each group a
//   child failover, `siteFailover.concurrency` at a time, each with its own fence, catch-up and point of no
//   return → DNS in sync → pause file sync → standby → notify (one notice) → report
//
// A group that fails before its own point of no return is undone by its child and the others go on: the run
// ends completed-with-failures, naming them. Only when no group failed over is the shared work undone too.
import { workflowInfo } from '@temporalio/workflow';
import { errorText } from '../domain/errors';
import type { Plan } from '../domain/plan';
import { Compensations } from './kit/compensation';
import { approverOnly, badInput } from './kit/input';
import { OperatorDesk } from './kit/operator';
import { isRefusal, refuse, startRunbook, type Runbook, type RunbookReport } from './kit/runbook';
import { longStep, siteActivities } from './kit/sites';
import type { ApprovalOutcome } from './kit/approval';
import { pointDnsAside, waitInsync, type DnsAside } from './failover/dns-aside';
import { pauseFileSync } from './failover/pause-file-sync';
import type { FailoverInput, SharedStep } from './failover';
import { assessSite, type GroupAssessment, type SiteAssessment } from './site-failover/assess';
import { failOverEach, type GroupOutcome } from './site-failover/children';
import { outcomeLine, siteGateRequest, siteNotice } from './site-failover/texts';

export interface SiteFailoverInput {
  site: string;
  mode: 'planned' | 'unplanned';
  /** Required for a planned switchover. Omitted (unplanned only): the site most groups' best candidates are in. */
  to?: string;
  reason: string;
  requestedBy: string;
  /** Accept an estimated loss over the RPO budget up front; requestedBy must be an approver. */
  acceptLoss?: boolean;
}

export type SiteFailoverOutcome = 'completed' | 'completed-with-failures' | 'rejected' | 'compensated';

export interface SiteFailoverReport extends RunbookReport<'site-failover', SiteFailoverInput, SiteFailoverOutcome> {
  to: string | null;
  /** Every group of the site as the gate saw it: included or not, candidate, lag, GTID gap, loss estimate. */
  assessed: GroupAssessment[];
  /** Each group's child failover, in the order they were started. */
  groups: GroupOutcome[];
  /** The steps done once for every group, which the children skipped. */
  shared: SharedStep[];
}

export const SITE_FAILOVER_STEPS = [
  'load plan',
  'assess',
  'gate',
  'scale',
  'dns',
  'groups',
  'pause file sync',
  'standby',
  'notify',
  'report',
] as const;
type SiteStep = (typeof SITE_FAILOVER_STEPS)[number];

const SHARED: SharedStep[] = ['scale', 'dns', 'pause file sync', 'standby', 'notify'];

interface SiteRun {
  run: Runbook<SiteStep, SiteFailoverReport>;
  input: SiteFailoverInput;
  t0: number;
  undo: Compensations;
  desk: OperatorDesk;
  to: string;
  moving: string[];
  unreachable: Set<string>;
  dns?: DnsAside;
}

export async function siteFailover(input: SiteFailoverInput): Promise<SiteFailoverReport> {
  const t0 = Date.now();
  const run = await startRunbook<SiteStep, SiteFailoverInput, SiteFailoverReport>('site-failover', SITE_FAILOVER_STEPS, input, checkInput, {
    to: null,
    assessed: [],
    groups: [],
    shared: SHARED,
  });
  const s: SiteRun = {
    run,
    input,
    t0,
    undo: new Compensations(run.progress),
    desk: new OperatorDesk(run.progress, run.gate.signatures),
    to: '',
    moving: [],
    unreachable: new Set(),
  };
  let shared: Array<Promise<void>> = [];
  try {
    const seen = await assess(s);
    const approval = await gate(s, seen);
    if (approval.decision === 'rejected') return await finish(s);
    // Neither touches writes: side by side, each with its undo registered before it changes anything.
    shared = [scale(s), pointDns(s)];
    await Promise.all(shared);
    await failOverGroups(s, approval);
  } catch (err) {
    s.dns?.cancel();
    await Promise.allSettled([...shared, s.dns?.done]);
    return await compensate(s, err);
  }
  await dnsInSync(s);
  await pauseFileSync(run.plan, run.progress, input.site, s.to);
  await standby(s);
  return finish(s);
}

/** 1. Every server of every group of the site, each through its own site's worker; one target for all. */
async function assess(s: SiteRun): Promise<SiteAssessment> {
  const { run, input } = s;
  const seen = await run.progress.run(
    'assess',
    () => assessSite(run.plan, input),
    (r) => ({ target: r.target, groups: r.groups }),
  );
  run.report.assessed = seen.groups;
  s.moving = seen.groups.filter((g) => g.included).map((g) => g.group);
  for (const g of seen.groups) for (const site of g.unreachable) s.unreachable.add(site);
  if (!seen.target.to) throw refuse(`no site can take over from ${input.site}: ${seen.target.reason}; nothing was changed`);
  if (s.moving.length === 0)
    throw refuse(
      `no group has its primary in ${input.site}: ${seen.groups.map((g) => `${g.group} ${g.why}`).join('; ') || 'no group has a server there'}; nothing was changed`,
    );
  if (input.mode === 'planned' && s.unreachable.has(input.site))
    throw refuse(`a planned switchover needs ${input.site} reachable (it is not); use mode 'unplanned' for a lost site`);
  s.to = seen.target.to;
  run.report.to = s.to;
  run.progress.note(`target ${seen.target.reason}; ${s.moving.length} group(s) fail over: ${s.moving.join(', ')}`);
  return seen;
}

/** 2. One decision for every group: the loss budget judged per group, a split target flagged for a person. */
async function gate(s: SiteRun, seen: SiteAssessment): Promise<ApprovalOutcome> {
  const { run, input } = s;
  const request = siteGateRequest(run.plan, input, seen, servicesOf(run.plan, s.moving));
  const preApproved = input.acceptLoss ? { by: input.requestedBy, reason: input.reason, acceptLoss: true } : undefined;
  // A group whose best candidate is elsewhere is a person's call, whatever the policy.
  const policy = seen.target.flagged.length ? ('manual' as const) : undefined;
  const quorum = input.mode === 'unplanned' ? (['unplanned'] as const) : [];
  const approval = await run.progress.run('gate', () => run.gate.request(request, preApproved, { policy, quorum: [...quorum] }));
  run.report.approval = approval;
  if (approval.decision === 'rejected') {
    run.report.outcome = 'rejected';
    run.progress.note(`rejected by ${approval.by}: ${approval.reason}`);
    run.skipAll(['scale', 'dns', 'groups', 'pause file sync', 'standby'], 'rejected at the gate');
  }
  return approval;
}

/** 3. The target at production size, once for every group's services. Undone from a snapshot taken first. */
async function scale(s: SiteRun): Promise<void> {
  const { run } = s;
  const groups = s.moving.filter((g) => servicesOf(run.plan, [g]).length > 0);
  if (groups.length === 0) return run.progress.skip('scale', 'skipped: no services configured');
  const timeoutMs = run.plan.timeouts.scaleReadyMs;
  const target = siteActivities(run.plan, s.to, longStep(run.plan, timeoutMs));
  await run.progress.run(
    'scale',
    async () => {
      const previous = await siteActivities(run.plan, s.to).readScale({ groups });
      s.undo.add(`scale ${s.to} back`, () => target.restoreScale({ groups, previous, timeoutMs }));
      return target.scaleServices({ groups, profile: 'production', timeoutMs });
    },
    (r) => ({ ...r, groups }),
  );
}

/** 4. One DNS change for every name, submitted now and awaited after the groups (failover/dns-aside.ts). */
async function pointDns(s: SiteRun): Promise<void> {
  const { run, input } = s;
  if (run.plan.dnsRecords.length === 0) return run.progress.skip('dns', 'skipped: no DNS records configured');
  s.dns = pointDnsAside(run.plan, run.progress, s.undo, {
    to: s.to,
    comment: `site failover ${workflowInfo().workflowId}: ${input.reason}`,
    unreachable: s.unreachable,
  });
  s.dns.done.catch(() => undefined); // awaited after the groups
  await s.dns.submitted;
}

/** 5. Each group's own failover, bounded in parallel; it skips what this run did once. */
async function failOverGroups(s: SiteRun, approval: ApprovalOutcome): Promise<void> {
  const { run, input } = s;
  const siteRun = { workflowId: workflowInfo().workflowId, shared: SHARED };
  const inputs: FailoverInput[] = s.moving.map((group) => ({
    group,
    from: input.site,
    to: s.to,
    mode: input.mode,
    reason: `site failover ${siteRun.workflowId}: ${input.reason}`,
    requestedBy: input.requestedBy,
    approvedByParent: approval,
    siteRun,
  }));
  const concurrency = run.plan.siteFailover?.concurrency ?? 16;
  const outcomes = await run.progress.run('groups', async (step) => {
    const done: GroupOutcome[] = [];
    const r = await failOverEach(inputs, concurrency, (o) => {
      done.push(o);
      step.detail = { concurrency, done: done.length, of: inputs.length, outcomes: done.map(outcomeLine) };
    });
    step.detail = { concurrency, done: r.length, of: inputs.length, outcomes: r };
    return r;
  });
  run.report.groups = outcomes;
  run.report.rtoMs = siteRto(s.t0, outcomes);
  // Each group passes its own; the site's is when the last of them did.
  run.report.pointOfNoReturn = { reached: outcomes.some((o) => o.pointOfNoReturn), at: new Date().toISOString(), step: 'promote' };
  const failed = outcomes.filter((o) => !o.outcome.startsWith('completed'));
  if (failed.length === outcomes.length) throw new Error(`no group failed over: ${failed.map(outcomeLine).join('; ')}`);
  if (failed.length) {
    run.report.outcome = 'completed-with-failures';
    run.report.error = `${failed.length} of ${outcomes.length} group(s) did not fail over: ${failed.map(outcomeLine).join('; ')}`;
    run.progress.note(run.report.error);
  }
}

/** The site is back when its last group is: the latest child's end of RTO, from this run's start. */
function siteRto(t0: number, outcomes: GroupOutcome[]): number | null {
  const ends = outcomes.filter((o) => o.rtoMs !== null && o.startedAt).map((o) => Date.parse(o.startedAt!) + o.rtoMs! - t0);
  return ends.length ? Math.max(...ends) : null;
}

/** 6. DNS in sync. The groups are past their points of no return: a failed wait goes to an operator. */
async function dnsInSync(s: SiteRun): Promise<void> {
  const { run, dns } = s;
  if (!dns) return;
  try {
    await dns.done;
  } catch {
    const changeId = dns.changeId();
    if (changeId)
      await s.desk.rollForward(
        'dns',
        () => waitInsync(run.plan, s.to, changeId, { unreachableSites: [...s.unreachable] }),
        (insync) => ({ insync }),
      );
  }
}

/** 7. The old site at standby size (planned only: a lost site is sized by failback), once for every group. */
async function standby(s: SiteRun): Promise<void> {
  const { run, input } = s;
  const groups = s.moving.filter((g) => servicesOf(run.plan, [g]).length > 0);
  if (groups.length === 0) return run.progress.skip('standby', 'skipped: no services configured');
  if (input.mode !== 'planned') return run.progress.skip('standby', `skipped: ${input.site} was lost; the failback runbook sizes it`);
  const timeoutMs = run.plan.timeouts.scaleReadyMs;
  const old = siteActivities(run.plan, input.site, longStep(run.plan, timeoutMs));
  await s.desk.rollForward(
    'standby',
    () => old.scaleServices({ groups, profile: 'standby', timeoutMs }),
    (r) => ({ ...r }),
  );
}

/** Before any group failed over: a refusal is reported as such; anything else undoes the shared work. */
async function compensate(s: SiteRun, err: unknown): Promise<SiteFailoverReport> {
  const { run } = s;
  if (isRefusal(err)) {
    run.report.outcome = 'rejected';
    run.report.error = err.message;
    await finish(s);
    throw err;
  }
  run.report.error = errorText(err);
  run.progress.note(`no group failed over: ${run.report.error}; undoing ${s.undo.size} shared step(s)`);
  const r = await s.undo.runAll();
  run.report.outcome = 'compensated';
  if (r.failed.length) run.report.error += `. NOT undone: ${r.failed.map((x) => `${x.name} (${x.error})`).join('; ')}`;
  run.progress.view.status = 'compensated';
  return finish(s);
}

async function finish(s: SiteRun): Promise<SiteFailoverReport> {
  const { run } = s;
  const outcome = run.report.outcome;
  const status = outcome === 'rejected' ? 'failed' : outcome === 'compensated' ? undefined : 'completed';
  return run.finish(siteNotice(run.report), status);
}

const servicesOf = (plan: Plan, groups: string[]): string[] => plan.groups.filter((g) => groups.includes(g.id)).flatMap((g) => g.services);

function checkInput(plan: Plan, input: SiteFailoverInput): void {
  const shape = '{ site, mode, to?, reason, requestedBy }';
  if (!input || typeof input !== 'object') throw badInput(`input must be ${shape}`);
  const known = plan.sites.map((x) => x.id);
  for (const field of input.to === undefined ? (['site'] as const) : (['site', 'to'] as const))
    if (!known.includes(input[field]!)) throw badInput(`input.${field}: unknown site '${input[field]}' (known sites: ${known.join(', ')})`);
  if (input.site === input.to) throw badInput(`input.to: '${input.to}' is also the site to fail over from`);
  if (input.mode !== 'planned' && input.mode !== 'unplanned') throw badInput(`input.mode: must be 'planned' or 'unplanned', not '${input.mode}'`);
  if (input.to === undefined && input.mode === 'planned')
    throw badInput('input.to: a planned switchover needs the site to switch over to; only an unplanned failover may leave it to the runbook');
  if (!plan.groups.some((g) => g.sites.includes(input.site))) throw badInput(`input.site: no group has a server in '${input.site}'`);
  if (!input.requestedBy) throw badInput('input.requestedBy: who asks for this failover is required');
  approverOnly(plan, 'acceptLoss', input.acceptLoss, input.requestedBy, 'accept a loss over the RPO budget');
}
