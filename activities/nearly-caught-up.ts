// Before a switchover fences the primary: wait until the candidate's backlog (received but not yet applied) is
// small, so that the catch-up inside the write pause is short however loaded the replica was.
import { ApplicationFailure } from '@temporalio/common';
import { countGtids, sizeOfSet, subtractGtids } from '../domain/gtid';
import { withConnection, type DbContext } from './mysql';
import { replicationState } from './inspect';
import { executedOf } from './catchup';
import { heartbeat } from './heartbeat';

export interface NearlyCaughtUpInput {
  /** Close enough when at most this many received transactions are still to apply… */
  maxTransactions: number;
  /** …or when the backlog would take at most this long at the apply rate just measured. */
  maxApplyMs: number;
  timeoutMs: number;
}

export interface NearlyCaughtUpResult {
  site: string;
  backlog: number;
  /** Transactions applied per second over the last poll; null before a second poll. */
  applyRate: number | null;
  estimatedApplyMs: number | null;
  waitedMs: number;
  polls: number;
}

const POLL_MS = 50;

export async function waitNearlyCaughtUp(db: DbContext, input: NearlyCaughtUpInput): Promise<NearlyCaughtUpResult> {
  return withConnection(db, async (conn, dialect, server) => {
    const t0 = Date.now();
    let last: { at: number; executed: number } | null = null;
    for (let polls = 1; ; polls++) {
      const replication = await replicationState(conn, server);
      if (!replication) throw ApplicationFailure.nonRetryable(`site ${db.site.id}: not a replica; nothing to catch up`, 'NotAReplica');
      const executed = await executedOf(conn, dialect);
      const backlog = countGtids(subtractGtids(dialect, replication.retrievedGtids, executed));
      const now = Date.now();
      const done = sizeOfSet(dialect, executed);
      const applyRate = last && now > last.at ? ((done - last.executed) * 1000) / (now - last.at) : null;
      const estimatedApplyMs = backlog === 0 ? 0 : applyRate ? Math.round((backlog / applyRate) * 1000) : null;
      const state = {
        site: db.site.id,
        backlog,
        applyRate: applyRate === null ? null : Math.round(applyRate),
        estimatedApplyMs,
        waitedMs: now - t0,
        polls,
      };
      if (backlog <= input.maxTransactions || (estimatedApplyMs !== null && estimatedApplyMs <= input.maxApplyMs)) return state;
      if (now - t0 >= input.timeoutMs) {
        throw ApplicationFailure.nonRetryable(
          `site ${db.site.id} is still ${backlog} received transaction(s) behind after ${input.timeoutMs} ms` +
            (estimatedApplyMs === null ? '' : ` (about ${estimatedApplyMs} ms to apply at ${state.applyRate}/s)`) +
            `; bound: ${input.maxTransactions} transactions or ${input.maxApplyMs} ms; nothing was fenced`,
          'ReplicaTooFarBehind',
        );
      }
      heartbeat(state);
      last = { at: now, executed: done };
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  });
}
