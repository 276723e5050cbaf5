// Confirm before anything changes: the failure outlasts the confirmation window, then every vantage point asks
// for itself whether the suspect's database answers, and only a majority that says "down" confirms.
import { condition, sleep } from '@temporalio/workflow';
import { tally, vantagePointsOf, type Ballot, type Tally } from '../../domain/detection';
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import { vantageActivities } from '../kit/vantage';
import type { Inbox } from './inbox';

export interface Round {
  at: string;
  tally: Tally;
  ballots: Ballot[];
}

export type Confirmation = { verdict: 'resolved'; afterMs: number } | { verdict: Tally['verdict']; rounds: Round[] };

const ROUNDS = 5;

/** `since`: the inbox position where this failure began (0 for the incident's first). */
export async function confirm(plan: Plan, group: string, suspect: string, inbox: Inbox, since: number): Promise<Confirmation> {
  const t0 = Date.now();
  const windowMs = plan.detection!.confirmWindowMs;
  const leftMs = windowLeftMs(inbox, suspect, since, windowMs);
  if (leftMs > 0) await condition(() => !inbox.active(suspect, since), leftMs);
  if (!inbox.active(suspect, since)) return { verdict: 'resolved', afterMs: Date.now() - t0 };
  const rounds: Round[] = [];
  for (let n = 1; n <= ROUNDS; n++) {
    const round = await voteRound(plan, group, suspect);
    rounds.push(round);
    if (round.tally.verdict !== 'undecided') return { verdict: round.tally.verdict, rounds };
    await sleep(plan.detection!.probeEveryMs * 2);
  }
  return { verdict: 'undecided', rounds };
}

/**
 * The window runs from when the failure was first seen (by the agent, or when Prometheus began the alert), not
 * from when the incident heard of it; a time in the future (another clock) counts as now.
 */
function windowLeftMs(inbox: Inbox, suspect: string, since: number, windowMs: number): number {
  const first = inbox.failuresSince(since).find((s) => s.suspect === null || s.suspect === suspect);
  const seenAt = first ? Date.parse(first.kind === 'agent' ? first.at : first.startsAt) : NaN;
  const now = Date.now();
  const from = Number.isFinite(seenAt) && seenAt <= now ? seenAt : now;
  return from + windowMs - now;
}

/** Every vantage point at once; the round ends as soon as the majority is reached either way. */
async function voteRound(plan: Plan, group: string, suspect: string): Promise<Round> {
  const vantage = vantagePointsOf(plan.groups.find((g) => g.id === group)!.sites, suspect, plan.detection!.control);
  const ballots: Ballot[] = [];
  for (const v of vantage) {
    vantageActivities(plan, v)
      .voteOnPrimary({ group, suspect })
      .then(
        (vote) => ballots.push(vote),
        (err) => ballots.push({ vantage: v, abstained: errorText(err) }),
      );
  }
  await condition(() => ballots.length === vantage.length || tally(vantage, ballots).verdict !== 'undecided');
  return { at: new Date().toISOString(), tally: tally(vantage, ballots), ballots: [...ballots] };
}
