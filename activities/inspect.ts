// Reads what a runbook needs to know about one site's database, in either dialect.
import { HEARTBEAT_TABLE } from '../domain/lease';
import { missingGrants } from '../domain/grants';
import { withConnection, rows, type Conn, type DbContext, type Dialect, type Server } from './mysql';

export interface ReplicationState {
  ioRunning: boolean;
  sqlRunning: boolean;
  lastIoError: string;
  lastSqlError: string;
  /** null while a thread is stopped: the lag is unknown, not zero. */
  secondsBehind: number | null;
  sourceHost: string;
  sourcePort: number;
  /** GTIDs received from the source (relay log), executed or not. */
  retrievedGtids: string;
}

export interface DatabaseState {
  site: string;
  serverId: number;
  hostname: string;
  port: number;
  version: string;
  dialect: Dialect;
  readOnly: boolean;
  /** MySQL only; MariaDB has no super_read_only. */
  superReadOnly: boolean | null;
  /** Executed GTID set: MySQL gtid_executed, MariaDB gtid_current_pos. */
  gtidExecuted: string;
  /** MariaDB's two other positions, for the record. */
  gtidBinlogPos: string | null;
  gtidSlavePos: string | null;
  replication: ReplicationState | null;
  /** MySQL: the required grants (docs/mysql-grants.md) the runbook user lacks. null: not checked (MariaDB). */
  missingGrants?: Array<{ privilege: string; why: string }> | null;
  /** Now minus the newest heartbeat row this server holds: a bound on what it lacks, even with the primary gone. */
  heartbeatAgeSeconds?: number | null;
  checkedAt: string;
}

export async function inspectDatabase(ctx: DbContext): Promise<DatabaseState> {
  return withConnection(ctx, async (conn, dialect, server) => {
    const [v] = await rows<Record<string, string | number | null>>(
      conn,
      dialect === 'mysql'
        ? 'SELECT @@server_id AS serverId, @@hostname AS hostname, @@port AS port, VERSION() AS version, @@read_only AS readOnly, @@super_read_only AS superReadOnly, @@global.gtid_executed AS executed, NULL AS binlogPos, NULL AS slavePos'
        : 'SELECT @@server_id AS serverId, @@hostname AS hostname, @@port AS port, VERSION() AS version, @@read_only AS readOnly, NULL AS superReadOnly, @@global.gtid_current_pos AS executed, @@global.gtid_binlog_pos AS binlogPos, @@global.gtid_slave_pos AS slavePos',
    );
    return {
      site: ctx.site.id,
      serverId: Number(v!.serverId),
      hostname: String(v!.hostname),
      port: Number(v!.port),
      version: String(v!.version),
      dialect,
      readOnly: Number(v!.readOnly) === 1,
      superReadOnly: v!.superReadOnly === null ? null : Number(v!.superReadOnly) === 1,
      gtidExecuted: normaliseGtids(String(v!.executed ?? '')),
      gtidBinlogPos: v!.binlogPos === null ? null : String(v!.binlogPos),
      gtidSlavePos: v!.slavePos === null ? null : String(v!.slavePos),
      replication: await replicationState(conn, server),
      missingGrants: dialect === 'mysql' ? await lackingGrants(conn) : null,
      heartbeatAgeSeconds: await heartbeatAge(conn),
      checkedAt: new Date().toISOString(),
    };
  });
}

export async function replicationState(conn: Conn, server: Server): Promise<ReplicationState | null> {
  const [s] = await rows<Record<string, unknown>>(conn, server.syntax.show);
  if (!s) return null;
  const pick = (...names: string[]) => names.map((n) => s[n]).find((x) => x !== undefined);
  const behind = pick('Seconds_Behind_Source', 'Seconds_Behind_Master');
  return {
    ioRunning: pick('Replica_IO_Running', 'Slave_IO_Running') === 'Yes',
    sqlRunning: pick('Replica_SQL_Running', 'Slave_SQL_Running') === 'Yes',
    lastIoError: String(pick('Last_IO_Error') ?? ''),
    lastSqlError: String(pick('Last_SQL_Error') ?? ''),
    secondsBehind: behind === null || behind === undefined ? null : Number(behind),
    sourceHost: String(pick('Source_Host', 'Master_Host') ?? ''),
    sourcePort: Number(pick('Source_Port', 'Master_Port') ?? 0),
    retrievedGtids: normaliseGtids(String(pick('Retrieved_Gtid_Set', 'Gtid_IO_Pos') ?? '')),
  };
}

/** Null where no agent has written a heartbeat (detection off). */
export async function heartbeatAge(conn: Conn): Promise<number | null> {
  try {
    const [r] = await rows<{ age: string | null }>(
      conn,
      `SELECT TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) AS age FROM ${HEARTBEAT_TABLE}`,
    );
    return r?.age === null || r?.age === undefined ? null : Number(r.age) / 1e6;
  } catch {
    return null;
  }
}

async function lackingGrants(conn: Conn): Promise<Array<{ privilege: string; why: string }>> {
  const [lines] = await conn.query({ sql: 'SHOW GRANTS', rowsAsArray: true });
  return missingGrants((lines as string[][]).map((l) => l[0]!)).map(({ privilege, why }) => ({ privilege, why }));
}

/** MySQL prints GTID sets across lines; one line is easier to compare and report. */
export function normaliseGtids(s: string): string {
  return s.replace(/\s+/g, '');
}
