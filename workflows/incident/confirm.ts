// Confirm before anything changes: every vantage point watches the suspect's database for itself through the
// confirmation window, and only a majority that saw it down to the window's end confirms. A failure that
// clears within the window (its reporter says so) starts nothing.
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
  const windowEnd = windowEndOf(inbox, suspect, since, plan.detection!.confirmWindowMs);
  // The watch starts now and ends at the window's end on each vantage point's own clock, so that the verdict
  // is there the moment the window closes, not one activity round trip later.
  const watch = new VoteRound(plan, group, suspect, windowEnd);
  // Only a confirmation ends the window early: a database seen up again within it is a failure that cleared,
  // and its reporter's recovery (resolved) is waited for until the window ends.
  await condition(() => !inbox.active(suspect, since) || watch.confirmed, Math.max(1, windowEnd - Date.now()));
  if (!inbox.active(suspect, since)) return { verdict: 'resolved', afterMs: Date.now() - t0 };
  const rounds = [await watch.result()];
  for (let n = 2; n <= ROUNDS && rounds.at(-1)!.tally.verdict === 'undecided'; n++) {
    await sleep(plan.detection!.probeEveryMs * 2);
    rounds.push(await new VoteRound(plan, group, suspect, null).result());
  }
  return { verdict: rounds.at(-1)!.tally.verdict, rounds };
}

/**
 * The window runs from when the failure was first seen (by the agent, or when Prometheus began the alert), not
 * from when the incident heard of it; a time in the future (another clock) counts as now. Epoch ms.
 */
function windowEndOf(inbox: Inbox, suspect: string, since: number, windowMs: number): number {
  const first = inbox.failuresSince(since).find((s) => s.suspect === null || s.suspect === suspect);
  const seenAt = first ? Date.parse(first.kind === 'agent' ? first.at : first.startsAt) : NaN;
  const now = Date.now();
  return (Number.isFinite(seenAt) && seenAt <= now ? seenAt : now) + windowMs;
}

/** Every vantage point at once; decided as soon as a majority is reached either way. */
class VoteRound {
  private readonly vantage: string[];
  private readonly ballots: Ballot[] = [];

  constructor(plan: Plan, group: string, suspect: string, until: number | null) {
    this.vantage = vantagePointsOf(plan.groups.find((g) => g.id === group)!.sites, suspect, plan.detection!.control);
    for (const v of this.vantage) {
      const ask = vantageActivities(plan, v, until === null ? 0 : Math.max(0, until - Date.now()));
      const vote = until === null ? ask.voteOnPrimary({ group, suspect }) : ask.watchPrimary({ group, suspect, until });
      vote.then(
        (b) => this.ballots.push(b),
        (err) => this.ballots.push({ vantage: v, abstained: errorText(err) }),
      );
    }
  }

  get confirmed(): boolean {
    return tally(this.vantage, this.ballots).verdict === 'confirmed';
  }

  get decided(): boolean {
    return this.ballots.length === this.vantage.length || tally(this.vantage, this.ballots).verdict !== 'undecided';
  }

  async result(): Promise<Round> {
    await condition(() => this.decided);
    return { at: new Date().toISOString(), tally: tally(this.vantage, this.ballots), ballots: [...this.ballots] };
  }
}
