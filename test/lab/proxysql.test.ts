// Over-the-wire tests of the ProxySQL admin emulator and of activities/proxysql.ts against it.
// Run: node --import tsx --test test/proxysql.test.ts
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

const ROOT = path.resolve(__dirname, '..', '..');
const EMULATOR = path.join(ROOT, 'lab/proxysql-emulator.ts');
const USER = 'radmin';
const PASSWORD = "pa'ss w0rd";

const WRITER_HG = 10;
const READER_HG = 20;
const SEED_SERVERS = [
  { hostgroup_id: WRITER_HG, hostname: 'db-a', port: 3306, max_connections: 500, comment: 'primary' },
  { hostgroup_id: READER_HG, hostname: 'db-a', port: 3306 },
  { hostgroup_id: READER_HG, hostname: 'db-b', port: 3307, gtid_port: 33070, use_ssl: 1, max_connections: 700, max_replication_lag: 10 },
];

interface Emulator {
  child: ChildProcess;
  port: number;
  stderr: string[];
}

let tmp: string;
let stateFile: string;
let seedFile: string;
let emu: Emulator | undefined;

function startEmulator(state = stateFile, extraArgs: string[] = []): Promise<Emulator> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      EMULATOR,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--user',
      USER,
      '--password',
      PASSWORD,
      '--state',
      state,
      '--seed',
      seedFile,
      ...extraArgs,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr?.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  return new Promise((resolve, reject) => {
    let buf = '';
    const onExit = (code: number | null) => reject(new Error(`emulator exited (${code}) before ready: ${stderr.join('')}`));
    child.once('exit', onExit);
    child.once('error', reject);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const msg = JSON.parse(buf.slice(0, nl)) as { ready: boolean; port: number };
      child.off('exit', onExit);
      assert.equal(msg.ready, true);
      resolve({ child, port: msg.port, stderr });
    });
  });
}

function stopEmulator(e: Emulator): Promise<number | null> {
  if (e.child.exitCode !== null) return Promise.resolve(e.child.exitCode);
  return new Promise((resolve) => {
    e.child.once('exit', (code) => resolve(code));
    e.child.kill('SIGTERM');
  });
}

function endpoint(password = PASSWORD): ProxySqlEndpoint {
  assert.ok(emu, 'emulator running');
  return { host: '127.0.0.1', port: emu.port, user: USER, password };
}

async function admin<T>(fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const ep = endpoint();
  const c = await mysql.createConnection({ host: ep.host, port: ep.port, user: ep.user, password: ep.password });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function q(c: mysql.Connection, sql: string): Promise<Record<string, string>[]> {
  const [rows] = await c.query(sql);
  return rows as Record<string, string>[];
}

const keys = (rows: Pick<ProxySqlServerRow, 'hostgroup_id' | 'hostname' | 'port' | 'status'>[]) =>
  rows.map((r) => `${r.hostgroup_id}/${r.hostname}:${r.port}/${r.status}`);

/** Put mysql_servers back to the seed (also exercises restoreServers) and drop test replication hostgroups. */
async function resetToSeed(): Promise<void> {
  await admin(async (c) => {
    await q(c, 'DELETE FROM mysql_replication_hostgroups WHERE writer_hostgroup<>10');
  });
  await restoreServers(endpoint(), SEED_SERVERS);
}

describe('ProxySQL admin emulator + adapter (over the MySQL protocol)', () => {
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'proxysql-emu-test-'));
    stateFile = path.join(tmp, 'proxysql-state.json');
    seedFile = path.join(tmp, 'seed.json');
    fs.writeFileSync(
      seedFile,
      JSON.stringify({
        mysql_servers: SEED_SERVERS,
        mysql_replication_hostgroups: [{ writer_hostgroup: WRITER_HG, reader_hostgroup: READER_HG, comment: 'cluster1' }],
      }),
    );
    emu = await startEmulator();
  });

  after(async () => {
    if (emu) assert.equal(await stopEmulator(emu), 0, 'emulator exits 0 on SIGTERM');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('seeds all three layers on first start, with ProxySQL defaults filled in', async () => {
    const mem = await readServers(endpoint(), 'memory');
    assert.deepEqual(await readServers(endpoint(), 'runtime'), mem);
    assert.deepEqual(await readServers(endpoint(), 'disk'), mem);
    assert.equal(mem.length, 3);
    const b = mem.find((r) => r.hostname === 'db-b');
    assert.deepEqual(b, {
      hostgroup_id: READER_HG,
      hostname: 'db-b',
      port: 3307,
      gtid_port: 33070,
      status: 'ONLINE',
      weight: 1,
      compression: 0,
      max_connections: 700,
      max_replication_lag: 10,
      use_ssl: 1,
      max_latency_ms: 0,
      comment: '',
    });
    assert.ok(fs.existsSync(stateFile), 'state file written on first start');
  });

  it('authenticates with mysql_native_password and refuses a wrong password or user with 1045', async () => {
    const rows = await admin((c) => q(c, 'SELECT 1'));
    assert.deepEqual(rows, [{ '1': '1' }]);
    const version = await admin((c) => q(c, 'SELECT @@version'));
    assert.match(String(version[0]?.['@@version']), /emulator/);
    const v2 = await admin((c) => q(c, 'select version()'));
    assert.match(String(v2[0]?.['version()']), /^2\.5\.5-emulator$/);

    for (const creds of [
      { user: USER, password: 'wrong' },
      { user: USER, password: '' },
      { user: 'admin', password: PASSWORD },
    ]) {
      await assert.rejects(
        mysql.createConnection({ host: '127.0.0.1', port: endpoint().port, ...creds }),
        (err: { errno?: number; sqlState?: string; message: string }) => {
          assert.equal(err.errno, 1045);
          assert.equal(err.sqlState, '28000');
          assert.match(err.message, /Access denied for user/);
          return true;
        },
      );
    }
    await assert.rejects(readServers(endpoint('nope'), 'memory'), /Access denied/);
  });

  it('keeps MEMORY edits out of RUNTIME and DISK until LOAD / SAVE', async () => {
    await resetToSeed();
    await admin(async (c) => {
      const [res] = await c.query("INSERT INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (30, 'db-c', 3306, 'new')");
      assert.equal((res as mysql.ResultSetHeader).affectedRows, 1);
      await q(c, "UPDATE mysql_servers SET weight=5 WHERE hostgroup_id=20 AND hostname='db-a'");
    });
    const mem = await readServers(endpoint(), 'memory');
    assert.ok(mem.some((r) => r.hostname === 'db-c'));
    assert.ok(!(await readServers(endpoint(), 'runtime')).some((r) => r.hostname === 'db-c'), 'runtime untouched');
    assert.equal((await readServers(endpoint(), 'runtime')).find((r) => r.hostgroup_id === 20 && r.hostname === 'db-a')?.weight, 1);
    assert.ok(!(await readServers(endpoint(), 'disk')).some((r) => r.hostname === 'db-c'), 'disk untouched');

    await admin((c) => q(c, 'LOAD MYSQL SERVERS TO RUNTIME'));
    assert.deepEqual(await readServers(endpoint(), 'runtime'), mem, 'runtime = memory after LOAD');
    assert.ok(!(await readServers(endpoint(), 'disk')).some((r) => r.hostname === 'db-c'), 'LOAD does not touch disk');

    await admin((c) => q(c, 'SAVE MYSQL SERVERS TO DISK'));
    assert.deepEqual(await readServers(endpoint(), 'disk'), mem, 'disk = memory after SAVE');
  });

  it('supports the documented aliases and the other two directions', async () => {
    await resetToSeed();
    await admin(async (c) => {
      // MEMORY -> RUNTIME aliases
      const aliases = ['LOAD MYSQL SERVERS TO RUN', 'load mysql servers from memory', 'LOAD MYSQL SERVERS FROM MEM;'];
      for (const [i, cmd] of aliases.entries()) {
        await q(c, `UPDATE mysql_servers SET comment='alias ${i}' WHERE hostname='db-b'`);
        await q(c, cmd);
        const rt = await q(c, "SELECT comment FROM runtime_mysql_servers WHERE hostname='db-b'");
        assert.equal(rt[0]?.comment, `alias ${i}`, cmd);
      }
      const last = `alias ${aliases.length - 1}`;
      // MEMORY -> DISK alias
      await q(c, 'SAVE MYSQL SERVERS FROM MEMORY');
      assert.equal((await q(c, "SELECT comment FROM disk.mysql_servers WHERE hostname='db-b'"))[0]?.comment, last);
      // DISK -> MEMORY
      await q(c, "UPDATE mysql_servers SET comment='scratch' WHERE hostname='db-b'");
      await q(c, 'LOAD MYSQL SERVERS FROM DISK');
      assert.equal((await q(c, "SELECT comment FROM mysql_servers WHERE hostname='db-b'"))[0]?.comment, last);
      await q(c, "UPDATE mysql_servers SET comment='scratch' WHERE hostname='db-b'");
      await q(c, 'LOAD MYSQL SERVERS TO MEMORY');
      assert.equal((await q(c, "SELECT comment FROM mysql_servers WHERE hostname='db-b'"))[0]?.comment, last);
      // RUNTIME -> MEMORY
      await q(c, "UPDATE mysql_servers SET comment='scratch' WHERE hostname='db-b'");
      await q(c, 'SAVE MYSQL SERVERS FROM RUNTIME');
      assert.equal((await q(c, "SELECT comment FROM mysql_servers WHERE hostname='db-b'"))[0]?.comment, last);
      await q(c, "DELETE FROM mysql_servers WHERE hostname='db-b'");
      await q(c, 'SAVE MYSQL SERVERS TO MEMORY');
      assert.equal((await q(c, "SELECT COUNT(*) AS n FROM mysql_servers WHERE hostname='db-b'"))[0]?.n, '1');
    });
  });

  it('SAVE TO DISK survives a restart; unsaved MEMORY and RUNTIME edits do not', async () => {
    await resetToSeed();
    await admin(async (c) => {
      await q(c, "UPDATE mysql_servers SET max_connections=123 WHERE hostname='db-b'");
      await q(c, 'SAVE MYSQL SERVERS TO DISK');
      await q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (40, 'unsaved-but-loaded')");
      await q(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      await q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (41, 'memory-only')");
    });
    const saved = await readServers(endpoint(), 'disk');
    assert.ok((await readServers(endpoint(), 'runtime')).some((r) => r.hostname === 'unsaved-but-loaded'));

    assert.ok(emu);
    assert.equal(await stopEmulator(emu), 0);
    emu = await startEmulator(); // same state file; the seed is ignored because the state file exists

    for (const layer of ['memory', 'runtime', 'disk'] as const) {
      const rows = await readServers(endpoint(), layer);
      assert.deepEqual(rows, saved, `${layer} after restart = what was saved`);
      assert.equal(rows.find((r) => r.hostname === 'db-b')?.max_connections, 123);
      assert.ok(!rows.some((r) => r.hostname === 'unsaved-but-loaded' || r.hostname === 'memory-only'));
    }
  });

  it('rejects a duplicate primary key like SQLite does, atomically per statement', async () => {
    await resetToSeed();
    await admin(async (c) => {
      await assert.rejects(
        q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (50, 'fresh', 3306), (10, 'db-a', 3306)"),
        (err: Error & { errno?: number }) => {
          assert.equal(err.errno, 1045);
          assert.equal(
            err.message,
            'ProxySQL Admin Error: UNIQUE constraint failed: mysql_servers.hostgroup_id, mysql_servers.hostname, mysql_servers.port',
          );
          return true;
        },
      );
      assert.equal((await q(c, "SELECT COUNT(*) AS n FROM mysql_servers WHERE hostname='fresh'"))[0]?.n, '0', 'whole statement rolled back');
      // an UPDATE that would collide is refused too
      await assert.rejects(q(c, "UPDATE mysql_servers SET hostgroup_id=10 WHERE hostname='db-a'"), /UNIQUE constraint failed/);
      // OR IGNORE skips, OR REPLACE / REPLACE replace
      const [ign] = await c.query("INSERT OR IGNORE INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'db-a', 3306, 'x')");
      assert.equal((ign as mysql.ResultSetHeader).affectedRows, 0);
      await q(c, "REPLACE INTO mysql_servers (hostgroup_id, hostname, port, comment) VALUES (10, 'db-a', 3306, 'replaced')");
      const row = await q(c, "SELECT comment, max_connections FROM mysql_servers WHERE hostgroup_id=10 AND hostname='db-a' AND port=3306");
      assert.deepEqual(row, [{ comment: 'replaced', max_connections: '1000' }], 'REPLACE deletes the old row and inserts with defaults');
    });
  });

  it('enforces the CHECK and NOT NULL constraints (bad status, ranges, missing hostname)', async () => {
    await resetToSeed();
    await admin(async (c) => {
      await assert.rejects(
        q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (60, 'x', 'BROKEN')"),
        /CHECK constraint failed: UPPER\(status\) IN/,
      );
      await assert.rejects(q(c, "UPDATE mysql_servers SET status='DOWN' WHERE hostname='db-b'"), /CHECK constraint failed/);
      assert.equal((await q(c, "SELECT status FROM mysql_servers WHERE hostname='db-b'"))[0]?.status, 'ONLINE', 'failed UPDATE changed nothing');
      await assert.rejects(q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, port) VALUES (60, 'x', 70000)"), /CHECK constraint failed: port/);
      await assert.rejects(
        q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, use_ssl) VALUES (60, 'x', 2)"),
        /CHECK constraint failed: use_ssl/,
      );
      await assert.rejects(q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, port, gtid_port) VALUES (60, 'x', 3306, 3306)"), /gtid_port/);
      await assert.rejects(q(c, 'INSERT INTO mysql_servers (hostgroup_id) VALUES (60)'), /NOT NULL constraint failed: mysql_servers.hostname/);
      await assert.rejects(q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname) VALUES (-1, 'x')"), /CHECK constraint failed: hostgroup_id>=0/);
      // CHECK uses UPPER(status): lower case is accepted in MEMORY, and RUNTIME shows the canonical name
      await q(c, "INSERT INTO mysql_servers (hostgroup_id, hostname, status) VALUES (60, 'lower', 'offline_soft')");
      await q(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      assert.equal((await q(c, "SELECT status FROM mysql_servers WHERE hostname='lower'"))[0]?.status, 'offline_soft');
      assert.equal((await q(c, "SELECT status FROM runtime_mysql_servers WHERE hostname='lower'"))[0]?.status, 'OFFLINE_SOFT');
    });
  });

  it('answers unknown or unsupported statements with an error and keeps the session usable', async () => {
    await admin(async (c) => {
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
        await assert.rejects(q(c, sql), (err: Error & { errno?: number }) => {
          assert.equal(err.errno, 1045, sql);
          assert.match(err.message, /^ProxySQL Admin Error: /, sql);
          return true;
        });
      }
      assert.deepEqual(await q(c, 'SELECT 1'), [{ '1': '1' }], 'connection still usable');
      await c.ping();
    });
  });

  it('moves mysql_replication_hostgroups with the MYSQL SERVERS commands and enforces its constraints', async () => {
    await resetToSeed();
    await admin(async (c) => {
      await q(c, "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, comment) VALUES (30, 31, 'second')");
      assert.equal((await q(c, 'SELECT * FROM runtime_mysql_replication_hostgroups WHERE writer_hostgroup=30')).length, 0);
      await q(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      assert.deepEqual(await q(c, 'SELECT * FROM runtime_mysql_replication_hostgroups WHERE writer_hostgroup=30'), [
        { writer_hostgroup: '30', reader_hostgroup: '31', check_type: 'read_only', comment: 'second' },
      ]);
      assert.equal((await q(c, 'SELECT * FROM disk.mysql_replication_hostgroups WHERE writer_hostgroup=30')).length, 0);
      await q(c, 'SAVE MYSQL SERVERS TO DISK');
      assert.equal((await q(c, 'SELECT * FROM disk.mysql_replication_hostgroups WHERE writer_hostgroup=30')).length, 1);

      await assert.rejects(
        q(c, 'INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup) VALUES (32, 32)'),
        /CHECK constraint failed/,
      );
      await assert.rejects(
        q(c, 'INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup) VALUES (33, 31)'),
        /UNIQUE constraint failed: mysql_replication_hostgroups.reader_hostgroup/,
      );
      await assert.rejects(
        q(c, "INSERT INTO mysql_replication_hostgroups (writer_hostgroup, reader_hostgroup, check_type) VALUES (34, 35, 'magic')"),
        /CHECK constraint failed: LOWER\(check_type\)/,
      );
    });
  });

  it('purges OFFLINE_HARD servers from runtime_mysql_servers (no connections), keeping them in MEMORY', async () => {
    await resetToSeed();
    await admin(async (c) => {
      await q(c, "UPDATE mysql_servers SET status='OFFLINE_HARD' WHERE hostgroup_id=20 AND hostname='db-a'");
      await q(c, 'LOAD MYSQL SERVERS TO RUNTIME');
      assert.equal((await q(c, "SELECT * FROM runtime_mysql_servers WHERE hostgroup_id=20 AND hostname='db-a'")).length, 0);
      assert.equal((await q(c, "SELECT status FROM mysql_servers WHERE hostgroup_id=20 AND hostname='db-a'"))[0]?.status, 'OFFLINE_HARD');
    });
  });

  it('routeWriter switches the writer hostgroup, saves to disk and verifies runtime', async () => {
    await resetToSeed();
    const res = await routeWriter(endpoint(), {
      writerHostgroup: WRITER_HG,
      readerHostgroup: READER_HG,
      newPrimary: { host: 'db-b', port: 3307 },
      oldPrimary: { host: 'db-a', port: 3306 },
    });
    assert.deepEqual(keys(res.before), ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE', '20/db-b:3307/ONLINE']);
    // old primary OFFLINE_HARD in both hostgroups -> purged from runtime; new primary ONLINE in the writer hostgroup
    assert.deepEqual(keys(res.after), ['10/db-b:3307/ONLINE', '20/db-b:3307/ONLINE']);
    assert.deepEqual(await readServers(endpoint(), 'runtime'), res.after);

    const mem = await readServers(endpoint(), 'memory');
    assert.deepEqual(keys(mem), ['10/db-a:3306/OFFLINE_HARD', '10/db-b:3307/ONLINE', '20/db-a:3306/OFFLINE_HARD', '20/db-b:3307/ONLINE']);
    const newWriter = mem.find((r) => r.hostgroup_id === WRITER_HG && r.hostname === 'db-b');
    assert.equal(newWriter?.gtid_port, 33070, 'server-level settings copied from the reader row');
    assert.equal(newWriter?.use_ssl, 1);
    assert.equal(newWriter?.max_connections, 700);
    assert.equal(newWriter?.max_replication_lag, 0, 'writer row does not inherit the replica lag limit');
    assert.deepEqual(await readServers(endpoint(), 'disk'), mem, 'saved to disk');
    assert.deepEqual(
      res.configBefore.map((r) => r.hostname),
      ['db-a', 'db-a', 'db-b'],
    );
  });

  it('routeWriter is idempotent', async () => {
    await resetToSeed();
    const spec = {
      writerHostgroup: WRITER_HG,
      readerHostgroup: READER_HG,
      newPrimary: { host: 'db-b', port: 3307 },
      oldPrimary: { host: 'db-a', port: 3306 },
    };
    const first = await routeWriter(endpoint(), spec);
    const memAfterFirst = await readServers(endpoint(), 'memory');
    const second = await routeWriter(endpoint(), spec);
    assert.deepEqual(second.after, first.after);
    assert.deepEqual(second.before, first.after, 'the second call starts from the switched state');
    assert.deepEqual(await readServers(endpoint(), 'memory'), memAfterFirst);
    assert.deepEqual(await readServers(endpoint(), 'disk'), memAfterFirst);
  });

  it('routeWriter back to a fenced (OFFLINE_HARD) old primary works (failback)', async () => {
    await resetToSeed();
    await routeWriter(endpoint(), { writerHostgroup: WRITER_HG, newPrimary: { host: 'db-b', port: 3307 }, oldPrimary: { host: 'db-a', port: 3306 } });
    const back = await routeWriter(endpoint(), {
      writerHostgroup: WRITER_HG,
      newPrimary: { host: 'db-a', port: 3306 },
      oldPrimary: { host: 'db-b', port: 3307 },
    });
    assert.deepEqual(
      keys(back.after.filter((r) => r.hostgroup_id === WRITER_HG)),
      ['10/db-a:3306/ONLINE'],
      'db-b OFFLINE_HARD (purged), db-a ONLINE again',
    );
  });

  it('routeWriter there and back with the reader hostgroup: the primary reads again, the demoted one is out until it replicates', async () => {
    await resetToSeed();
    const spec = (to: string, toPort: number, from: string, fromPort: number) => ({
      writerHostgroup: WRITER_HG,
      readerHostgroup: READER_HG,
      newPrimary: { host: to, port: toPort },
      oldPrimary: { host: from, port: fromPort },
    });
    await routeWriter(endpoint(), spec('db-b', 3307, 'db-a', 3306));
    const back = await routeWriter(endpoint(), spec('db-a', 3306, 'db-b', 3307));
    assert.deepEqual(keys(back.after), ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE'], 'db-a writes and reads again; db-b OFFLINE_HARD (purged)');
  });

  it('restoreServers round-trips the snapshot routeWriter returned (the compensation)', async () => {
    await resetToSeed();
    const seedMemory = await readServers(endpoint(), 'memory');
    const seedRuntime = await readServers(endpoint(), 'runtime');
    const res = await routeWriter(endpoint(), {
      writerHostgroup: WRITER_HG,
      readerHostgroup: READER_HG,
      newPrimary: { host: 'db-b', port: 3307 },
      oldPrimary: { host: 'db-a', port: 3306 },
    });

    const undo = await restoreServers(endpoint(), res.configBefore);
    assert.deepEqual(undo.before, res.after);
    assert.deepEqual(undo.after, seedRuntime);
    for (const layer of ['memory', 'disk'] as const) assert.deepEqual(await readServers(endpoint(), layer), seedMemory, layer);
    // idempotent
    const again = await restoreServers(endpoint(), res.configBefore);
    assert.deepEqual(again.after, seedRuntime);
    // restoring from the runtime snapshot gives the same routing
    await routeWriter(endpoint(), { writerHostgroup: WRITER_HG, newPrimary: { host: 'db-b', port: 3307 } });
    const fromRuntime = await restoreServers(endpoint(), res.before);
    assert.deepEqual(fromRuntime.after, res.before);
  });

  it('restoreServers refuses duplicate rows and leaves MEMORY untouched when ProxySQL rejects the rows', async () => {
    await resetToSeed();
    const mem = await readServers(endpoint(), 'memory');
    await assert.rejects(
      restoreServers(endpoint(), [
        { hostgroup_id: 1, hostname: 'x', port: 1 },
        { hostgroup_id: 1, hostname: 'x', port: 1 },
      ]),
      /duplicate row/,
    );
    // a row ProxySQL refuses (CHECK on max_replication_lag) -> the INSERT fails, MEMORY is rolled back
    await assert.rejects(
      restoreServers(endpoint(), [{ hostgroup_id: 1, hostname: 'x', port: 1, max_replication_lag: 999999999 }]),
      /CHECK constraint failed/,
    );
    assert.deepEqual(await readServers(endpoint(), 'memory'), mem);
    assert.deepEqual(await readServers(endpoint(), 'runtime'), mem);
  });

  it('setServerStatus fences the writer (OFFLINE_HARD), idempotently, and refuses unknown servers', async () => {
    await resetToSeed();
    const target = { hostgroup: WRITER_HG, host: 'db-a', port: 3306, status: 'OFFLINE_HARD' as const };
    const res = await setServerStatus(endpoint(), target);
    assert.ok(res.before.some((r) => r.hostgroup_id === WRITER_HG && r.hostname === 'db-a' && r.status === 'ONLINE'));
    assert.ok(!res.after.some((r) => r.hostgroup_id === WRITER_HG), 'no writer at runtime');
    assert.equal((await readServers(endpoint(), 'disk')).find((r) => r.hostgroup_id === WRITER_HG)?.status, 'OFFLINE_HARD');
    const again = await setServerStatus(endpoint(), target);
    assert.deepEqual(again.after, res.after);

    const soft = await setServerStatus(endpoint(), { hostgroup: READER_HG, host: 'db-b', port: 3307, status: 'OFFLINE_SOFT' });
    assert.equal(soft.after.find((r) => r.hostname === 'db-b')?.status, 'OFFLINE_SOFT');

    await assert.rejects(setServerStatus(endpoint(), { hostgroup: 99, host: 'ghost', port: 1, status: 'OFFLINE_HARD' }), /not configured/);
  });

  it('routeWriter throws ProxySqlVerificationError when runtime does not take the change', async () => {
    // A second emulator whose LOAD ... TO RUNTIME answers OK but changes nothing (test-only fault).
    const broken = await startEmulator(path.join(tmp, 'broken-state.json'), ['--fault', 'ignore-load']);
    try {
      const ep = { host: '127.0.0.1', port: broken.port, user: USER, password: PASSWORD };
      const spec = { writerHostgroup: WRITER_HG, newPrimary: { host: 'db-b', port: 3307 }, oldPrimary: { host: 'db-a', port: 3306 } };
      await assert.rejects(routeWriter(ep, spec), (err: unknown) => {
        assert.ok(err instanceof ProxySqlVerificationError);
        assert.ok(
          err.problems.some((p) => p.includes('db-b:3307 is not in writer hostgroup 10 at runtime')),
          err.message,
        );
        assert.ok(
          err.problems.some((p) => p.includes('hg 10 db-a:3306 is still ONLINE at runtime')),
          err.message,
        );
        assert.deepEqual(
          keys(err.before),
          ['10/db-a:3306/ONLINE', '20/db-a:3306/ONLINE', '20/db-b:3307/ONLINE'],
          'snapshot attached for compensation',
        );
        return true;
      });
      await assert.rejects(
        setServerStatus(ep, { hostgroup: WRITER_HG, host: 'db-a', port: 3306, status: 'OFFLINE_HARD' }),
        /still ONLINE at runtime/,
      );
    } finally {
      assert.equal(await stopEmulator(broken), 0);
    }
  });

  it('quotes string literals SQLite-style (no injection through host names)', async () => {
    await resetToSeed();
    const evil = "x' OR '1'='1";
    await restoreServers(endpoint(), [...SEED_SERVERS, { hostgroup_id: 70, hostname: evil, port: 1, comment: "it's" }]);
    const row = (await readServers(endpoint(), 'runtime')).find((r) => r.hostgroup_id === 70);
    assert.equal(row?.hostname, evil);
    assert.equal(row?.comment, "it's");
    await setServerStatus(endpoint(), { hostgroup: 70, host: evil, port: 1, status: 'OFFLINE_SOFT' });
    assert.equal((await readServers(endpoint(), 'memory')).filter((r) => r.status === 'OFFLINE_SOFT').length, 1);
  });
});
