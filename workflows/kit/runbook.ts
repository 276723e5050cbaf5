// The shell every runbook shares: the plan, typed progress, the approval gate, a report that starts empty
// and is filled step by step, refusals, and the finish (notify, then write the report from history).
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import type { ProgressView, StepRecord } from '../../domain/steps';
import { ApprovalGate, type ApprovalOutcome } from './approval';
import { Progress } from './progress';
import { bindGroup, control } from './sites';

/** Steps every runbook has: it loads its plan first and ends by notifying and writing its report. */
export type KitStep = 'load plan' | 'notify' | 'report';

export interface RunbookReport<Name extends string = string, Input = unknown, Outcome extends string = string> {
  runbook: Name;
  workflowId: string;
  runId: string;
  input: Input;
  outcome: Outcome;
  startedAt: string;
  endedAt: string;
  objectives: Plan['objectives'];
  rtoMs: number | null;
  pointOfNoReturn: { reached: boolean; at: string | null; step: 'promote' };
  approval: ApprovalOutcome | null;
  refusedDecisions: Array<{ by: string; reason: string; why: string; at: string }>;
  steps: StepRecord[];
  notes: string[];
  error?: string;
  files?: { json: string; markdown: string; html?: string };
}

export interface RunbookNotice {
  title: string;
  severity: 'info' | 'warning' | 'critical';
  text: string;
  fields: Record<string, string>;
}

/** A refusal: nothing was changed, and the message says why. */
export const refuse = (message: string): ApplicationFailure => ApplicationFailure.nonRetryable(message, 'Refused');
export const isRefusal = (err: unknown): err is ApplicationFailure => err instanceof ApplicationFailure && err.type === 'Refused';

export class Runbook<Step extends string, Report extends RunbookReport> {
  constructor(
    readonly plan: Plan,
    readonly progress: Progress<Step | KitStep>,
    readonly gate: ApprovalGate,
    readonly report: Report,
  ) {}

  skipAll(steps: readonly Step[], why: string): void {
    for (const name of steps) this.progress.skip(name, why);
  }

  /**
   * Notifies (a notice that cannot be delivered blocks nothing), then writes the report, its own last step.
   * `notice`: `{ skipped }` when another run sends it (a site failover sends one notice for all its groups).
   */
  async finish(
    notice: RunbookNotice | { skipped: string },
    status?: ProgressView['status'],
    write: (report: Report) => Promise<Report['files']> = (report) => control.writeReport(report),
  ): Promise<Report> {
    const { progress, report } = this;
    report.endedAt = new Date().toISOString();
    if ('skipped' in notice) progress.skip('notify', notice.skipped);
    else
      await progress.run('notify', async (s) => {
        try {
          s.detail = { results: await control.notify(notice) };
        } catch (err) {
          s.detail = { error: errorText(err) };
        }
      });
    report.steps = progress.view.steps;
    report.notes = progress.view.notes;
    report.refusedDecisions = this.gate.refused.map((r) => ({ by: r.by, reason: r.reason, why: r.why, at: r.at }));
    const written = { ...report, steps: report.steps.map((s) => (s.name === 'report' ? { ...s, state: 'done' as const } : s)) };
    report.files = await progress.run('report', () => write(written as Report));
    if (status) progress.view.status = status;
    return report;
  }
}

/**
 * Starts a runbook: progress first (so `progress` answers at once), then the plan, the input check against
 * it, the gate and an empty report with the runbook's own fields.
 */
export async function startRunbook<Step extends string, Input, Report extends RunbookReport<string, Input>>(
  name: Report['runbook'],
  steps: readonly (Step | KitStep)[],
  input: Input,
  check: (plan: Plan, input: Input) => void,
  ownFields: Omit<Report, keyof RunbookReport>,
): Promise<Runbook<Step, Report>> {
  const progress = new Progress<Step | KitStep>(name, steps);
  const t0 = Date.now();
  const plan = await progress.run('load plan', () => control.loadPlan());
  check(plan, input);
  bindGroup(plan, (input as { group?: string }).group);
  const gate = new ApprovalGate(plan, progress);
  const info = workflowInfo();
  const report = {
    runbook: name,
    workflowId: info.workflowId,
    runId: info.runId,
    input,
    outcome: 'completed',
    startedAt: new Date(t0).toISOString(),
    endedAt: '',
    objectives: plan.objectives,
    rtoMs: null,
    pointOfNoReturn: { reached: false, at: null, step: 'promote' },
    approval: null,
    refusedDecisions: [],
    steps: [],
    notes: [],
    ...ownFields,
  } as unknown as Report;
  return new Runbook<Step, Report>(plan, progress, gate, report);
}
