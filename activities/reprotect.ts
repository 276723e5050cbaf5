// Reprotect: the returning site becomes a replica of the current primary, with GTID auto-positioning
// (MariaDB master_use_gtid=slave_pos, MySQL SOURCE_AUTO_POSITION=1), and catches up.
import { ApplicationFailure } from '@temporalio/common';
import type { Site } from '../config/schema';
import { rows, scalar, withConnection, type DbContext } from './mysql';
import { replicationState } from './inspect';
import { executedOf } from './catchup';
import { resolveSecret } from './secrets';
import { heartbeat } from './heartbeat';

export interface ReprotectResult {
  site: string;
  source: string;
  sourceAddress: string;
  /** MariaDB: the gtid_slave_pos replication starts after. MySQL: the executed set it auto-positions from. */
  startPosition: string;
  replicationUser: string;
  startedAt: string;
}

/**
 * Points this (fenced) site at `source` and starts replication. `slavePos` (MariaDB) sets where replication
 * starts; without it the current gtid_slave_pos is kept (after a re-seed it is the copy's position).
 * Credentials are the site's replication user and secret reference, resolved here.
 */
export async function replicateFrom(db: DbContext, input: { source: Site; slavePos: string | null }): Promise<ReprotectResult> {
  const m = db.site.mysql;
  const user = m.replicationUser ?? input.source.mysql.replicationUser;
  const ref = m.replicationPassword ?? input.source.mysql.replicationPassword;
  if (!user || !ref) {
    throw ApplicationFailure.nonRetryable(
      `site ${db.site.id}: no replicationUser/replicationPassword in the config for it or for ${input.source.id}`,
      'BadConfig',
    );
  }
  const password = resolveSecret(ref, db.baseDir);
  return withConnection(db, async (conn, dialect, server) => {
    const [ro] = await rows<{ ro: number }>(conn, 'SELECT @@global.read_only AS ro');
    // A replica that takes writes would be a second primary: only a fenced site is reprotected.
    if (Number(ro!.ro) !== 1)
      throw ApplicationFailure.nonRetryable(`site ${db.site.id}: is writable; refusing to make it a replica before it is fenced`, 'NotFenced');
    const { host, port } = input.source.mysql;
    await conn.query(server.syntax.stop);
    if (dialect === 'mariadb' && input.slavePos !== null) await conn.query('SET GLOBAL gtid_slave_pos = ?', [input.slavePos]);
    await conn.query(server.syntax.changeSource, [host, port, user, password]);
    await conn.query(server.syntax.start);
    const startPosition =
      dialect === 'mysql' ? await executedOf(conn, dialect) : String(await scalar<string>(conn, 'SELECT @@global.gtid_slave_pos'));
    return {
      site: db.site.id,
      source: input.source.id,
      sourceAddress: `${host}:${port}`,
      startPosition,
      replicationUser: user,
      startedAt: new Date().toISOString(),
    };
  });
}

export interface CaughtUpResult {
  site: string;
  lagSeconds: number;
  waitedMs: number;
  executed: string;
  polls: number;
}

/** Waits until replication runs and the lag is at most maxLagSeconds. A replication error fails at once. */
export async function waitReplicaCaughtUp(db: DbContext, input: { maxLagSeconds: number; timeoutMs: number }): Promise<CaughtUpResult> {
  return withConnection(db, async (conn, dialect, server) => {
    const t0 = Date.now();
    let polls = 0;
    for (;;) {
      polls++;
      const r = await replicationState(conn, server);
      if (!r) throw ApplicationFailure.nonRetryable(`site ${db.site.id}: has no replication configured`, 'NotReplicating');
      const error = [r.lastIoError, r.lastSqlError].filter(Boolean).join('; ');
      if (error && (!r.ioRunning || !r.sqlRunning))
        throw ApplicationFailure.nonRetryable(
          `site ${db.site.id}: replication from ${r.sourceHost}:${r.sourcePort} stopped: ${error}`,
          'ReplicationBroken',
        );
      heartbeat({ lagSeconds: r.secondsBehind, io: r.ioRunning, sql: r.sqlRunning, waitedMs: Date.now() - t0 });
      if (r.ioRunning && r.sqlRunning && r.secondsBehind !== null && r.secondsBehind <= input.maxLagSeconds) {
        return { site: db.site.id, lagSeconds: r.secondsBehind, waitedMs: Date.now() - t0, executed: await executedOf(conn, dialect), polls };
      }
      if (Date.now() - t0 > input.timeoutMs) {
        throw ApplicationFailure.nonRetryable(
          `site ${db.site.id}: replication lag is ${r.secondsBehind ?? 'unknown'} s (IO ${r.ioRunning ? 'running' : 'stopped'}, SQL ${r.sqlRunning ? 'running' : 'stopped'}) after ${input.timeoutMs} ms; the threshold is ${input.maxLagSeconds} s`,
          'CatchUpTimeout',
        );
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  });
}

/** What this (primary) site can still send: the GTID state before its oldest binary log. */
export async function binlogHorizon(
  db: DbContext,
): Promise<{ site: string; dialect: 'mysql' | 'mariadb'; purged: string; oldestBinlog: string | null }> {
  return withConnection(db, async (conn, dialect) => {
    if (dialect === 'mysql')
      return { site: db.site.id, dialect, purged: String(await scalar(conn, 'SELECT @@global.gtid_purged')).replace(/\s+/g, ''), oldestBinlog: null };
    const [first] = await rows<{ Log_name: string }>(conn, 'SHOW BINARY LOGS');
    if (!first) return { site: db.site.id, dialect, purged: '', oldestBinlog: null };
    const purged = String((await scalar<string | null>(conn, 'SELECT BINLOG_GTID_POS(?, 4)', [first.Log_name])) ?? '');
    return { site: db.site.id, dialect, purged, oldestBinlog: first.Log_name };
  });
}
