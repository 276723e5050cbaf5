// One MariaDB per site, each in its own data directory and port, with GTID replication from the primary.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { resolveSecret } from '../activities/secrets';
import type { LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, tail, waitFor } from './procs';

const MARIADBD = '/usr/sbin/mariadbd';

export const TRADING_SCHEMA = `
CREATE DATABASE IF NOT EXISTS trading;
CREATE TABLE IF NOT EXISTS trading.accounts (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(18,2) NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS trading.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id BIGINT NOT NULL, symbol VARCHAR(16) NOT NULL, side ENUM('buy','sell') NOT NULL, qty INT NOT NULL, price DECIMAL(18,4) NOT NULL, created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (account_id));
CREATE TABLE IF NOT EXISTS trading.ticks (seq BIGINT PRIMARY KEY, writer VARCHAR(32) NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
CREATE TABLE IF NOT EXISTS trading.dr_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, site VARCHAR(32) NOT NULL, runbook VARCHAR(128) NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
INSERT IGNORE INTO trading.accounts VALUES (1,'alpha',1000000),(2,'bravo',250000),(3,'charlie',50000);
`;

export function dbName(site: Site): string {
  return `mariadb-${site.id}`;
}

export function socketOf(dirs: LabDirs, site: Site): string {
  return join(dirs.run, `mariadb-${site.id}.sock`);
}

/** The lab's own secrets: random passwords written once, for every file: reference into the lab's state. */
export function ensureSecrets(loaded: LoadedConfig): void {
  const refs = new Set<string>(['file:' + appPasswordFile(loaded)]);
  for (const s of loaded.config.sites) {
    for (const ref of [s.mysql.password, s.mysql.replicationPassword, s.proxysql?.password]) if (ref) refs.add(ref);
  }
  for (const ref of refs) {
    if (!ref.startsWith('file:')) continue;
    const f = join(loaded.baseDir, ref.slice(5));
    if (!existsSync(f)) {
      mkdirSync(join(f, '..'), { recursive: true });
      writeFileSync(f, randomBytes(12).toString('hex'), { mode: 0o600 });
    }
  }
}

/** The load generator's unprivileged user: read_only stops it, which is what a fence must do. */
export function appPasswordFile(loaded: LoadedConfig): string {
  return join(loaded.config.stateDir, 'secrets', 'mysql-app');
}

export function sql(dirs: LabDirs, site: Site, statement: string): string {
  return execFileSync('mariadb', ['--socket', socketOf(dirs, site), '-uroot', '--batch', '--skip-column-names', '-e', statement], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export async function startMariadb(loaded: LoadedConfig, dirs: LabDirs, site: Site, serverId: number): Promise<'started' | 'running'> {
  const name = dbName(site);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const port = site.mysql.port;
  if (await portOpen(port))
    throw new Error(`port ${port} for ${name} is busy: something else listens there (change sites[].mysql.port in ${loaded.file})`);
  const datadir = join(dirs.data, name);
  const marker = initialisedMarker(dirs, site);
  const fresh = !existsSync(marker);
  if (fresh) {
    rmSync(datadir, { recursive: true, force: true });
    mkdirSync(datadir, { recursive: true });
    execFileSync(
      'mariadb-install-db',
      ['--no-defaults', `--datadir=${datadir}`, '--user=root', '--auth-root-authentication-method=socket', '--skip-test-db'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
  }
  startDaemon({
    name,
    command: MARIADBD,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port,
    args: [
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socketOf(dirs, site)}`,
      `--pid-file=${join(dirs.run, `${name}.pid`)}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      '--user=root',
      '--skip-name-resolve',
      `--server-id=${serverId}`,
      '--log-bin=binlog',
      '--binlog-format=ROW',
      '--log-slave-updates=ON',
      '--gtid-strict-mode=ON',
      // Every server starts read-only; only a promotion (or the lab's first start) makes one writable.
      '--read-only=ON',
      '--innodb-buffer-pool-size=64M',
      '--innodb-log-file-size=48M',
      '--max-connections=300',
      '--performance-schema=OFF',
    ],
  });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  await waitFor(
    `${name} on port ${port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (port ${port}, sites[].mysql.port in ${loaded.file}):\n${tail(log)}`);
      return portOpen(port);
    },
    60_000,
    log,
  );
  if (fresh) writeFileSync(marker, new Date().toISOString());
  return 'started';
}

/** First start only: users and schema on the primary, then the replicas copy them through replication. */
export function bootstrapReplication(loaded: LoadedConfig, dirs: LabDirs, primary: Site, replicas: Site[]): void {
  const pw = (ref: string | undefined) => resolveSecret(ref!, loaded.baseDir).replace(/'/g, "''");
  const m = primary.mysql;
  const app = resolveSecret('file:' + appPasswordFile(loaded), loaded.baseDir);
  sql(
    dirs,
    primary,
    [
      `CREATE USER IF NOT EXISTS '${m.user}'@'%' IDENTIFIED BY '${pw(m.password)}'`,
      `GRANT ALL PRIVILEGES ON *.* TO '${m.user}'@'%' WITH GRANT OPTION`,
      `CREATE USER IF NOT EXISTS '${m.replicationUser}'@'%' IDENTIFIED BY '${pw(m.replicationPassword)}'`,
      `GRANT REPLICATION SLAVE, REPLICATION CLIENT, BINLOG MONITOR ON *.* TO '${m.replicationUser}'@'%'`,
      `CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${app}'`,
      TRADING_SCHEMA,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON trading.* TO 'app'@'%'`,
      'SET GLOBAL read_only = OFF',
    ].join(';\n'),
  );
  for (const r of replicas) {
    sql(
      dirs,
      r,
      `STOP SLAVE; RESET SLAVE ALL; SET GLOBAL gtid_slave_pos = ''; ` +
        `CHANGE MASTER TO MASTER_HOST='${m.host}', MASTER_PORT=${m.port}, MASTER_USER='${r.mysql.replicationUser}', ` +
        `MASTER_PASSWORD='${pw(r.mysql.replicationPassword)}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1; START SLAVE`,
    );
  }
}

function initialisedMarker(dirs: LabDirs, site: Site): string {
  return join(dirs.data, dbName(site), '.dr-lab-initialised');
}

/** Whether this site's server was set up by an earlier start (its data directory survives `down`). */
export function initialised(dirs: LabDirs, site: Site): boolean {
  return existsSync(initialisedMarker(dirs, site));
}
