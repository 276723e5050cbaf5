// Runbook: drill. A fault on purpose, measured against the objectives, and always cleaned up.
//
//   window (or an approver's override) → preflight (no other runbook of the group, every site healthy) → gate
//   → baseline (what cleanup must return to) → write stream (through the router, and inside the site)
//   → inject (power-loss, isolation, city-loss; the heal registered at once) → recover (the unplanned failover
//   as a child, or the estate's own detection) → settle
//   ── CLEANUP, always: after success, failure, an abort or a cancellation ──
//   heal → the site returns (its queued fence first) → measure (RTO, RPO, split brain) → failback (child)
//   → schedules back → drift audit against the baseline → report (JSON, Markdown, HTML) → notify
import { CancellationScope, isCancellation, sleep, upsertMemo, workflowInfo } from '@temporalio/workflow';
import { DRILL_SCENARIOS, type DrillInput, type DrillRecovery, type DrillReportBody, type FaultKind } from '../domain/drill';
import { errorText } from '../domain/errors';
import type { EstateSnapshot } from '../domain/drill-audit';
import type { Plan } from '../domain/plan';
import { AbortDesk } from './drill/abort';
import { admit, gate } from './drill/admission';
import { estateSnapshot } from './drill/estate';
import { injectFault } from './drill/fault';
import { recover } from './drill/recover';
import { startStreams, type Streams } from './drill/stream';
import { cleanUp } from './drill/cleanup';
import { verdictOf } from './drill/verdict';
import { noticeOf, startNotice } from './drill/texts';
import { Compensations } from './kit/compensation';
import { badInput, checkGroupSites } from './kit/input';
import { isRefusal, startRunbook, type Runbook, type RunbookReport } from './kit/runbook';
import { control } from './kit/sites';
import type { FailoverReport } from './failover';
import type { FailbackReport } from './failback';

export type { DrillInput } from '../domain/drill';

export type DrillReport = RunbookReport<'drill', DrillInput, DrillReportBody['verdict']> &
  DrillReportBody & { files?: { json: string; markdown: string; html?: string } };

export const DRILL_STEPS = [
  'load plan',
  'window',
  'preflight',
  'gate',
  'baseline',
  'stream',
  'inject',
  'recover',
  'settle',
  'heal',
  'return',
  'measure',
  'failback',
  'schedules',
  'audit',
  'notify',
  'report',
] as const;
export type DrillStep = (typeof DRILL_STEPS)[number];

/** One drill in flight: the kit's shell, the abort desk, the heal to run, and what each step learned. */
export interface Drill {
  run: Runbook<DrillStep, DrillReport>;
  input: DrillInput & { site: string; recovery: DrillRecovery };
  /** The run's name in the stream's rows and journals. */
  drillId: string;
  /** The sites the fault hits: one, or every site of the city. */
  sites: string[];
  fault: FaultKind | null;
  abort: AbortDesk;
  heal: Compensations;
  baseline?: EstateSnapshot;
  streams?: Streams;
  injectedAt?: number;
  /** The failover that recovered, once it ended. */
  failover?: FailoverReport;
  /** The failback's steps, for the timeline. */
  failbackSteps?: FailbackReport['steps'];
  detectionMissed?: boolean;
}

export async function drill(input: DrillInput): Promise<DrillReport> {
  const run = await startRunbook<DrillStep, DrillInput, DrillReport>('drill', DRILL_STEPS, input, checkInput, emptyBody(input));
  const d = newDrill(run, input);
  upsertMemo({ group: input.group, scenario: input.scenario, recovery: d.input.recovery });
  try {
    await d.abort.scenarioScope(async () => {
      await admit(d);
      if ((await gate(d)).decision === 'rejected') return;
      await control.notify(startNotice(d)).catch(() => undefined);
      d.baseline = await estateSnapshot(d, 'baseline');
      d.streams = await startStreams(d);
      await injectFault(d);
      await recover(d);
      await run.progress.run('settle', () => sleep(run.plan.drills?.settleMs ?? 2000));
    });
  } catch (err) {
    noteStop(d, err);
  }
  await CancellationScope.nonCancellable(() => cleanUp(d));
  return CancellationScope.nonCancellable(() => finish(d));
}

function newDrill(run: Runbook<DrillStep, DrillReport>, input: DrillInput): Drill {
  const info = workflowInfo();
  const d: Drill = {
    run,
    input: { ...input, site: input.site ?? '', recovery: input.recovery ?? 'runbook' },
    // The run id alone: unique, where a prefix of it is not (it begins with a timestamp).
    drillId: `drill-${info.runId}`,
    sites: [],
    fault: input.scenario === 'isolation' ? 'isolate' : input.scenario === 'switchover-round-trip' ? null : 'power-off',
    abort: new AbortDesk(run.progress, run.gate.signatures),
    heal: new Compensations(run.progress),
  };
  run.report.recovery = d.input.recovery;
  if (input.site) aim(d, input.site);
  return d;
}

/** The site the fault hits (named, or the primary preflight found) and, for city-loss, every site of its city. */
export function aim(d: Drill, site: string): void {
  const { run, input } = d;
  const group = run.plan.groups.find((g) => g.id === input.group)!;
  const city = Object.values(run.plan.drills?.cities ?? {}).find((sites) => sites.includes(site)) ?? [site];
  d.input.site = site;
  d.sites = input.scenario === 'city-loss' ? city.filter((s) => group.sites.includes(s)) : [site];
  run.report.site = site;
  run.report.sites = d.sites;
}

/** Why the scenario stopped early: an abort, a refusal, or a failure. Cleanup runs after each. */
function noteStop(d: Drill, err: unknown): void {
  const { run } = d;
  if (d.abort.aborted || isCancellation(err)) {
    run.report.aborted = d.abort.aborted ?? { by: 'temporal', reason: 'the workflow was cancelled', at: new Date().toISOString(), step: 'unknown' };
    return;
  }
  run.report.error = errorText(err);
  if (isRefusal(err)) run.report.verdict = 'refused';
  run.progress.note(`${isRefusal(err) ? 'refused' : 'failed'}: ${run.report.error}`);
}

async function finish(d: Drill): Promise<DrillReport> {
  const { run } = d;
  await verdictOf(d);
  const status = run.report.verdict === 'passed' ? 'completed' : 'failed';
  return run.finish(noticeOf(run.report), status, (report) => control.writeDrillReport(report));
}

function emptyBody(input: DrillInput): Omit<DrillReport, keyof RunbookReport> {
  return {
    scenario: input?.scenario,
    site: input?.site ?? '',
    sites: [],
    recovery: input?.recovery ?? 'runbook',
    verdict: 'failed',
    window: { inside: false, localTime: '', why: 'not checked', override: null },
    measurement: {
      injectedAt: null,
      promotedAt: null,
      firstGoodWriteAt: null,
      newPrimary: null,
      rtoMs: null,
      phases: { detect: null, decide: null, fence: null, 'catch up': null, dns: null, promote: null, route: null },
      lostAckedWrites: null,
      lostWrites: [],
      lostSpanMs: null,
      lostGtids: null,
      lostGtidsNote: 'not measured',
      fileRpoMs: null,
      splitBrainWrites: null,
      writeUnavailableMs: null,
    },
    verdicts: [],
    stream: null,
    timeline: [],
    failover: null,
    cleanup: { healed: [], returned: false, failback: null, schedules: [], drift: [], verdict: 'clean', errors: [] },
    aborted: null,
    trend: { points: [], medianRtoMs: null, regression: false, why: 'not computed' },
  };
}

function checkInput(plan: Plan, input: DrillInput): void {
  const shape = '{ group, scenario, site?, requestedBy, reason, recovery? }';
  checkGroupSites(plan, input, shape, input?.site === undefined ? [] : ['site']);
  if (!DRILL_SCENARIOS.includes(input.scenario))
    throw badInput(`input.scenario: must be one of ${DRILL_SCENARIOS.join(', ')}, not '${input.scenario}'`);
  if (input.recovery !== undefined && input.recovery !== 'runbook' && input.recovery !== 'detection')
    throw badInput(`input.recovery: must be 'runbook' or 'detection', not '${input.recovery}'`);
  if (input.scenario === 'switchover-round-trip' && input.recovery === 'detection')
    throw badInput(`input.recovery: a switchover round trip has no fault to detect; leave recovery out`);
  if (!input.requestedBy) throw badInput('input.requestedBy: who asks for this drill is required');
  if (!input.reason) throw badInput('input.reason: why this drill runs is required');
  if (input.windowOverride && !plan.approval.approvers.includes(input.windowOverride.by))
    throw badInput(`input.windowOverride.by: '${input.windowOverride.by}' is not an approver (approvers: ${plan.approval.approvers.join(', ')})`);
}
