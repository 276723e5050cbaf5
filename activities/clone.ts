// Re-seed by clone: MySQL's own way to rebuild a replica. The returning site copies the current primary's
// data physically (CLONE INSTANCE FROM …), restarts under its monitor (systemd, mysqld_safe), and comes back
// with the primary's executed GTID set, so auto-positioning starts right after the copy.
import { ApplicationFailure } from '@temporalio/common';
import { connect, rows, scalar, withConnection, type Conn, type DbContext } from './mysql';
import { executedOf } from './catchup';
import { heartbeat } from './heartbeat';
import { resolveSecret } from './secrets';
import type { Site } from '../config/schema';
import type { ReseedInput, ReseedResult } from './reseed';

/** Whether both servers have the clone plugin active: what the `auto` re-seed method looks for. */
export async function cloneAvailable(recipient: DbContext, donor: DbContext): Promise<boolean> {
  const active = (db: DbContext) =>
    withConnection(db, async (conn, dialect) =>
      dialect === 'mysql'
        ? (await scalar<string>(conn, "SELECT PLUGIN_STATUS FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'clone'")) === 'ACTIVE'
        : false,
    );
  return (await active(recipient)) && (await active(donor));
}

export async function cloneFrom(
  db: DbContext,
  input: ReseedInput & { databases: string[]; dropped: string[] },
  restartWaitMs = 120_000,
): Promise<ReseedResult> {
  const t0 = Date.now();
  const bootedBefore = await startClone(db, input.source);
  const status = await afterRestart(db, bootedBefore, restartWaitMs);
  if (status.state !== 'Completed') {
    throw ApplicationFailure.nonRetryable(`site ${db.site.id}: clone from ${input.source.id} ended ${status.state}: ${status.error}`, 'CloneFailed');
  }
  const { executedAfter, tables } = await withConnection(db, async (c, dialect) => ({
    executedAfter: await executedOf(c, dialect),
    tables: Number(
      await scalar(
        c,
        `SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA IN (${input.databases.map(() => '?').join(', ') || 'NULL'})`,
        input.databases,
      ),
    ),
  }));
  return {
    site: db.site.id,
    source: input.source.id,
    method: 'clone',
    gtidPosition: executedAfter,
    databases: input.databases,
    dropped: input.dropped,
    bytes: status.bytes,
    tables,
    durationMs: Date.now() - t0,
    executedAfter,
  };
}

/** Runs CLONE INSTANCE, with progress in the heartbeats. Returns when the server booted before it. */
async function startClone(db: DbContext, source: Site): Promise<number> {
  const { host, port, user, password } = source.mysql;
  const conn = await connect(db);
  const ticker = setInterval(
    () =>
      void progressOf(db).then(
        (p) => heartbeat({ method: 'clone', ...p }),
        () => undefined,
      ),
    1000,
  );
  try {
    if (Number(await scalar(conn, 'SELECT @@global.read_only')) !== 1)
      throw ApplicationFailure.nonRetryable(`site ${db.site.id}: is writable; a re-seed needs it fenced (read_only) first`, 'NotFenced');
    const bootedBefore = await bootedAt(conn);
    await conn.query('SET GLOBAL clone_valid_donor_list = ?', [`${host}:${port}`]);
    // CLONE is refused under super_read_only; read_only stays on, and the server restarts with its own
    // configuration (a replica's should say super_read_only=ON, as the lab's does).
    await conn.query('SET GLOBAL super_read_only = OFF');
    try {
      // It answers OK and then restarts into the copy; without a monitor it answers 3707 instead.
      await conn.query(`CLONE INSTANCE FROM ?@?:${Number(port)} IDENTIFIED BY ?`, [user, host, resolveSecret(password, db.baseDir)]);
    } catch (err) {
      if (!connectionLost(err)) throw cloneError(db, err);
    }
    return bootedBefore;
  } finally {
    clearInterval(ticker);
    conn.destroy();
  }
}

/** A restart may also cut the connection before the answer: that is not a failure yet. */
function connectionLost(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'PROTOCOL_CONNECTION_LOST' || code === 'ECONNRESET';
}

function cloneError(db: DbContext, err: unknown): Error {
  const e = err as { code?: string; errno?: number; sqlMessage?: string; message: string };
  const why = e.errno === 3707 ? ' (the server has no monitor to restart it: run it under systemd or mysqld_safe)' : '';
  return ApplicationFailure.nonRetryable(
    `site ${db.site.id}: CLONE INSTANCE failed: ${e.code ?? ''} ${e.sqlMessage ?? e.message}${why}`.trim(),
    'CloneFailed',
  );
}

/** When the server started, in seconds since the epoch: a restart into the clone shows as a later one. */
async function bootedAt(c: Conn): Promise<number> {
  return Number(await scalar(c, "SELECT UNIX_TIMESTAMP() - VARIABLE_VALUE FROM performance_schema.global_status WHERE VARIABLE_NAME = 'Uptime'"));
}

async function afterRestart(db: DbContext, bootedBefore: number, waitMs: number): Promise<{ state: string; error: string; bytes: number }> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      return await withConnection(db, async (c) => {
        // Still the server that took the CLONE statement: its restart is yet to come.
        if ((await bootedAt(c)) <= bootedBefore) throw new Error('not restarted yet');
        const [s] = await rows<{ STATE: string; ERROR_NO: number; ERROR_MESSAGE: string }>(
          c,
          'SELECT STATE, ERROR_NO, ERROR_MESSAGE FROM performance_schema.clone_status',
        );
        const bytes = Number(await scalar(c, 'SELECT COALESCE(SUM(DATA), 0) FROM performance_schema.clone_progress'));
        return { state: s?.STATE ?? 'unknown', error: s ? `${s.ERROR_NO} ${s.ERROR_MESSAGE}` : 'no clone_status row', bytes };
      });
    } catch (err) {
      if (Date.now() > deadline) {
        throw ApplicationFailure.nonRetryable(
          `site ${db.site.id}: did not come back within ${waitMs} ms after the clone: ${(err as Error).message}`,
          'CloneNoRestart',
        );
      }
      heartbeat({ method: 'clone', stage: 'RESTART', waitedMs: waitMs - (deadline - Date.now()) });
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** performance_schema.clone_progress, from a second connection while CLONE INSTANCE blocks the first. */
async function progressOf(db: DbContext): Promise<{ stage: string; bytes: number; estimate: number }> {
  let c: Conn | null = null;
  try {
    c = await connect(db);
    const stages = await rows<{ STAGE: string; STATE: string; ESTIMATE: number; DATA: number }>(
      c,
      'SELECT STAGE, STATE, ESTIMATE, DATA FROM performance_schema.clone_progress',
    );
    const current = stages.find((s) => s.STATE === 'In Progress') ?? stages[stages.length - 1];
    return {
      stage: current?.STAGE ?? 'starting',
      bytes: stages.reduce((n, s) => n + Number(s.DATA), 0),
      estimate: stages.reduce((n, s) => n + Number(s.ESTIMATE), 0),
    };
  } finally {
    c?.destroy();
  }
}
