// Runbook: incident. From what detection reports to a failover, or to nothing.
//
//   detect (the first report names the suspected primary) → confirm (the failure outlasts the confirmation
//   window, then a majority of vantage points cannot reach its database) → failover (unplanned, a child, the
//   target by the failover's own rules) → notify → report → block (no second automatic failover of the group
//   until a person acknowledges this one, or the block expires)
//
// Agents and the alert intake signal-with-start `incident-<group>`: a repeat is a signal to this run.
import { ParentClosePolicy, condition, executeChild, workflowInfo } from '@temporalio/workflow';
import type { Ballot } from '../domain/detection';
import { errorText } from '../domain/errors';
import type { Plan } from '../domain/plan';
import type { Signatures } from './kit/signatures';
import { failoverWorkflowId } from '../domain/runs';
import { failover, type FailoverInput, type FailoverReport } from './failover';
import { confirm, type Confirmation, type Round } from './incident/confirm';
import { Inbox, isFailure, type Received } from './incident/inbox';
import { heldBackText, noticeOf, voteText } from './incident/texts';
import { badInput } from './kit/input';
import { startRunbook, type Runbook, type RunbookReport } from './kit/runbook';
import { control } from './kit/sites';

export interface IncidentInput {
  group: string;
}

export type IncidentOutcome = 'resolved' | 'refuted' | 'undecided' | 'failed-over' | 'failover-failed' | 'held-back' | 'disabled';

export interface IncidentReport extends RunbookReport<'incident', IncidentInput, IncidentOutcome> {
  suspect: string | null;
  signals: Received[];
  duplicates: number;
  /** Each round of votes: who could reach the suspect's database, who could not, who did not answer. */
  rounds: Round[];
  /** Milliseconds from the first report: confirmed (window and quorum), failover started, failover ended. */
  phases: { confirmMs: number | null; failoverMs: number | null };
  failover: { workflowId: string; runId: string; outcome: string; to: string | null; rtoMs: number | null; files: unknown } | null;
  block: {
    since: string;
    until: string;
    acknowledged: { by: string; reason: string; at: string } | null;
    expired: boolean;
    heldBack: Array<{ at: string; suspect: string; verdict: string; votes: string | null }>;
  } | null;
}

export const INCIDENT_STEPS = ['load plan', 'detect', 'confirm', 'failover', 'notify', 'report', 'block'] as const;
type IncidentStep = (typeof INCIDENT_STEPS)[number];

interface Incident {
  run: Runbook<IncidentStep, IncidentReport>;
  inbox: Inbox;
  group: string;
}

export async function incident(input: IncidentInput): Promise<IncidentReport> {
  let signatures: Signatures | null = null;
  const inbox = new Inbox(() => signatures); // before any await: signals come with the start
  const run = await startRunbook<IncidentStep, IncidentInput, IncidentReport>('incident', INCIDENT_STEPS, input, checkInput, {
    suspect: null,
    signals: [],
    duplicates: 0,
    rounds: [],
    phases: { confirmMs: null, failoverMs: null },
    failover: null,
    block: null,
  });
  signatures = run.gate.signatures;
  const i: Incident = { run, inbox, group: input.group };
  if (!run.plan.detection) {
    run.report.outcome = 'disabled';
    run.skipAll(['detect', 'confirm', 'failover', 'block'], 'detection is off in the config');
    return finish(i);
  }
  const suspect = await detect(i);
  const confirmed = suspect !== null && (await confirmStep(i, suspect));
  if (confirmed) await handOver(i, suspect);
  else run.progress.skip('failover', `skipped: ${run.report.outcome}`);
  await finish(i);
  if (run.report.outcome === 'failed-over') await block(i);
  else run.progress.skip('block', 'skipped: no automatic failover ran');
  return run.report;
}

/** 1. Who is suspected: the site the first failure names. */
async function detect(i: Incident): Promise<string | null> {
  const { run, inbox } = i;
  return run.progress.run('detect', async (s) => {
    await condition(() => inbox.signals.some(isFailure), '1s');
    const first = inbox.signals.find(isFailure);
    s.detail = { first: first ?? null, signals: inbox.signals.length };
    if (!first) {
      run.report.outcome = 'resolved';
      run.progress.note('no failure among the signals received: nothing to confirm');
      return null;
    }
    run.report.suspect = inbox.firstSuspect;
    if (!run.report.suspect) {
      run.report.outcome = 'undecided';
      run.progress.note(`the first failure (${first.kind === 'alert' ? first.alertname : first.what}) names no site`);
    }
    return run.report.suspect;
  });
}

/** 2. The window, then the quorum. */
async function confirmStep(i: Incident, suspect: string): Promise<boolean> {
  const { run, inbox, group } = i;
  const t0 = Date.now();
  const c: Confirmation = await run.progress.run(
    'confirm',
    () => confirm(run.plan, group, suspect, inbox, 0),
    (r) => ('rounds' in r ? { verdict: r.verdict, votes: voteText(r.rounds.at(-1)!.tally) } : { verdict: r.verdict, afterMs: r.afterMs }),
  );
  run.report.phases.confirmMs = Date.now() - t0;
  if ('rounds' in c) run.report.rounds = c.rounds;
  run.report.outcome = c.verdict === 'confirmed' ? 'failed-over' : c.verdict;
  run.progress.note(`${suspect}: ${c.verdict}${'rounds' in c ? ` (${voteText(c.rounds.at(-1)!.tally)})` : ' within the confirmation window'}`);
  return c.verdict === 'confirmed';
}

/** 3. The unplanned failover, as a child under the failover id: a manual one running already keeps it. */
async function handOver(i: Incident, suspect: string): Promise<void> {
  const { run, group } = i;
  const t0 = Date.now();
  const args: FailoverInput = {
    group,
    from: suspect,
    mode: 'unplanned',
    reason: `incident ${workflowInfo().workflowId}: ${suspect} confirmed down (${voteText(run.report.rounds.at(-1)!.tally)})`,
    requestedBy: 'detection',
    detected: {
      incident: workflowInfo().workflowId,
      policy: run.plan.detection!.policy,
      suspectSilent: isSilent(run.plan, run.report.rounds, suspect),
    },
  };
  try {
    const r: FailoverReport = await run.progress.run('failover', () =>
      executeChild(failover, { workflowId: failoverWorkflowId(group), args: [args], parentClosePolicy: ParentClosePolicy.ABANDON }),
    );
    run.report.failover = {
      workflowId: r.workflowId,
      runId: r.runId,
      outcome: r.outcome,
      to: r.input.to ?? null,
      rtoMs: r.rtoMs,
      files: r.files ?? null,
    };
    if (!r.outcome.startsWith('completed')) {
      run.report.outcome = 'failover-failed';
      run.report.error = r.error ?? `the failover ended ${r.outcome}`;
    }
  } catch (err) {
    run.report.outcome = 'failover-failed';
    run.report.error = errorText(err);
  }
  run.report.phases.failoverMs = Date.now() - t0;
}

/**
 * A suspect whose lease a majority still sees held, unreleased and unrenewed: its agent, and so its worker,
 * is gone. The failover then asks nothing of that site instead of waiting out a schedule-to-start timeout.
 */
function isSilent(plan: Plan, rounds: Round[], suspect: string): boolean {
  const last = rounds.at(-1);
  const ballots: Ballot[] = last?.ballots ?? [];
  const staleAfter = plan.detection!.lease.renewEveryMs * 1.5;
  const silent = ballots.filter((b) => 'lease' in b && b.lease?.holder === suspect && !b.lease.released && (b.lease.ageMs ?? 0) > staleAfter).length;
  return last !== undefined && silent >= last.tally.majority;
}

/** 4. No second automatic failover until a person acknowledges this one, or the block expires. */
async function block(i: Incident): Promise<void> {
  const { run, inbox, group } = i;
  const blockMs = run.plan.detection!.blockMs;
  const b = (run.report.block = {
    since: new Date().toISOString(),
    until: new Date(Date.now() + blockMs).toISOString(),
    acknowledged: null,
    expired: false,
    heldBack: [],
  } as NonNullable<IncidentReport['block']>);
  run.progress.note(`automatic failover of ${group} blocked until ${b.until}, or until an approver acknowledges it`);
  inbox.blocking = true;
  await run.progress.run('block', async () => {
    const deadline = Date.now() + blockMs;
    for (let mark = inbox.signals.length; ;) {
      const woke = await condition(() => inbox.acknowledged !== null || inbox.failuresSince(mark).length > 0, Math.max(1, deadline - Date.now()));
      if (!woke) return void (b.expired = true);
      if (inbox.acknowledged) return void (b.acknowledged = inbox.acknowledged);
      const from = mark;
      mark = inbox.signals.length;
      await holdBack(i, inbox.failuresSince(from)[0]!, from);
    }
  });
  for (const r of inbox.refusedAcks) run.progress.note(`acknowledgement by ${r.by} refused: ${r.why}`);
  run.report.signals = [...inbox.signals];
  run.report.files = await control.writeReport(run.report);
}

/** A failure during the block is confirmed like any other, and when it is, a notice says why nothing runs. */
async function holdBack(i: Incident, failure: Received, since: number): Promise<void> {
  const { run, inbox, group } = i;
  const b = run.report.block!;
  if (!failure.suspect) return;
  const c = await confirm(run.plan, group, failure.suspect, inbox, since);
  const votes = 'rounds' in c ? voteText(c.rounds.at(-1)!.tally) : null;
  b.heldBack.push({ at: new Date().toISOString(), suspect: failure.suspect, verdict: c.verdict, votes });
  if (c.verdict !== 'confirmed') return;
  const text = heldBackText({ suspect: failure.suspect, input: run.report.input, block: b });
  run.progress.note(text);
  await control
    .notify({ title: `incident ${group}: held back`, severity: 'critical', text, fields: { group, suspect: failure.suspect, votes: votes ?? '' } })
    .catch(() => undefined);
}

async function finish(i: Incident): Promise<IncidentReport> {
  const { run, inbox } = i;
  run.report.signals = [...inbox.signals];
  run.report.duplicates = inbox.duplicates;
  return run.finish(noticeOf(run.report));
}

function checkInput(plan: Plan, input: IncidentInput): void {
  if (!plan.groups.some((g) => g.id === input.group)) {
    throw badInput(`input.group: unknown group '${input.group}' (known groups: ${plan.groups.map((g) => g.id).join(', ')})`);
  }
}
