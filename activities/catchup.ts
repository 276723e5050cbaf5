// Catch-up: let the candidate apply what it has (or must have) before it is promoted.
import { ApplicationFailure } from '@temporalio/common';
import { rows, withConnection, type Conn, type DbContext, type Dialect } from './mysql';
import { normaliseGtids, replicationState } from './inspect';
import { heartbeat } from './heartbeat';
import { contains } from '../domain/gtid';

export interface CatchUpResult {
  site: string;
  target: string;
  executed: string;
  waitedMs: number;
}

/** Waits until the candidate has executed `gtids` (MySQL WAIT_FOR_EXECUTED_GTID_SET, MariaDB MASTER_GTID_WAIT). */
export async function waitForGtids(db: DbContext, input: { gtids: string; timeoutMs: number }): Promise<CatchUpResult> {
  return withConnection(db, async (conn, dialect) => {
    const t0 = Date.now();
    const deadline = t0 + input.timeoutMs;
    // Wait in short slices so the activity heartbeats and a cancelled run stops promptly.
    for (;;) {
      const slice = Math.max(0.1, Math.min(1, (deadline - Date.now()) / 1000));
      if (await waitSlice(conn, dialect, input.gtids, slice)) break;
      heartbeat({ waitingFor: input.gtids, waitedMs: Date.now() - t0 });
      if (Date.now() >= deadline) {
        const executed = await executedOf(conn, dialect);
        throw ApplicationFailure.nonRetryable(
          `site ${db.site.id}: did not reach GTID set ${input.gtids} within ${input.timeoutMs} ms (executed: ${executed})`,
          'CatchUpTimeout',
        );
      }
    }
    return { site: db.site.id, target: input.gtids, executed: await executedOf(conn, dialect), waitedMs: Date.now() - t0 };
  });
}

/** Unplanned: the source is gone, so apply every transaction already in the relay log. */
export async function applyRetrieved(db: DbContext, input: { timeoutMs: number }): Promise<CatchUpResult & { retrieved: string }> {
  const retrieved = await withConnection(db, async (conn, _dialect, server) => (await replicationState(conn, server))?.retrievedGtids ?? '');
  if (!retrieved) {
    const executed = await withConnection(db, (conn, dialect) => executedOf(conn, dialect));
    return { site: db.site.id, target: '', executed, waitedMs: 0, retrieved };
  }
  return { ...(await waitForGtids(db, { gtids: retrieved, timeoutMs: input.timeoutMs })), retrieved };
}

async function waitSlice(conn: Conn, dialect: Dialect, gtids: string, seconds: number): Promise<boolean> {
  if (dialect === 'mysql') {
    const [r] = await rows<{ r: number }>(conn, 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?) AS r', [gtids, seconds]);
    return Number(r!.r) === 0;
  }
  // MASTER_GTID_WAIT waits on gtid_slave_pos, which never holds a server's own writes: ask what it executed first.
  if (contains('mariadb', await executedOf(conn, dialect), gtids)) return true;
  const [r] = await rows<{ r: number }>(conn, 'SELECT MASTER_GTID_WAIT(?, ?) AS r', [gtids, seconds]);
  return Number(r!.r) === 0;
}

export async function executedOf(conn: Conn, dialect: Dialect): Promise<string> {
  const [g] = await rows<{ g: string }>(conn, dialect === 'mysql' ? 'SELECT @@global.gtid_executed AS g' : 'SELECT @@global.gtid_current_pos AS g');
  return normaliseGtids(g!.g);
}
