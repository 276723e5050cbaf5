// The ProxySQL admin emulator (lab/proxysql-emulator.ts) over the MySQL protocol: its admin SQL is SQLite's,
// its layer commands and runtime are ProxySQL's, and activities/proxysql.ts drives it as it would drive ProxySQL.
// Emulators listen on 127.0.0.1 in 42000-42999; one runs as its own process to prove the DISK layer survives a restart.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import {
  readServers,
  restoreServers,
  routeWriter,
  setServerStatus,
  ProxySqlVerificationError,
  type ProxySqlEndpoint,
  type ProxySqlServerRow,
} from '../../activities/proxysql';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../lab/proxysql-emulator';

const ROOT = path.resolve(__dirname, '..', '..');
const USER = 'radmin';
const PASSWORD = "pa'ss w0rd";
const WRITER_HG = 10;
const READER_HG = 20;
const SEED_SERVERS = [
  { hostgroup_id: WRITER_HG, hostname: 'db-a', port: 3306, max_connections: 500, comment: 'primary' },
  { hostgroup_id: READER_HG, hostname: 'db-a', port: 3306 },
  { hostgroup_id: READER_HG, hostname: 'db-b', port: 3307, gtid_port: 33070, use_ssl: 1, max_connections: 700, max_replication_lag: 10 },
];
const BAD_STATUS = "ProxySQL Admin Error: CHECK constraint failed: UPPER(status) IN ('ONLINE','SHUNNED','OFFLINE_SOFT', 'OFFLINE_HARD')";

let tmp: string;
let seedFile: string;
const running = new Set<RunningEmulator>();
const children = new Set<ChildProcess>();

// Ports from a random point in 42000-42999, so that two runs side by side rarely meet; a busy port is skipped.
let nextPort = 42000 + Math.floor(Math.random() * 1000);
const takePort = () => {
  const port = nextPort;
  nextPort = nextPort >= 42999 ? 42000 : nextPort + 1;
  return port;
};

async function start(state: string, extra: Partial<EmulatorOptions> = {}): Promise<RunningEmulator> {
  for (let attempt = 0; ; attempt++) {
    try {
      const emulator = await startEmulator({
        host: '127.0.0.1',
        port: takePort(),
        user: USER,
        password: PASSWORD,
        stateFile: state,
        seedFile,
        ...extra,
      });
      running.add(emulator);
      return emulator;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw err;
    }
  }
}

async function stop(emulator: RunningEmulator): Promise<void> {
  running.delete(emulator);
  await emulator.close();
}

/** The emulator as the lab runs it: its own process, ready line on stdout, SIGTERM to stop. */
async function startProcess(state: string): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const port = takePort();
    const args = ['--import', 'tsx', path.join(ROOT, 'lab/proxysql-emulator.ts'), '--host', '127.0.0.1', '--port', String(port)];
    args.push('--user', USER, '--password', PASSWORD, '--state', state, '--seed', seedFile);
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout?.setEncoding('utf8').once('data', (line: string) => resolve(line.startsWith('{"ready":true')));
      child.once('exit', () => resolve(false));
    });
    if (ready) return { child, port };
    children.delete(child);
    if (!stderr.includes('EADDRINUSE') || attempt >= 50) throw new Error(`emulator did not start: ${stderr}`);
  }
}

function stopProcess(child: ChildProcess): Promise<number | null> {
  children.delete(child);
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

const endpointOf = (port: number, password = PASSWORD): ProxySqlEndpoint => ({ host: '127.0.0.1', port, user: USER, password });

async function admin<T>(port: number, work: (connection: mysql.Connection) => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection(endpointOf(port));
  try {
    return await work(connection);
  } finally {
    await connection.end();
  }
}

async function query(connection: mysql.Connection, sql: string): Promise<Record<string, string>[]> {
  const [rows] = await connection.query(sql);
  return rows as Record<string, string>[];
}

const keys = (rows: Pick<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port' | 'status'>[]) =>
  rows.map((row) => `${row.hostgroup_id}/${row.hostname}:${row.port}/${row.status}`);

const rejectsWith = (errno: number, message: RegExp | string) => (err: Error & { errno?: number; sqlState?: string }) => {
  assert.equal(err.errno, errno);
  assert.equal(err.sqlState, '28000');
  if (typeof message === 'string') assert.equal(err.message, message);
  else assert.match(err.message, message);
  return true;
};

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxysql-emulator-unit-'));
  seedFile = path.join(tmp, 'seed.json');
  const seed = {
    mysql_servers: SEED_SERVERS,
    mysql_replication_hostgroups: [{ writer_hostgroup: WRITER_HG, reader_hostgroup: READER_HG, comment: 'cluster1' }],
  };
  fs.writeFileSync(seedFile, JSON.stringify(seed));
});

after(async () => {
  for (const emulator of [...running]) await stop(emulator);
  for (const child of [...children]) await stopProcess(child);
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('admin SQL is SQLite, on ProxySQL tables', () => {
  let port: number;
  const ep = () => endpointOf(port);
  /** Back to the seed, through the adapter. */
  const reset = async () => {
    await admin(port, (c) => query(c, 'DELETE FROM mysql_replication_hostgroups WHERE writer_hostgroup<>10'));
    await restoreServers(ep(), SEED_SERVERS);
  };

  before(async () => {
    port = (await start(path.join(tmp, 'sql.db'))).port;
  });

  it('seeds MEMORY, RUNTIME and DISK on first start, with ProxySQL defaults, into a SQLite state file', async () => {
    const memory = await readServers(ep(), 'memory');
    assert.deepEqual(await readServers(ep(), 'runtime'), memory);
    assert.deepEqual(await readServers(ep(), 'disk'), memory);
    assert.deepEqual(
      memory.find((row) => row.hostname === 'db-b'),
      {
        ...{ hostgroup_id: 20, hostname: 'db-b', port: 3307, gtid_port: 33070, use_ssl: 1, max_connections: 700, max_replication_lag: 10 },
        ...{ status: 'ONLINE', weight: 1, compression: 0, max_latency_ms: 0, comment: '' }, // ProxySQL's defaults
      },
    );
    assert.equal(fs.readFileSync(path.join(tmp, 'sql.db')).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  });

  it('authenticates with mysql_native_password; a wrong password or user gets 1045', async () => {
    await admin(port, async (c) => {
      assert.deepEqual(await query(c, 'SELECT 1'), [{ '1': '1' }]);
      assert.deepEqual(await query(c, 'SELECT @@version'), [{ '@@version': '2.5.5-emulator' }]);
      assert.deepEqual(await query(c, 'select version()'), [{ 'version()': '2.5.5-emulator' }]);
    });
    for (const credentials of [
      { user: USER, password: 'wrong' },
      { user: USER, password: '' },
      { user: 'admin', password: PASSWORD },
    ]) {
      await assert.rejects(mysql.createConnection({ host: '127.0.0.1', port, ...credentials }), rejectsWith(1045, /Access denied for user/));
    }
    await assert.rejects(readServers(endpointOf(port, 'nope'), 'memory'), /Access denied/);
  });

  it('runs a SELECT with OR and expressions, and an UPDATE with an expression, as SQLite does', async () => {
    await reset();
    await admin(port, async (c) => {
      const rows = await query(
        c,
        "SELECT hostname, port + 1 AS next_port, UPPER(comment) AS loud, max_connections * 2 AS doubled FROM mysql_servers WHERE hostname = 'db-b' OR (hostgroup_id = 10 AND port > 3000) ORDER BY hostname",
      );
      assert.deepEqual(rows, [
        { hostname: 'db-a', next_port: '3307', loud: 'PRIMARY', doubled: '1000' },
        { hostname: 'db-b', next_port: '3308', loud: '', doubled: '1400' },
      ]);
      const [update] = await c.query("UPDATE mysql_servers SET weight = weight + 9 WHERE hostname = 'db-b' OR hostgroup_id = 10");
      assert.equal((update as mysql.ResultSetHeader).affectedRows, 2);
      assert.deepEqual(await query(c, 'SELECT hostgroup_id, COUNT(*) AS servers, SUM(weight) AS weight FROM mysql_servers GROUP BY hostgroup_id'), [
        { hostgroup_id: '10', servers: '1', weight: '10' },
        { hostgroup_id: '20', servers: '2', weight: '11' },
      ]);
      assert.deepEqual(await query(c, 'SELECT 1.0 AS one, 2.5 AS half'), [{ one: '1.0', half: '2.5' }], 'REAL as SQLite prints it');
      const [deleted] = await c.query("DELETE FROM mysql_servers WHERE hostname = 'nobody' OR port = 1");
      assert.equal((deleted as mysql.ResultSetHeader).affectedRows, 0);
    });
  });

  it("returns ProxySQL's error for a constraint violation: 1045, 28000, the SQLite message", async () => {
    await reset();
    await admin(port, async (c) => {
      await assert.rejects(
        query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (60, 'x', 'BROKEN')"),
        rejectsWith(1045, BAD_STATUS),
      );
      await assert.rejects(query(c, "UPDATE mysql_servers SET status='DOWN' WHERE hostname='db-b'"), rejectsWith(1045, BAD_STATUS));
      assert.deepEqual(
        await query(c, "SELECT status FROM mysql_servers WHERE hostname='db-b'"),
        [{ status: 'ONLINE' }],
        'the UPDATE changed nothing',
      );
      const checks: [string, RegExp][] = [
        ["INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (60, 'x', 70000)", /CHECK constraint failed: port >= 0 AND port <= 65535$/],
        ["INSERT INTO mysql_servers (hostgroup_id, hostname, use_ssl) VALUES (60, 'x', 2)", /CHECK constraint failed: use_ssl IN\(0,1\)$/],
        [
          "INSERT INTO mysql_servers (hostgroup_id, hostname, port, gtid_port) VALUES (60, 'x', 3306, 3306)",
          /CHECK constraint failed: \(gtid_port <> port/,
        ],
        ["INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (-1, 'x')", /CHECK constraint failed: hostgroup_id>=0$/],
        ['INSERT INTO mysql_servers (hostgroup_id) VALUES (60)', /NOT NULL constraint failed: mysql_servers.hostname$/],
        [
          'INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup) VALUES (32, 32)',
          /CHECK constraint failed: reader_hostgroup<>writer_hostgroup/,
        ],
        [
          'INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup) VALUES (33, 20)',
          /UNIQUE constraint failed: mysql_replication_hostgroups.reader_hostgroup$/,
        ],
        [
          "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, check_type) VALUES (34, 35, 'magic')",
          /CHECK constraint failed: LOWER\(check_type\)/,
        ],
      ];
      for (const [sql, message] of checks) await assert.rejects(query(c, sql), rejectsWith(1045, message), sql);
    });
  });

  it('keeps a statement atomic, and INSERT OR IGNORE / REPLACE follow SQLite', async () => {
    await reset();
    await admin(port, async (c) => {
      await assert.rejects(
        query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (50, 'fresh', 3306), (10, 'db-a', 3306)"),
        rejectsWith(1045, 'ProxySQL Admin Error: UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port'),
      );
      assert.deepEqual(await query(c, "SELECT COUNT(*) AS n FROM mysql_servers WHERE hostname='fresh'"), [{ n: '0' }], 'the first row rolled back');
      await assert.rejects(query(c, "UPDATE mysql_servers SET hostgroup_id=10 WHERE hostname='db-a'"), /UNIQUE constraint failed/);
      const [ignored] = await c.query("INSERT OR IGNORE INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'db-a', 3306, 'x')");
      assert.equal((ignored as mysql.ResultSetHeader).affectedRows, 0);
      await query(c, "REPLACE INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'db-a', 3306, 'replaced')");
      const row = await query(c, "SELECT comment, max_connections FROM mysql_servers WHERE hostgroup_id=10 AND hostname='db-a'");
      assert.deepEqual(row, [{ comment: 'replaced', max_connections: '1000' }], 'REPLACE deletes the row and inserts with defaults');
    });
  });

  it('answers what ProxySQL does not run with an error, and the session stays usable', async () => {
    await admin(port, async (c) => {
      for (const sql of [
        'FLUSH EVERYTHING',
        'SELECT * FROM mysql_users',
        'SELECT nosuchcolumn FROM mysql_servers',
        'LOAD MYSQL USERS TO RUNTIME',
        'LOAD MYSQL SERVERS FROM CONFIG',
        'SAVE MYSQL SERVERS TO RUNTIME',
        'SET mysql-monitor_enabled=false',
        'SELECT 1; SELECT 2',
      ]) {
        await assert.rejects(query(c, sql), rejectsWith(1045, /^ProxySQL Admin Error: /), sql);
      }
      assert.deepEqual(await query(c, 'SELECT 1'), [{ '1': '1' }]);
      await c.ping();
      // ProxySQL answers these OK without running them: no transaction is left open.
      for (const sql of ['BEGIN', 'START TRANSACTION', 'COMMIT', 'ROLLBACK']) await query(c, sql);
      await query(c, "UPDATE mysql_servers SET comment='after BEGIN' WHERE hostname='db-b'");
      await query(c, 'ROLLBACK');
      assert.deepEqual(await query(c, "SELECT comment FROM mysql_servers WHERE hostname='db-b'"), [{ comment: 'after BEGIN' }]);
    });
  });
});

describe('layers: LOAD and SAVE, and what the runtime keeps', () => {
  let port: number;
  const ep = () => endpointOf(port);

  before(async () => {
    port = (await start(path.join(tmp, 'layers.db'))).port;
  });

  it('keeps MEMORY edits out of RUNTIME and DISK until LOAD / SAVE', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    await admin(port, async (c) => {
      await query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (30, 'db-c', 3306, 'new')");
      await query(c, "UPDATE mysql_servers SET weight=5 WHERE hostgroup_id=20 AND hostname='db-a'");
    });
    const memory = await readServers(ep(), 'memory');
    assert.ok(!(await readServers(ep(), 'runtime')).some((row) => row.hostname === 'db-c'), 'runtime untouched');
    assert.equal((await readServers(ep(), 'runtime')).find((row) => row.hostgroup_id === 20 && row.hostname === 'db-a')?.weight, 1);
    assert.ok(!(await readServers(ep(), 'disk')).some((row) => row.hostname === 'db-c'), 'disk untouched');

    await admin(port, (c) => query(c, 'LOAD MYSQL SERVERS TO RUNTIME'));
    assert.deepEqual(await readServers(ep(), 'runtime'), memory, 'runtime = memory after LOAD');
    assert.ok(!(await readServers(ep(), 'disk')).some((row) => row.hostname === 'db-c'), 'LOAD does not touch disk');
    await admin(port, (c) => query(c, 'SAVE MYSQL SERVERS TO DISK'));
    assert.deepEqual(await readServers(ep(), 'disk'), memory, 'disk = memory after SAVE');
  });

  it('takes the documented aliases, in both directions', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    await admin(port, async (c) => {
      const comment = async (table: string) => (await query(c, `SELECT comment FROM ${table} WHERE hostname='db-b'`))[0]?.comment;
      const aliases = ['LOAD MYSQL SERVERS TO RUN', 'load mysql servers from memory', 'LOAD  MYSQL SERVERS FROM MEM ;'];
      for (const [index, command] of aliases.entries()) {
        await query(c, `UPDATE mysql_servers SET comment='alias ${index}' WHERE hostname='db-b'`);
        await query(c, command);
        assert.equal(await comment('runtime_mysql_servers'), `alias ${index}`, command);
      }
      const last = `alias ${aliases.length - 1}`;
      await query(c, 'SAVE MYSQL SERVERS FROM MEMORY');
      assert.equal(await comment('disk.mysql_servers'), last);
      for (const command of ['LOAD MYSQL SERVERS FROM DISK', 'LOAD MYSQL SERVERS TO MEMORY', 'SAVE MYSQL SERVERS FROM RUNTIME']) {
        await query(c, "UPDATE mysql_servers SET comment='scratch' WHERE hostname='db-b'");
        await query(c, command);
        assert.equal(await comment('mysql_servers'), last, command);
      }
      await query(c, "DELETE FROM mysql_servers WHERE hostname='db-b'");
      await query(c, 'SAVE MYSQL SERVERS TO MEMORY');
      assert.deepEqual(await query(c, "SELECT COUNT(*) AS n FROM mysql_servers WHERE hostname='db-b'"), [{ n: '1' }]);
    });
  });

  it('moves mysql_replication_hostgroups with the MYSQL SERVERS commands', async () => {
    await admin(port, async (c) => {
      await query(c, "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment) VALUES (30, 31, 'second')");
      assert.deepEqual(await query(c, 'SELECT * FROM runtime_mysql_replication_hostgroups WHERE writer_hostgroup=30'), []);
      await query(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      assert.deepEqual(await query(c, 'SELECT * FROM runtime_mysql_replication_hostgroups WHERE writer_hostgroup=30'), [
        { writer_hostgroup: '30', reader_hostgroup: '31', check_type: 'read_only', comment: 'second' },
      ]);
      assert.deepEqual(await query(c, 'SELECT * FROM disk.mysql_replication_hostgroups WHERE writer_hostgroup=30'), []);
      await query(c, 'SAVE MYSQL SERVERS TO DISK');
      assert.equal((await query(c, 'SELECT * FROM disk.mysql_replication_hostgroups WHERE writer_hostgroup=30')).length, 1);
      await query(c, 'DELETE FROM mysql_replication_hostgroups WHERE writer_hostgroup=30');
      await query(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      await query(c, 'SAVE MYSQL SERVERS TO DISK');
    });
  });

  it('drops OFFLINE_HARD servers from runtime, shows status upper-cased, and saves SHUNNED back as ONLINE', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    await admin(port, async (c) => {
      await query(c, "UPDATE mysql_servers SET status='OFFLINE_HARD' WHERE hostgroup_id=20 AND hostname='db-a'");
      await query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (60, 'lower', 'offline_soft'), (61, 'shunned', 'SHUNNED')");
      await query(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      assert.deepEqual(await query(c, "SELECT * FROM runtime_mysql_servers WHERE hostgroup_id=20 AND hostname='db-a'"), []);
      assert.deepEqual(await query(c, "SELECT status FROM mysql_servers WHERE hostgroup_id=20 AND hostname='db-a'"), [{ status: 'OFFLINE_HARD' }]);
      assert.deepEqual(await query(c, "SELECT status FROM mysql_servers WHERE hostname='lower'"), [{ status: 'offline_soft' }]);
      assert.deepEqual(await query(c, "SELECT status FROM runtime_mysql_servers WHERE hostname='lower'"), [{ status: 'OFFLINE_SOFT' }]);
      await query(c, 'SAVE MYSQL SERVERS TO MEMORY');
      assert.deepEqual(await query(c, "SELECT status FROM mysql_servers WHERE hostname IN ('lower', 'shunned') ORDER BY hostname"), [
        { status: 'OFFLINE_SOFT' },
        { status: 'ONLINE' },
      ]);
      assert.deepEqual(
        await query(c, "SELECT * FROM mysql_servers WHERE hostgroup_id=20 AND hostname='db-a'"),
        [],
        'purged from runtime, so from MEMORY too',
      );
    });
  });

  it('refills runtime_ tables from the runtime on every read: a write to one is accepted and gone, as on ProxySQL', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    await admin(port, async (c) => {
      const [insert] = await c.query("INSERT INTO runtime_mysql_servers (hostgroup_id, hostname) VALUES (1, 'x')");
      assert.equal((insert as mysql.ResultSetHeader).affectedRows, 1);
      assert.deepEqual(await query(c, "SELECT * FROM runtime_mysql_servers WHERE hostname='x'"), []);
    });
  });
});

describe('the adapter (activities/proxysql.ts) against the emulator', () => {
  let port: number;
  const ep = () => endpointOf(port);
  const spec = (to: string, toPort: number, from: string, fromPort: number) => ({
    writerHostgroup: WRITER_HG,
    readerHostgroup: READER_HG,
    newPrimary: { host: to, port: toPort },
    oldPrimary: { host: from, port: fromPort },
  });

  before(async () => {
    port = (await start(path.join(tmp, 'adapter.db'))).port;
  });

  it('routeWriter moves the writer, saves to disk and verifies runtime; again is a no-op', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    const result = await routeWriter(ep(), spec('db-b', 3307, 'db-a', 3306));
    assert.deepEqual(keys(result.before), ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE', '20/db-b:3307/ONLINE']);
    assert.deepEqual(keys(result.after), ['10/db-b:3307/ONLINE', '20/db-b:3307/ONLINE'], 'the old primary is OFFLINE_HARD, so not at runtime');
    const memory = await readServers(ep(), 'memory');
    assert.deepEqual(keys(memory), ['10/db-a:3306/OFFLINE_HARD', '10/db-b:3307/ONLINE', '20/db-a:3306/OFFLINE_HARD', '20/db-b:3307/ONLINE']);
    const writer = memory.find((row) => row.hostgroup_id === WRITER_HG && row.hostname === 'db-b');
    assert.deepEqual([writer?.gtid_port, writer?.use_ssl, writer?.max_connections, writer?.max_replication_lag], [33070, 1, 700, 0]);
    assert.deepEqual(await readServers(ep(), 'disk'), memory);

    const again = await routeWriter(ep(), spec('db-b', 3307, 'db-a', 3306));
    assert.deepEqual(again.before, result.after);
    assert.deepEqual(again.after, result.after);
    assert.deepEqual(await readServers(ep(), 'memory'), memory);
  });

  it('routes back (failback): the old primary writes and reads again', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    await routeWriter(ep(), spec('db-b', 3307, 'db-a', 3306));
    const back = await routeWriter(ep(), spec('db-a', 3306, 'db-b', 3307));
    assert.deepEqual(keys(back.after), ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE']);
  });

  it('setServerStatus fences the writer (OFFLINE_HARD), idempotently, and refuses an unknown server', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    const fence = { hostgroup: WRITER_HG, host: 'db-a', port: 3306, status: 'OFFLINE_HARD' as const };
    const result = await setServerStatus(ep(), fence);
    assert.ok(!result.after.some((row) => row.hostgroup_id === WRITER_HG), 'no writer at runtime');
    assert.equal((await readServers(ep(), 'disk')).find((row) => row.hostgroup_id === WRITER_HG)?.status, 'OFFLINE_HARD');
    assert.deepEqual((await setServerStatus(ep(), fence)).after, result.after);
    const soft = await setServerStatus(ep(), { hostgroup: READER_HG, host: 'db-b', port: 3307, status: 'OFFLINE_SOFT' });
    assert.equal(soft.after.find((row) => row.hostname === 'db-b')?.status, 'OFFLINE_SOFT');
    await assert.rejects(setServerStatus(ep(), { hostgroup: 99, host: 'ghost', port: 1, status: 'OFFLINE_HARD' }), /not configured/);
  });

  it('restoreServers undoes a route from its snapshot, and rolls MEMORY back when ProxySQL refuses a row', async () => {
    await restoreServers(ep(), SEED_SERVERS);
    const seedMemory = await readServers(ep(), 'memory');
    const seedRuntime = await readServers(ep(), 'runtime');
    const route = await routeWriter(ep(), spec('db-b', 3307, 'db-a', 3306));
    const undo = await restoreServers(ep(), route.configBefore);
    assert.deepEqual(undo.after, seedRuntime);
    for (const layer of ['memory', 'disk'] as const) assert.deepEqual(await readServers(ep(), layer), seedMemory, layer);

    await assert.rejects(
      restoreServers(ep(), [{ hostgroup_id: 1, hostname: 'x', port: 1, max_replication_lag: 999999999 }]),
      /CHECK constraint failed/,
    );
    assert.deepEqual(await readServers(ep(), 'memory'), seedMemory);
    assert.deepEqual(await readServers(ep(), 'runtime'), seedMemory);
  });

  it("two groups' changes at once on one ProxySQL both apply and verify; one group's undo leaves the other's rows", async () => {
    // A second group in hostgroups 11/21 of the same ProxySQL (a site failover moves both at once).
    const other = [
      { hostgroup_id: 11, hostname: 'pos-a', port: 4306 },
      { hostgroup_id: 21, hostname: 'pos-a', port: 4306 },
      { hostgroup_id: 21, hostname: 'pos-b', port: 4307 },
    ];
    await restoreServers(ep(), [...SEED_SERVERS, ...other]);
    const [first, second] = await Promise.all([
      routeWriter(ep(), spec('db-b', 3307, 'db-a', 3306)),
      routeWriter(ep(), {
        writerHostgroup: 11,
        readerHostgroup: 21,
        newPrimary: { host: 'pos-b', port: 4307 },
        oldPrimary: { host: 'pos-a', port: 4306 },
      }),
    ]);
    assert.ok(first.after.some((row) => row.hostgroup_id === WRITER_HG && row.hostname === 'db-b'));
    assert.ok(second.after.some((row) => row.hostgroup_id === 11 && row.hostname === 'pos-b'));
    // The first group is undone from its snapshot, in its own hostgroups only: the second stays moved.
    await restoreServers(ep(), first.configBefore, [WRITER_HG, READER_HG]);
    const runtime = await readServers(ep(), 'runtime');
    assert.deepEqual(
      runtime.filter((row) => row.hostgroup_id === WRITER_HG || row.hostgroup_id === 11).map((row) => `${row.hostgroup_id}/${row.hostname}`),
      ['10/db-a', '11/pos-b'],
    );
  });

  it('quotes literals SQLite-style: a host name cannot inject', async () => {
    const evil = "x' OR '1'='1";
    await restoreServers(ep(), [...SEED_SERVERS, { hostgroup_id: 70, hostname: evil, port: 1, comment: "it's" }]);
    await setServerStatus(ep(), { hostgroup: 70, host: evil, port: 1, status: 'OFFLINE_SOFT' });
    const memory = await readServers(ep(), 'memory');
    assert.deepEqual(
      memory.filter((row) => row.status === 'OFFLINE_SOFT').map((row) => [row.hostname, row.comment]),
      [[evil, "it's"]],
    );
  });

  it('throws ProxySqlVerificationError when runtime does not take the change', async () => {
    const broken = await start(path.join(tmp, 'broken.db'), { fault: 'ignore-load' });
    const brokenEp = endpointOf(broken.port);
    await assert.rejects(routeWriter(brokenEp, { writerHostgroup: WRITER_HG, newPrimary: { host: 'db-b', port: 3307 } }), (err: unknown) => {
      assert.ok(err instanceof ProxySqlVerificationError);
      assert.ok(
        err.problems.some((problem) => problem.includes('db-b:3307 is not in writer hostgroup 10 at runtime')),
        err.message,
      );
      assert.deepEqual(keys(err.before), ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE', '20/db-b:3307/ONLINE']);
      return true;
    });
    await assert.rejects(
      setServerStatus(brokenEp, { hostgroup: WRITER_HG, host: 'db-a', port: 3306, status: 'OFFLINE_HARD' }),
      /still ONLINE at runtime/,
    );
    await stop(broken);
  });
});

describe('persistence: the DISK layer is a SQLite file that outlives the process', () => {
  it('keeps what was saved (and direct disk. writes) across a restart, and nothing else', async () => {
    const state = path.join(tmp, 'restart.db');
    const first = await startProcess(state);
    await admin(first.port, async (c) => {
      await query(c, "UPDATE mysql_servers SET max_connections=123 WHERE hostname='db-b'");
      await query(c, 'SAVE MYSQL SERVERS TO DISK');
      await query(c, "INSERT INTO disk.mysql_servers (hostgroup_id, hostname) VALUES (42, 'written-to-disk')");
      await query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (40, 'loaded-not-saved')");
      await query(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      await query(c, "INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (41, 'memory-only')");
    });
    const saved = await readServers(endpointOf(first.port), 'disk');
    assert.deepEqual(keys(saved).slice(-1), ['42/written-to-disk:3306/ONLINE']);
    assert.equal(await stopProcess(first.child), 0, 'exits 0 on SIGTERM');

    const second = await startProcess(state); // the seed is not read again: the state file exists
    for (const layer of ['memory', 'runtime', 'disk'] as const) {
      const rows = await readServers(endpointOf(second.port), layer);
      assert.deepEqual(rows, saved, `${layer} after the restart = what was on disk`);
      assert.equal(rows.find((row) => row.hostname === 'db-b')?.max_connections, 123);
    }
    assert.equal(await stopProcess(second.child), 0);
  });

  it('turns the JSON state file of the earlier emulator into the SQLite DISK database', async () => {
    const state = path.join(tmp, 'legacy.json');
    const legacy = { format: 'proxysql-emulator-disk-v1', mysql_servers: [{ hostgroup_id: 5, hostname: 'old', port: 3306, comment: 'kept' }] };
    fs.writeFileSync(state, JSON.stringify({ ...legacy, mysql_replication_hostgroups: [] }));
    const emulator = await start(state);
    assert.deepEqual(keys(await readServers(endpointOf(emulator.port), 'runtime')), ['5/old:3306/ONLINE']);
    await stop(emulator);
    assert.equal(fs.readFileSync(state).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
  });
});
