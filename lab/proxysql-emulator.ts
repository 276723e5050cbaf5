/**
 * ProxySQL admin-interface emulator (NOT ProxySQL).
 *
 * ProxySQL cannot be installed from the registries this project can reach, so this process emulates
 * the part of ProxySQL's *admin interface* (port 6032 in a real deployment) that our runbooks drive.
 * Like ProxySQL's, the admin interface is SQLite (better-sqlite3): MEMORY is the `main` schema of an
 * in-memory database, DISK is the `--state` file ATTACHed as `disk` (ProxySQL's proxysql.db), and the
 * `runtime_` tables are refilled from the runtime before every query that names them. Both hold
 * ProxySQL's own table definitions for `mysql_servers` and `mysql_replication_hostgroups`, and every
 * other statement goes to SQLite as it is. By hand: the `LOAD/SAVE MYSQL SERVERS ...` commands, what
 * the runtime keeps of a load, the few statements ProxySQL answers itself, and ProxySQL's error packet.
 * It speaks the MySQL wire protocol (mysql2's server API) with real mysql_native_password
 * authentication, so activities/proxysql.ts is exercised with exactly the admin SQL it would send.
 *
 * It does not proxy any traffic, has no monitor module and never shuns a server on its own.
 * See docs/proxysql-emulator.md for what is real SQLite, what is emulated, and how it was checked.
 *
 * Usage:
 *   npx tsx lab/proxysql-emulator.ts --port P --user U --password PW --state FILE
 *       [--host 127.0.0.1] [--seed FILE.json]
 * `--port 0` picks a free port; the chosen port is reported in the ready line
 * `{"ready":true,"port":P}` printed on stdout once the listener is up.
 * `--fault ignore-load` is for tests only (see Fault below).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import Database from 'better-sqlite3';
import mysql from 'mysql2';

export const EMULATOR_VERSION = '2.5.5-emulator';

// ---------------------------------------------------------------------------------------------
// Schema: ProxySQL's CREATE TABLE statements, verbatim: ADMIN_SQLITE_TABLE_MYSQL_SERVERS_V2_0_11 and
// ADMIN_SQLITE_TABLE_MYSQL_REPLICATION_HOSTGROUPS_V2_0_8, the current definitions in sysown/proxysql
// lib/ProxySQL_Admin.cpp at tag v2.5.5 and on branch v2.7 (include/ProxySQL_Admin_Tables_Definitions.h on
// later branches). ADMIN_SQLITE_TABLE_RUNTIME_MYSQL_SERVERS and ..._RUNTIME_MYSQL_REPLICATION_HOSTGROUPS are
// the same statements under the runtime_ name.
// ---------------------------------------------------------------------------------------------

const TABLE_DEFINITIONS = {
  mysql_servers:
    "CREATE TABLE mysql_servers (hostgroup_id INT CHECK (hostgroup_id>=0) NOT NULL DEFAULT 0 , hostname VARCHAR NOT NULL , port INT CHECK (port >= 0 AND port <= 65535) NOT NULL DEFAULT 3306 , gtid_port INT CHECK ((gtid_port <> port OR gtid_port=0) AND gtid_port >= 0 AND gtid_port <= 65535) NOT NULL DEFAULT 0 , status VARCHAR CHECK (UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')) NOT NULL DEFAULT 'ONLINE' , weight INT CHECK (weight >= 0 AND weight <=10000000) NOT NULL DEFAULT 1 , compression INT CHECK (compression IN(0,1)) NOT NULL DEFAULT 0 , max_connections INT CHECK (max_connections >=0) NOT NULL DEFAULT 1000 , max_replication_lag INT CHECK (max_replication_lag >= 0 AND max_replication_lag <= 126144000) NOT NULL DEFAULT 0 , use_ssl INT CHECK (use_ssl IN(0,1)) NOT NULL DEFAULT 0 , max_latency_ms INT UNSIGNED CHECK (max_latency_ms>=0) NOT NULL DEFAULT 0 , comment VARCHAR NOT NULL DEFAULT '' , PRIMARY KEY (hostgroup_id, hostname, port) )",
  mysql_replication_hostgroups:
    "CREATE TABLE mysql_replication_hostgroups (writer_hostgroup INT CHECK (writer_hostgroup>=0) NOT NULL PRIMARY KEY , reader_hostgroup INT NOT NULL CHECK (reader_hostgroup<>writer_hostgroup AND reader_hostgroup>=0) , check_type VARCHAR CHECK (LOWER(check_type) IN ('read_only','innodb_read_only','super_read_only','read_only|innodb_read_only','read_only&innodb_read_only')) NOT NULL DEFAULT 'read_only' , comment VARCHAR NOT NULL DEFAULT '', UNIQUE (reader_hostgroup))",
};
type TableName = keyof typeof TABLE_DEFINITIONS;
/** ProxySQL's module "mysql_servers": the tables that LOAD/SAVE MYSQL SERVERS move (those the emulator has). */
const TABLES = Object.keys(TABLE_DEFINITIONS) as TableName[];

function createTables(db: Database.Database, schema: 'main' | 'disk', prefix = ''): void {
  for (const table of TABLES) {
    db.exec(TABLE_DEFINITIONS[table].replace(`CREATE TABLE ${table} `, `CREATE TABLE IF NOT EXISTS ${schema}.${prefix}${table} `));
  }
}

/** An error returned to the client. ProxySQL's admin reports SQLite errors as errno 1045 / SQLSTATE 28000. */
export class AdminError extends Error {
  constructor(
    message: string,
    readonly errno = 1045,
    readonly sqlState = '28000',
  ) {
    super(message);
  }
}

const adminError = (message: string) => new AdminError(`ProxySQL Admin Error: ${message}`);
const unsupported = (message: string) => adminError(`${message} [not supported by the ProxySQL admin emulator]`);

// ---------------------------------------------------------------------------------------------
// The three configuration layers
// ---------------------------------------------------------------------------------------------

type Cell = string | bigint | number | Buffer | null;
type Row = Record<string, Cell>;

/**
 * What the runtime keeps of a load (MySQL_HostGroups_Manager::commit()): the configuration, status in
 * upper case, without OFFLINE_HARD servers. commit() sets removed servers OFFLINE_HARD and the dump
 * behind runtime_mysql_servers first purges OFFLINE_HARD servers that have no connections; the
 * emulator has no connections, so both come to this. Ordered as dump_table_mysql orders them.
 */
const RUNTIME_FROM_MEMORY: Record<TableName, string> = {
  mysql_servers: `SELECT hostgroup_id, hostname, port, gtid_port, UPPER(status) AS status, weight, compression, max_connections,
      max_replication_lag, use_ssl, max_latency_ms, comment
    FROM main.mysql_servers WHERE UPPER(status) <> 'OFFLINE_HARD' ORDER BY hostgroup_id, hostname, port`,
  mysql_replication_hostgroups: 'SELECT * FROM main.mysql_replication_hostgroups',
};

const STATE_FORMAT_V1 = 'proxysql-emulator-disk-v1'; // the JSON state file of the emulator before it ran on SQLite
const SQLITE_HEADER = 'SQLite format 3\0';

function isSqliteFile(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const header = Buffer.alloc(SQLITE_HEADER.length);
    return fs.readSync(fd, header, 0, header.length, 0) === header.length && header.toString('latin1') === SQLITE_HEADER;
  } finally {
    fs.closeSync(fd);
  }
}

/** better-sqlite3 binds every JS number as REAL; integers go in as INTEGER, as a literal would. */
const bindable = (value: unknown): unknown => (typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value);

/** Insert JSON rows (seed file, or the JSON state file of old) through the table's constraints. */
function insertJsonRows(db: Database.Database, schema: string, table: TableName, rows: unknown, source: string): void {
  if (!Array.isArray(rows)) throw new Error(`${source}: ${table} must be an array of row objects`);
  for (const [index, row] of rows.entries()) {
    const where = `${source}: ${table}[${index}]`;
    if (!row || typeof row !== 'object' || Array.isArray(row)) throw new Error(`${where} is not an object`);
    const entries = Object.entries(row as Record<string, unknown>);
    for (const [column, value] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new Error(`${where}: ${JSON.stringify(column)} is not a column name`);
      if (value !== null && typeof value !== 'string' && typeof value !== 'number') {
        throw new Error(`${where}.${column} must be a string, number or null`);
      }
    }
    const columns = entries.map(([column]) => column).join(', ');
    const values = entries.map(() => '?').join(', ');
    try {
      db.prepare(`INSERT INTO ${schema}.${table} (${columns}) VALUES (${values})`).run(...entries.map(([, value]) => bindable(value)));
    } catch (err) {
      throw new Error(`${where}: ${(err as Error).message}`);
    }
  }
}

/**
 * Create the DISK database from rows, atomically: built beside the target, then renamed over it.
 * ProxySQL's first start from its config file does the same (into proxysql.db).
 */
function createDisk(stateFile: string, content: Record<string, unknown>, source: string): void {
  fs.mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
  const temporary = `${stateFile}.tmp-${process.pid}`;
  // A rollback journal left by a killed process would be played back into the new database: none may survive.
  const removeWithJournal = (file: string) => ['', '-journal'].forEach((suffix) => fs.rmSync(`${file}${suffix}`, { force: true }));
  removeWithJournal(temporary);
  const db = new Database(temporary);
  try {
    createTables(db, 'main');
    db.transaction(() => {
      for (const table of TABLES) insertJsonRows(db, 'main', table, content[table] ?? [], source);
    })();
    db.close();
    fs.rmSync(`${stateFile}-journal`, { force: true });
    fs.renameSync(temporary, stateFile);
  } catch (err) {
    if (db.open) db.close();
    removeWithJournal(temporary);
    throw err;
  }
}

/** The state file before the switch to SQLite was JSON; turn it into the SQLite DISK database once. */
function upgradeJsonState(stateFile: string): void {
  const parsed = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
  if (parsed.format !== STATE_FORMAT_V1) throw new Error(`${stateFile}: neither a SQLite database nor a ${STATE_FORMAT_V1} state file`);
  createDisk(stateFile, parsed, stateFile);
}

/**
 * Test-only fault injection. `ignore-load`: LOAD MYSQL SERVERS TO RUNTIME answers OK but changes
 * nothing, as if a ProxySQL Cluster peer had immediately synced the old configuration back. Used to
 * prove that callers verify runtime instead of trusting the OK packet. Never set in normal use.
 */
export type Fault = 'ignore-load';

type LayerCommand = 'memory-to-runtime' | 'memory-to-disk' | 'runtime-to-memory' | 'disk-to-memory';

/** ProxySQL's command lists (LOAD_MYSQL_SERVERS_FROM_MEMORY, SAVE_MYSQL_SERVERS_TO_MEMORY and
 * generate_load_save_disk_commands in lib/ProxySQL_Admin.cpp), matched whole and case-insensitively. */
const LAYER_COMMANDS: Record<string, LayerCommand> = {
  'LOAD MYSQL SERVERS TO RUNTIME': 'memory-to-runtime',
  'LOAD MYSQL SERVERS TO RUN': 'memory-to-runtime',
  'LOAD MYSQL SERVERS FROM MEMORY': 'memory-to-runtime',
  'LOAD MYSQL SERVERS FROM MEM': 'memory-to-runtime',
  'SAVE MYSQL SERVERS TO DISK': 'memory-to-disk',
  'SAVE MYSQL SERVERS FROM MEMORY': 'memory-to-disk',
  'SAVE MYSQL SERVERS FROM MEM': 'memory-to-disk',
  'SAVE MYSQL SERVERS TO MEMORY': 'runtime-to-memory',
  'SAVE MYSQL SERVERS TO MEM': 'runtime-to-memory',
  'SAVE MYSQL SERVERS FROM RUNTIME': 'runtime-to-memory',
  'SAVE MYSQL SERVERS FROM RUN': 'runtime-to-memory',
  'LOAD MYSQL SERVERS TO MEMORY': 'disk-to-memory',
  'LOAD MYSQL SERVERS TO MEM': 'disk-to-memory',
  'LOAD MYSQL SERVERS FROM DISK': 'disk-to-memory',
};

/** Statements ProxySQL's admin answers OK without running them (admin_session_handler, "fix bug #1047" and #442). */
const ANSWERED_OK =
  /^(BEGIN|START TRANSACTION|COMMIT|ROLLBACK|SET NAMES|SET AUTOCOMMIT|SET CHARACTER_SET_RESULTS|SET SQL_AUTO_IS_NULL|SET SQL_SAFE_UPDATES=1)/;

/** Queries ProxySQL's admin rewrites before SQLite sees them (admin_session_handler). */
function rewrite(command: string): string | undefined {
  if (/^select @@version_comment limit 1$/i.test(command)) return "SELECT '(ProxySQL Admin Module)'";
  if (/^SELECT @@version/i.test(command)) return `SELECT '${EMULATOR_VERSION}' AS '@@version'`;
  if (/^SELECT version\(\)/i.test(command)) return `SELECT '${EMULATOR_VERSION}' AS 'version()'`;
  return undefined;
}

export type ExecResult =
  { kind: 'ok'; affectedRows: number } | { kind: 'rows'; columns: { name: string; table: string }[]; rows: (string | null)[][] };

export class AdminDatabase {
  /** The runtime's configuration: ProxySQL's hostgroup manager holds it outside the admin database. */
  private runtime: Record<TableName, Row[]> = { mysql_servers: [], mysql_replication_hostgroups: [] };

  private constructor(
    private readonly db: Database.Database,
    private readonly fault?: Fault,
  ) {}

  /** ProxySQL's start: a fresh proxysql.db is filled from the config file (the seed); then DISK -> MEMORY -> RUNTIME. */
  static open(stateFile: string, seedFile?: string, fault?: Fault): AdminDatabase {
    if (!fs.existsSync(stateFile)) {
      let seed: unknown = [];
      if (seedFile) seed = JSON.parse(fs.readFileSync(seedFile, 'utf8'));
      createDisk(stateFile, (Array.isArray(seed) ? { mysql_servers: seed } : seed) as Record<string, unknown>, seedFile ?? 'seed');
    } else if (!isSqliteFile(stateFile)) {
      upgradeJsonState(stateFile);
    }
    const db = new Database(':memory:');
    createTables(db, 'main');
    createTables(db, 'main', 'runtime_');
    db.prepare('ATTACH DATABASE ? AS disk').run(stateFile);
    createTables(db, 'disk');
    const admin = new AdminDatabase(db, fault);
    admin.copy('disk', 'main');
    admin.loadToRuntime();
    return admin;
  }

  close(): void {
    this.db.close();
  }

  execute(sql: string): ExecResult {
    try {
      return this.dispatch(sql);
    } catch (err) {
      if (err instanceof Database.SqliteError) throw adminError(err.message);
      // better-sqlite3 prepares one statement; ProxySQL would run the first and ignore the rest.
      if (err instanceof RangeError && /more than one statement/.test(err.message)) throw unsupported('more than one statement in a query');
      if (err instanceof RangeError && /no statements/.test(err.message)) throw adminError('empty query');
      throw err;
    }
  }

  private dispatch(sql: string): ExecResult {
    // ProxySQL matches its own commands on the query with runs of spaces and trailing ';' removed.
    const command = sql
      .trim()
      .replace(/[\s;]+$/, '')
      .replace(/\s+/g, ' ');
    const layerCommand = LAYER_COMMANDS[command.toUpperCase()];
    if (layerCommand) {
      this.layerCommand(layerCommand);
      return { kind: 'ok', affectedRows: 0 };
    }
    if (/^(LOAD|SAVE) /i.test(command)) {
      throw unsupported(`"${command}" (only the LOAD/SAVE MYSQL SERVERS commands to and from MEMORY, RUNTIME and DISK are emulated)`);
    }
    if (ANSWERED_OK.test(command.toUpperCase())) return { kind: 'ok', affectedRows: 0 };
    if (/^SET /i.test(command)) throw unsupported(`"${command}": the emulator has no global_variables`);
    // GenericRefreshStatistics: a query that names a runtime_ table sees it refilled from the runtime first.
    if (/runtime_mysql_(servers|replication_hostgroups)/i.test(sql)) this.refreshRuntimeTables();
    return this.run(rewrite(command) ?? sql);
  }

  private run(sql: string): ExecResult {
    const statement = this.db.prepare(sql);
    if (!statement.reader) return { kind: 'ok', affectedRows: statement.run().changes };
    statement.safeIntegers(true).raw(true);
    const columns = statement.columns().map((column) => ({ name: column.name, table: column.table ?? '' }));
    const rows = (statement.all() as Cell[][]).map((row) => row.map((cell) => this.text(cell)));
    return { kind: 'rows', columns, rows };
  }

  /** A value as sqlite3_column_text() gives it, which is what ProxySQL sends. */
  private text(cell: Cell): string | null {
    if (cell === null) return null;
    if (typeof cell === 'number') return this.db.prepare('SELECT CAST(? AS TEXT)').pluck().get(cell) as string;
    if (Buffer.isBuffer(cell)) return cell.toString('utf8');
    return String(cell);
  }

  private layerCommand(command: LayerCommand): void {
    if (command === 'memory-to-runtime') {
      if (this.fault !== 'ignore-load') this.loadToRuntime();
    } else if (command === 'memory-to-disk') this.copy('main', 'disk');
    else if (command === 'disk-to-memory') this.copy('disk', 'main');
    else this.saveRuntimeToMemory();
  }

  /** flush_GENERIC__from_to(): DELETE FROM <to>.t; INSERT INTO <to>.t SELECT * FROM <from>.t, for each table. */
  private copy(from: 'main' | 'disk', to: 'main' | 'disk'): void {
    this.db.transaction(() => {
      for (const table of TABLES) {
        this.db.exec(`DELETE FROM ${to}.${table}`);
        this.db.exec(`INSERT INTO ${to}.${table} SELECT * FROM ${from}.${table}`);
      }
    })();
  }

  /** LOAD MYSQL SERVERS TO RUNTIME. */
  private loadToRuntime(): void {
    for (const table of TABLES) this.runtime[table] = this.db.prepare(RUNTIME_FROM_MEMORY[table]).safeIntegers(true).all() as Row[];
  }

  private fill(table: string, rows: Row[]): void {
    this.db.exec(`DELETE FROM main.${table}`);
    for (const row of rows) {
      const columns = Object.keys(row);
      this.db.prepare(`INSERT INTO main.${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`).run(row);
    }
  }

  /** save_mysql_servers_runtime_to_database(true). */
  private refreshRuntimeTables(): void {
    this.db.transaction(() => {
      for (const table of TABLES) this.fill(`runtime_${table}`, this.runtime[table]);
    })();
  }

  /** SAVE MYSQL SERVERS TO MEMORY: save_mysql_servers_runtime_to_database(false), which writes SHUNNED back as ONLINE. */
  private saveRuntimeToMemory(): void {
    this.db.transaction(() => {
      for (const table of TABLES) {
        const rows = this.runtime[table].map((row) => (row.status === 'SHUNNED' ? { ...row, status: 'ONLINE' } : row));
        this.fill(table, rows);
      }
    })();
  }
}

// ---------------------------------------------------------------------------------------------
// MySQL wire protocol (mysql2 server API) with mysql_native_password authentication
// ---------------------------------------------------------------------------------------------

// mysql2 does not export its protocol internals through package.json "exports"; load them by path.
const localRequire = createRequire(typeof __filename === 'string' ? __filename : path.join(process.cwd(), 'noop.js'));
const mysql2Lib = path.join(path.dirname(localRequire.resolve('mysql2')), 'lib');
const ServerHandshake: any = localRequire(path.join(mysql2Lib, 'commands/server_handshake.js'));
const Packets: any = localRequire(path.join(mysql2Lib, 'packets/index.js'));
const ClientFlags: Record<string, number> = localRequire(path.join(mysql2Lib, 'constants/client.js'));

const SERVER_CAPABILITIES =
  (ClientFlags.LONG_PASSWORD as number) |
  (ClientFlags.FOUND_ROWS as number) |
  (ClientFlags.LONG_FLAG as number) |
  (ClientFlags.CONNECT_WITH_DB as number) |
  (ClientFlags.PROTOCOL_41 as number) |
  (ClientFlags.TRANSACTIONS as number) |
  (ClientFlags.SECURE_CONNECTION as number) |
  (ClientFlags.PLUGIN_AUTH as number) |
  (ClientFlags.PLUGIN_AUTH_LENENC_CLIENT_DATA as number);
const UTF8_GENERAL_CI = 33;
const MYSQL_TYPE_VAR_STRING = 253;
const SERVER_STATUS_AUTOCOMMIT = 2;

const sha1 = (...parts: Buffer[]) => {
  const h = crypto.createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * mysql_native_password: client sends SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
 * We hold the clear-text password (as ProxySQL does for admin-admin_credentials), so compute the
 * expected token from the scramble we sent and compare in constant time.
 */
export function nativePasswordMatches(password: string, scramble: Buffer, token: Buffer): boolean {
  if (password === '') return token.length === 0;
  if (token.length !== 20) return false;
  const stage1 = sha1(Buffer.from(password, 'utf8'));
  const mask = sha1(scramble, sha1(stage1));
  const expected = Buffer.alloc(20);
  for (let i = 0; i < 20; i++) expected[i] = (stage1[i] as number) ^ (mask[i] as number);
  return crypto.timingSafeEqual(expected, token);
}

function errorPacket(err: AdminError): any {
  const msg = Buffer.from(err.message, 'utf8');
  const len = 4 + 1 + 2 + 1 + 5 + msg.length;
  const buf = Buffer.alloc(len);
  buf.writeUInt8(0xff, 4);
  buf.writeUInt16LE(err.errno, 5);
  buf.write('#', 7, 'ascii');
  buf.write(err.sqlState.padEnd(5, '0').slice(0, 5), 8, 'ascii');
  msg.copy(buf, 13);
  return new Packets.Packet(0, buf, 0, len);
}

export interface EmulatorOptions {
  host: string;
  port: number;
  user: string;
  password: string;
  stateFile: string;
  seedFile?: string;
  fault?: Fault;
  log?: (msg: string) => void;
}

export interface RunningEmulator {
  port: number;
  close(): Promise<void>;
}

export async function startEmulator(opts: EmulatorOptions): Promise<RunningEmulator> {
  const log = opts.log ?? (() => undefined);
  const admin = AdminDatabase.open(opts.stateFile, opts.seedFile, opts.fault);
  if (opts.fault) log(`FAULT INJECTION ACTIVE: ${opts.fault}`);
  const server: any = (mysql.createServer as (handler?: unknown) => unknown)();
  const open = new Set<any>();
  let nextConnectionId = 1;

  const writeError = (conn: any, err: AdminError) => {
    conn.writePacket(errorPacket(err));
    conn._resetSequenceId(); // next command starts a new sequence
  };

  const reply = (conn: any, sql: string) => {
    let result: ExecResult;
    try {
      result = admin.execute(sql);
    } catch (e) {
      const err = e instanceof AdminError ? e : adminError(`internal emulator error: ${(e as Error).message}`);
      log(`query failed: ${sql} -> ${err.message}`);
      writeError(conn, err);
      return;
    }
    if (result.kind === 'ok') {
      conn.writeOk({ affectedRows: result.affectedRows, serverStatus: SERVER_STATUS_AUTOCOMMIT });
    } else {
      conn.writeColumns(
        result.columns.map(({ name, table }) => ({
          catalog: 'def',
          schema: 'main',
          table,
          orgTable: table,
          name,
          orgName: name,
          characterSet: UTF8_GENERAL_CI,
          columnLength: 1024,
          columnType: MYSQL_TYPE_VAR_STRING, // ProxySQL's admin sends every column as a string
          flags: 0,
          decimals: 0,
        })),
      );
      for (const row of result.rows) conn.writeTextRow(row);
      conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT);
    }
    conn._resetSequenceId();
  };

  server.on('connection', (conn: any) => {
    open.add(conn);
    // A result set is many small writes: with Nagle's algorithm each answer waited ~40 ms for the client's
    // delayed ACK (measured: 41 ms per query; 2-5 ms with TCP_NODELAY, which MySQL servers set as well).
    conn.stream.setNoDelay?.(true);
    conn.on('error', (e: Error & { code?: string }) => {
      if (e.code !== 'PROTOCOL_CONNECTION_LOST') log(`connection error: ${e.message}`);
    });
    conn.stream.on('close', () => open.delete(conn));

    const args = {
      protocolVersion: 10,
      serverVersion: EMULATOR_VERSION,
      connectionId: nextConnectionId++,
      statusFlags: SERVER_STATUS_AUTOCOMMIT,
      characterSet: UTF8_GENERAL_CI,
      capabilityFlags: SERVER_CAPABILITIES,
    };
    conn.serverConfig = { ...args, encoding: 'utf8' };
    const handshake = new ServerHandshake(args);
    const baseStart = handshake.start;
    handshake.start = function (this: any, packet: any, connection: any) {
      baseStart.call(this, packet, connection);
      return readClientReply;
    };
    function readClientReply(this: any, packet: any, connection: any) {
      const hello = Packets.HandshakeResponse.fromPacket(packet, SERVER_CAPABILITIES);
      connection.clientHelloReply = hello;
      const token: Buffer = Buffer.isBuffer(hello.authToken) ? hello.authToken : Buffer.from(hello.authToken ?? '', 'binary');
      const scramble = Buffer.concat([this.serverHello.authPluginData1, this.serverHello.authPluginData2]);
      const plugin = hello.authPluginName || 'mysql_native_password';
      const address = connection.stream.remoteAddress ?? 'unknown';
      let failure: AdminError | undefined;
      if (plugin !== 'mysql_native_password') {
        failure = new AdminError(
          `ProxySQL Error: authentication plugin ${plugin} is not supported by the emulator (use mysql_native_password)`,
          1045,
          '28000',
        );
      } else if (hello.user !== opts.user || !nativePasswordMatches(opts.password, scramble, token)) {
        failure = new AdminError(
          `ProxySQL Error: Access denied for user '${hello.user}'@'${address}' (using password: ${token.length ? 'YES' : 'NO'})`,
          1045,
          '28000',
        );
      }
      if (failure) {
        log(`authentication failed for user ${hello.user} from ${address}`);
        connection.writePacket(errorPacket(failure));
        connection.close();
        return null;
      }
      connection.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      connection._resetSequenceId();
      return ServerHandshake.prototype.dispatchCommands;
    }
    conn.addCommand(handshake);

    conn.on('query', (sql: string) => reply(conn, sql));
    // mysql2's dispatcher diverts text queries starting with SET/PREPARE here, as well as COM_STMT_PREPARE.
    conn.on('stmt_prepare', (sql: string) => {
      if (/^\s*(SET|PREPARE)\b/i.test(sql)) reply(conn, sql);
      else writeError(conn, unsupported('prepared statements (COM_STMT_PREPARE)'));
    });
    conn.on('stmt_execute', () => writeError(conn, unsupported('prepared statements (COM_STMT_EXECUTE)')));
    conn.on('ping', () => {
      conn.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      conn._resetSequenceId();
    });
    conn.on('init_db', () => {
      conn.writeOk({ serverStatus: SERVER_STATUS_AUTOCOMMIT });
      conn._resetSequenceId();
    });
    conn.on('quit', () => {
      conn._closing = true;
      conn.stream.end();
    });
    conn.on('packet', (_packet: any, knownCommand: boolean, commandCode: number) => {
      if (!knownCommand) writeError(conn, unsupported(`protocol command 0x${commandCode.toString(16)}`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => {
      admin.close();
      reject(err);
    };
    server._server.once('error', failed);
    server.listen(opts.port, opts.host, () => {
      server._server.off('error', failed);
      resolve();
    });
  });
  const address = server._server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;

  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const conn of open) conn.stream.destroy();
        server.close(() => {
          admin.close();
          resolve();
        });
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

function parseArgs(argv: string[]): EmulatorOptions {
  const get = (name: string): string | undefined => {
    const idx = argv.indexOf(`--${name}`);
    if (idx < 0) return undefined;
    const v = argv[idx + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    return v;
  };
  const known = new Set(['--port', '--user', '--password', '--state', '--host', '--seed', '--fault']);
  for (let i = 0; i < argv.length; i += 2) {
    if (!known.has(argv[i] as string)) throw new Error(`unknown argument ${argv[i]}`);
  }
  const port = Number(get('port'));
  const user = get('user');
  const password = get('password');
  const stateFile = get('state');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be an integer 0..65535');
  if (!user) throw new Error('--user is required');
  if (password === undefined) throw new Error('--password is required');
  if (!stateFile) throw new Error('--state is required');
  const fault = get('fault');
  if (fault !== undefined && fault !== 'ignore-load') throw new Error('--fault accepts only ignore-load');
  return { port, user, password, stateFile, host: get('host') ?? '127.0.0.1', seedFile: get('seed'), fault };
}

async function main(): Promise<void> {
  let opts: EmulatorOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(
      `${(err as Error).message}\nusage: proxysql-emulator.ts --port P --user U --password PW --state FILE [--host 127.0.0.1] [--seed FILE.json] [--fault ignore-load]\n`,
    );
    process.exit(2);
  }
  const emu = await startEmulator({ ...opts, log: (m) => process.stderr.write(`[proxysql-emulator] ${m}\n`) });
  process.stdout.write(`${JSON.stringify({ ready: true, port: emu.port })}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[proxysql-emulator] ${signal}: shutting down\n`);
    emu.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`[proxysql-emulator] fatal: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  });
}
