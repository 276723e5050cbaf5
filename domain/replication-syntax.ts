// Which replication statements a server understands, by its version. MySQL renamed them in 8.0.22
// (SHOW REPLICA STATUS, START/STOP/RESET REPLICA), 8.0.23 (CHANGE REPLICATION SOURCE TO …) and 8.2
// (RESET BINARY LOGS AND GTIDS); 8.4 and 9.x removed the old names. MariaDB keeps SLAVE / MASTER.
// Status columns follow the statement.

export type Dialect = 'mysql' | 'mariadb';

export interface ReplicationSyntax {
  show: string;
  stop: string;
  start: string;
  resetAll: string;
  /** Empties the binary log and the executed GTID set (before a re-seed loads). */
  resetBinlogs: string;
  /** CHANGE … TO with auto-positioning; the five placeholders are host, port, user, password. */
  changeSource: string;
  /** Semi-synchronous replication: its variables, status and plugins (none on MariaDB: built in). */
  semiSync: SemiSyncNames;
}

export interface SemiSyncNames {
  sourceEnabled: string;
  sourceTimeout: string;
  sourceWaitPoint: string;
  replicaEnabled: string;
  /** Status variable: ON while the source waits for acknowledgements (OFF after a timeout fell back to async). */
  sourceStatus: string;
  /** Plugin files to load at server start; empty where semi-sync is built in. */
  plugins: { source: string | null; replica: string | null };
}

/** MySQL 8.0.26+ (semisync_source / semisync_replica). */
const SEMI_SYNC_SOURCE: SemiSyncNames = {
  sourceEnabled: 'rpl_semi_sync_source_enabled',
  sourceTimeout: 'rpl_semi_sync_source_timeout',
  sourceWaitPoint: 'rpl_semi_sync_source_wait_point',
  replicaEnabled: 'rpl_semi_sync_replica_enabled',
  sourceStatus: 'Rpl_semi_sync_source_status',
  plugins: { source: 'semisync_source.so', replica: 'semisync_replica.so' },
};

/** MySQL before 8.0.26 (semisync_master / semisync_slave); MariaDB has the same names built in. */
const SEMI_SYNC_MASTER: SemiSyncNames = {
  sourceEnabled: 'rpl_semi_sync_master_enabled',
  sourceTimeout: 'rpl_semi_sync_master_timeout',
  sourceWaitPoint: 'rpl_semi_sync_master_wait_point',
  replicaEnabled: 'rpl_semi_sync_slave_enabled',
  sourceStatus: 'Rpl_semi_sync_master_status',
  plugins: { source: 'semisync_master.so', replica: 'semisync_slave.so' },
};

const SOURCE: ReplicationSyntax = {
  show: 'SHOW REPLICA STATUS',
  stop: 'STOP REPLICA',
  start: 'START REPLICA',
  resetAll: 'RESET REPLICA ALL',
  resetBinlogs: 'RESET BINARY LOGS AND GTIDS',
  // GET_SOURCE_PUBLIC_KEY: caching_sha2_password (the default since 8.0) over a connection without TLS.
  // SOURCE_RETRY_COUNT: a day of 1 s retries, so a replica resumes by itself after its source was down for long
  // (the default, 10, gives up after ten seconds: a power-loss drill with no failover found it).
  changeSource:
    'CHANGE REPLICATION SOURCE TO SOURCE_HOST = ?, SOURCE_PORT = ?, SOURCE_USER = ?, SOURCE_PASSWORD = ?, SOURCE_AUTO_POSITION = 1, SOURCE_CONNECT_RETRY = 1, SOURCE_RETRY_COUNT = 86400, GET_SOURCE_PUBLIC_KEY = 1',
  semiSync: SEMI_SYNC_SOURCE,
};

const MYSQL_OLD: ReplicationSyntax = {
  show: 'SHOW SLAVE STATUS',
  stop: 'STOP SLAVE',
  start: 'START SLAVE',
  resetAll: 'RESET SLAVE ALL',
  resetBinlogs: 'RESET MASTER',
  changeSource:
    'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_AUTO_POSITION = 1, MASTER_CONNECT_RETRY = 1, MASTER_RETRY_COUNT = 86400, GET_MASTER_PUBLIC_KEY = 1',
  semiSync: SEMI_SYNC_MASTER,
};

/** The old MySQL names, positioned by MariaDB's own GTID (slave_pos) instead of auto-positioning. */
const MARIADB: ReplicationSyntax = {
  ...MYSQL_OLD,
  changeSource:
    'CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1',
  semiSync: { ...SEMI_SYNC_MASTER, plugins: { source: null, replica: null } },
};

/** `version` is what VERSION() returns: "9.7.4-2", "8.0.21-log", "10.11.19-MariaDB-0+deb12u1". */
export function replicationSyntax(dialect: Dialect, version: string): ReplicationSyntax {
  if (dialect === 'mariadb') return MARIADB;
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const n = major * 10_000 + minor * 100 + patch;
  // CHANGE REPLICATION SOURCE (8.0.23) is the later of the two renames; take both together.
  if (n < 80_023) return MYSQL_OLD;
  // semisync_source / semisync_replica and their variable names came later than the statements: 8.0.26.
  if (n < 80_026) return { ...SOURCE, resetBinlogs: 'RESET MASTER', semiSync: SEMI_SYNC_MASTER };
  return n >= 80_200 ? SOURCE : { ...SOURCE, resetBinlogs: 'RESET MASTER' };
}
