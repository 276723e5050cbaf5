// A site agent's view of its own database, four times a second: one kept connection, short timeouts, and the
// heartbeat row a primary writes so that a replica can bound what it lacks even with the primary gone.
import mysql from 'mysql2/promise';
import type { Site } from '../config/schema';
import { HEARTBEAT_TABLE } from '../domain/lease';
import { replicationSyntax, type ReplicationSyntax } from '../domain/replication-syntax';
import { resolveSecret } from './secrets';
import { heartbeatAge, normaliseGtids } from './inspect';

export interface DatabaseProbe {
  up: boolean;
  writable: boolean;
  error?: string;
  gtidExecuted?: string;
  replication?: { ioRunning: boolean; sqlRunning: boolean; secondsBehind: number | null; sourceHost: string; sourcePort: number } | null;
  /** Now minus the newest heartbeat this server holds (applied, on a replica); null without the table. */
  heartbeatAgeSeconds?: number | null;
}

const TIMEOUT_MS = 500;

export class DatabaseWatch {
  private conn: mysql.Connection | null = null;
  private syntax: ReplicationSyntax | null = null;
  dialect: 'mysql' | 'mariadb' | null = null;
  private tableChecked = false;

  constructor(
    private readonly site: Site,
    private readonly baseDir: string,
  ) {}

  /** Up and writable, or why not. `full` adds replication and heartbeat age (once a second is enough for those). */
  async probe(full: boolean): Promise<DatabaseProbe> {
    try {
      const conn = await this.connection();
      const [r] = await this.query<{ ro: number; g: string }>(conn, this.gtidQuery());
      const writable = Number(r!.ro) === 0;
      if (!full) return { up: true, writable };
      const [status] = await this.query<Record<string, unknown>>(conn, this.syntax!.show);
      return {
        up: true,
        writable,
        gtidExecuted: normaliseGtids(String(r!.g ?? '')),
        replication: status ? replicationOf(status) : null,
        heartbeatAgeSeconds: await heartbeatAge(conn),
      };
    } catch (err) {
      this.drop();
      return { up: false, writable: false, error: (err as Error).message };
    }
  }

  /**
   * The primary's heartbeat. The WHERE makes a server fenced in between write nothing: with MariaDB the agent's
   * user may hold READ_ONLY ADMIN, and a row written after a fence would be an errant transaction.
   */
  async writeHeartbeat(): Promise<boolean> {
    try {
      const conn = await this.connection();
      if (!this.tableChecked) await this.ensureTable(conn);
      const [r] = await conn.query({
        sql: `INSERT INTO ${HEARTBEAT_TABLE} (site, ts) SELECT ?, UTC_TIMESTAMP(6) FROM DUAL WHERE @@global.read_only = 0 ON DUPLICATE KEY UPDATE ts = UTC_TIMESTAMP(6)`,
        values: [this.site.id],
        timeout: TIMEOUT_MS,
      });
      return (r as mysql.ResultSetHeader).affectedRows > 0;
    } catch {
      this.drop();
      return false;
    }
  }

  close(): void {
    this.drop();
  }

  private async ensureTable(conn: mysql.Connection): Promise<void> {
    const [schema, table] = HEARTBEAT_TABLE.split('.');
    const found = await this.query(conn, 'SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [schema, table]);
    if (found.length === 0) {
      // Only on a writable server (checked just before), and only when missing: an IF NOT EXISTS on a table
      // that exists is still written to the binary log.
      await conn.query(`CREATE DATABASE IF NOT EXISTS ${schema}`);
      await conn.query(`CREATE TABLE IF NOT EXISTS ${HEARTBEAT_TABLE} (site VARCHAR(64) NOT NULL PRIMARY KEY, ts DATETIME(6) NOT NULL)`);
    }
    this.tableChecked = true;
  }

  private gtidQuery(): string {
    return this.syntax!.show.includes('REPLICA')
      ? 'SELECT @@global.read_only AS ro, @@global.gtid_executed AS g'
      : 'SELECT @@global.read_only AS ro, @@global.gtid_current_pos AS g';
  }

  private async connection(): Promise<mysql.Connection> {
    if (this.conn) return this.conn;
    const m = this.site.mysql;
    const conn = await mysql.createConnection({
      host: m.host,
      port: m.port,
      user: m.user,
      password: resolveSecret(m.password, this.baseDir),
      connectTimeout: TIMEOUT_MS,
      dateStrings: true,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    conn.on('error', () => this.drop());
    const [v] = await this.query<{ v: string }>(conn, 'SELECT VERSION() AS v');
    const dialect = m.dialect !== 'auto' ? m.dialect : /mariadb/i.test(v!.v) ? 'mariadb' : 'mysql';
    this.syntax = replicationSyntax(dialect, v!.v);
    this.dialect = dialect;
    this.conn = conn;
    return conn;
  }

  private async query<T = Record<string, unknown>>(conn: mysql.Connection, sql: string, values: unknown[] = []): Promise<T[]> {
    const [r] = await conn.query({ sql, values, timeout: TIMEOUT_MS });
    return r as T[];
  }

  private drop(): void {
    this.conn?.destroy();
    this.conn = null;
  }
}

function replicationOf(s: Record<string, unknown>): NonNullable<DatabaseProbe['replication']> {
  const pick = (...names: string[]) => names.map((n) => s[n]).find((x) => x !== undefined);
  const behind = pick('Seconds_Behind_Source', 'Seconds_Behind_Master');
  return {
    ioRunning: pick('Replica_IO_Running', 'Slave_IO_Running') === 'Yes',
    sqlRunning: pick('Replica_SQL_Running', 'Slave_SQL_Running') === 'Yes',
    secondsBehind: behind === null || behind === undefined ? null : Number(behind),
    sourceHost: String(pick('Source_Host', 'Master_Host') ?? ''),
    sourcePort: Number(pick('Source_Port', 'Master_Port') ?? 0),
  };
}
