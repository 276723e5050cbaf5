// Direct connections to a site's database, past ProxySQL: how tests and benchmarks check what a runbook
// says against the truth.
import mysql from 'mysql2/promise';
import { siteById, type LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';

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

// The same questions asked in either dialect, for tests and benchmarks that poke at the servers directly.
const dialects = new WeakMap<mysql.Connection, 'mysql' | 'mariadb'>();

export async function dialectOf(c: mysql.Connection): Promise<'mysql' | 'mariadb'> {
  let d = dialects.get(c);
  if (!d) {
    d = /mariadb/i.test(await one<string>(c, 'SELECT VERSION()')) ? 'mariadb' : 'mysql';
    dialects.set(c, d);
  }
  return d;
}

export async function one<T = unknown>(c: mysql.Connection, sql: string, params: unknown[] = []): Promise<T> {
  const [rows] = await c.query({ sql, rowsAsArray: true }, params);
  return (rows as unknown[][])[0]?.[0] as T;
}

/** What the server has executed (MySQL gtid_executed, MariaDB gtid_current_pos), on one line. */
export async function executedGtids(c: mysql.Connection): Promise<string> {
  const v = await one<string>(c, (await dialectOf(c)) === 'mysql' ? 'SELECT @@global.gtid_executed' : 'SELECT @@global.gtid_current_pos');
  return String(v ?? '').replace(/\s+/g, '');
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
  const noun = (await dialectOf(c)) === 'mysql' ? 'REPLICA' : 'SLAVE';
  const sql = { stop: `STOP ${noun}`, start: `START ${noun}`, 'stop io': `STOP ${noun} IO_THREAD`, 'reset all': `RESET ${noun} ALL` }[command];
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

export interface ReplicaStatus {
  ioRunning: boolean;
  sqlRunning: boolean;
  secondsBehind: number | null;
  sourcePort: number;
}

export async function replicaStatus(c: mysql.Connection): Promise<ReplicaStatus | null> {
  const [rows] = await c.query((await dialectOf(c)) === 'mysql' ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS');
  const s = (rows as Array<Record<string, unknown>>)[0];
  if (!s) return null;
  const pick = (a: string, b: string) => s[a] ?? s[b];
  const behind = pick('Seconds_Behind_Source', 'Seconds_Behind_Master');
  return {
    ioRunning: pick('Replica_IO_Running', 'Slave_IO_Running') === 'Yes',
    sqlRunning: pick('Replica_SQL_Running', 'Slave_SQL_Running') === 'Yes',
    secondsBehind: behind === null || behind === undefined ? null : Number(behind),
    sourcePort: Number(pick('Source_Port', 'Master_Port')),
  };
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
