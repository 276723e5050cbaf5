// Direct connections to a site's database, past ProxySQL: how tests and benchmarks check what a runbook
// says against the truth.
import mysql from 'mysql2/promise';
import { siteById, type LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';
import { scalar, serverOf, type Server } from '../activities/mysql';
import { executedOf } from '../activities/catchup';
import { replicationState, type ReplicationState } from '../activities/inspect';

/** A direct connection as the runbooks' admin user. */
export async function direct(loaded: LoadedConfig, site: string): Promise<mysql.Connection> {
  const s = siteById(loaded, site);
  return mysql.createConnection({
    host: s.mysql.host,
    port: s.mysql.port,
    user: s.mysql.user,
    password: resolveSecret(s.mysql.password, loaded.baseDir),
  });
}

/** The trading.ticks seqs a site holds: what the load generator's acknowledged writes are checked against. */
export async function tickSeqs(loaded: LoadedConfig, site: string): Promise<Set<number>> {
  const c = await direct(loaded, site);
  try {
    const [rows] = await c.query({ sql: 'SELECT seq FROM trading.ticks', rowsAsArray: true });
    return new Set((rows as unknown[][]).map((r) => Number(r[0])));
  } finally {
    await c.end();
  }
}

// The same questions asked in either dialect, answered by the runbooks' own adapters where they have one.
const servers = new WeakMap<mysql.Connection, Server>();

async function serverOfConn(c: mysql.Connection): Promise<Server> {
  let server = servers.get(c);
  if (!server) {
    server = await serverOf(c, 'auto');
    servers.set(c, server);
  }
  return server;
}

export async function dialectOf(c: mysql.Connection): Promise<'mysql' | 'mariadb'> {
  return (await serverOfConn(c)).dialect;
}

export async function one<T = unknown>(c: mysql.Connection, sql: string, params: unknown[] = []): Promise<T> {
  return scalar<T>(c, sql, params);
}

/** What the server has executed (MySQL gtid_executed, MariaDB gtid_current_pos), on one line. */
export async function executedGtids(c: mysql.Connection): Promise<string> {
  return executedOf(c, await dialectOf(c));
}

/** What a primary has written to its binary log: what a replica must reach (MariaDB gtid_binlog_pos). */
export async function binlogGtids(c: mysql.Connection): Promise<string> {
  if ((await dialectOf(c)) === 'mysql') return executedGtids(c);
  return String(await one<string>(c, 'SELECT @@global.gtid_binlog_pos'));
}

/** Waits until the replica has applied `gtids`; true when it did within `seconds`. */
export async function waitForGtids(c: mysql.Connection, gtids: string, seconds: number): Promise<boolean> {
  if ((await dialectOf(c)) === 'mysql') return Number(await one(c, 'SELECT WAIT_FOR_EXECUTED_GTID_SET(?, ?)', [gtids, seconds])) === 0;
  return Number(await one(c, 'SELECT MASTER_GTID_WAIT(?, ?)', [gtids, seconds])) === 0;
}

export type ReplicaCommand = 'stop' | 'start' | 'stop io' | 'reset all';

export async function replica(c: mysql.Connection, command: ReplicaCommand): Promise<void> {
  const { syntax } = await serverOfConn(c);
  const sql = { stop: syntax.stop, start: syntax.start, 'stop io': `${syntax.stop} IO_THREAD`, 'reset all': syntax.resetAll }[command];
  await c.query(sql);
}

/** SOURCE_DELAY / MASTER_DELAY, with replication stopped around it. */
export async function replicaDelay(c: mysql.Connection, seconds: number): Promise<void> {
  await replica(c, 'stop');
  await c.query(
    (await dialectOf(c)) === 'mysql'
      ? `CHANGE REPLICATION SOURCE TO SOURCE_DELAY = ${Number(seconds)}`
      : `CHANGE MASTER TO MASTER_DELAY = ${Number(seconds)}`,
  );
  await replica(c, 'start');
}

/** The replica's threads, lag and source, as the runbooks read them. */
export async function replicaStatus(c: mysql.Connection): Promise<ReplicationState | null> {
  return replicationState(c, await serverOfConn(c));
}

/** Opens or closes a server for writes the way an operator would by hand (MySQL: super_read_only too). */
export async function setWritable(c: mysql.Connection, writable: boolean): Promise<void> {
  const mysqlDialect = (await dialectOf(c)) === 'mysql';
  if (writable) {
    if (mysqlDialect) await c.query('SET GLOBAL super_read_only = OFF');
    await c.query('SET GLOBAL read_only = OFF');
  } else {
    await c.query(mysqlDialect ? 'SET GLOBAL super_read_only = ON' : 'SET GLOBAL read_only = ON');
  }
}
