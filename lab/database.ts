// One database server per site, each in its own data directory and port, with GTID replication from the
// primary. The engine (x-lab.engine, or DR_LAB_ENGINE) is MySQL or MariaDB.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { siteInGroup, type LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { resolveSecret } from '../activities/secrets';
import { ROOT, type LabDirs } from './paths';
import { alive, portOpen, readPid, sleep, socketOpen, startDaemon, stopDaemon, tail, waitFor } from './procs';
import { labOf } from './settings';
import { placeOf } from './network';
import type { Engine, EngineServer } from './engine';
import { mariadb } from './mariadb';
import { mysql } from './mysql';
import { bootstrapSemiSync } from './semi-sync';

export const TRADING_SCHEMA = `
CREATE DATABASE IF NOT EXISTS trading;
CREATE TABLE IF NOT EXISTS trading.accounts (id BIGINT PRIMARY KEY, name VARCHAR(64) NOT NULL, balance DECIMAL(18,2) NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS trading.orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, account_id BIGINT NOT NULL, symbol VARCHAR(16) NOT NULL, side ENUM('buy','sell') NOT NULL, qty INT NOT NULL, price DECIMAL(18,4) NOT NULL, created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), KEY (account_id));
CREATE TABLE IF NOT EXISTS trading.ticks (seq BIGINT PRIMARY KEY, writer VARCHAR(32) NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
CREATE TABLE IF NOT EXISTS trading.dr_probe (id BIGINT AUTO_INCREMENT PRIMARY KEY, site VARCHAR(32) NOT NULL, runbook VARCHAR(128) NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6));
CREATE TABLE IF NOT EXISTS trading.dr_drill (drill VARCHAR(64) NOT NULL, writer VARCHAR(32) NOT NULL, seq BIGINT NOT NULL, written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (drill, writer, seq));
INSERT IGNORE INTO trading.accounts VALUES (1,'alpha',1000000),(2,'bravo',250000),(3,'charlie',50000);
`;

const ENGINES: Record<Engine, EngineServer> = { mysql, mariadb };

/**
 * A fresh data directory, copied from one initialised once per engine and server build: initialising takes
 * seconds of CPU (and the lab starts fresh servers before most test suites), a copy a moment. The copy drops
 * auto.cnf, so that each server makes its own server_uuid (its GTIDs' source id) at its first start.
 */
function copyOfInitialised(engine: Engine, server: EngineServer, datadir: string): void {
  const client = server.client().includes('/') ? server.client() : execFileSync('which', [server.client()], { encoding: 'utf8' }).trim();
  const build = statSync(client);
  const key = createHash('sha256').update(`${engine} ${client} ${build.size} ${build.mtimeMs}`).digest('hex').slice(0, 12);
  const template = join(ROOT, '.cache', 'lab-datadir', `${engine}-${key}`);
  if (!existsSync(join(template, DONE))) {
    const building = `${template}.${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    mkdirSync(building, { recursive: true });
    server.initialise(building);
    writeFileSync(join(building, DONE), '');
    rmSync(template, { recursive: true, force: true });
    renameSync(building, template);
  }
  cpSync(template, datadir, { recursive: true });
  for (const f of [DONE, 'auto.cnf']) rmSync(join(datadir, f), { force: true });
}

const DONE = '.dr-lab-template';

export function engineOf(loaded: LoadedConfig): Engine {
  return labOf(loaded).engine;
}

/** A group with servers of its own runs MariaDB with small buffers, whatever the lab's engine: many fit. */
const engineFor = (loaded: LoadedConfig, group?: string): Engine => (group ? 'mariadb' : engineOf(loaded));

function serverOf(loaded: LoadedConfig, group?: string): EngineServer {
  return ENGINES[engineFor(loaded, group)];
}

/** `group`: a group with servers of its own; its server at `site` (site as the group sees it, config siteInGroup). */
export function dbName(site: Site, group?: string): string {
  return `db-${site.id}${group ? `-${group}` : ''}`;
}

export function socketOf(dirs: LabDirs, site: Site, group?: string): string {
  return join(dirs.run, `${dbName(site, group)}.sock`);
}

/** Every server of the groups with servers of their own: each site as the group sees it. */
export function groupServers(loaded: LoadedConfig): Array<{ group: string; site: Site }> {
  const { config } = loaded;
  return config.groups
    .filter((g) => g.databases)
    .flatMap((g) => config.sites.filter((s) => g.sites.includes(s.id)).map((s) => ({ group: g.id, site: siteInGroup(config, s, g.id) })));
}

/** Small enough that 16 groups × 3 sites fit beside the lab (README: memory per group). */
const SMALL = [
  '--innodb-buffer-pool-size=8M',
  '--innodb-log-file-size=8M',
  '--innodb-log-buffer-size=1M',
  '--key-buffer-size=1M',
  '--aria-pagecache-buffer-size=1M',
  '--max-connections=60',
  '--table-open-cache=200',
  '--thread-cache-size=4',
  '--binlog-cache-size=32K',
];

/** The lab's own secrets: random passwords written once, for every file: reference into the lab's state. */
export function ensureSecrets(loaded: LoadedConfig): void {
  const refs = new Set<string>(['file:' + appPasswordFile(loaded)]);
  for (const s of loaded.config.sites) {
    for (const ref of [s.mysql.password, s.mysql.replicationPassword, s.proxysql?.password]) if (ref) refs.add(ref);
  }
  if (loaded.config.detection) refs.add(loaded.config.detection.token);
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

/** Runs SQL as the server's root over its socket: the lab's own back door, never the runbooks'. */
export function sql(loaded: LoadedConfig, dirs: LabDirs, site: Site, statement: string, group?: string): string {
  return execFileSync(
    serverOf(loaded, group).client(),
    ['--no-defaults', '--socket', socketOf(dirs, site, group), '-uroot', '--batch', '--skip-column-names', '-e', statement],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim();
}

export async function startDatabase(
  loaded: LoadedConfig,
  dirs: LabDirs,
  site: Site,
  serverId: number,
  group?: string,
): Promise<'started' | 'running'> {
  const name = dbName(site, group);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const port = site.mysql.port;
  const { host, netns } = placeOf(loaded, site.id);
  // A killed server's listener can outlive its process by a moment, while its threads exit.
  for (const until = Date.now() + 10_000; (await portOpen(port, host)) && Date.now() < until;) await sleep(100);
  if (await portOpen(port, host))
    throw new Error(`port ${port} for ${name} is busy: something else listens there (change sites[].mysql.port in ${loaded.file})`);
  const engine = engineFor(loaded, group);
  const server = ENGINES[engine];
  const datadir = join(dirs.data, name);
  const marker = initialisedMarker(dirs, site, group);
  const fresh = !existsSync(marker);
  if (!fresh && readFileSync(marker, 'utf8').split(' ')[0] !== engine)
    throw new Error(`${name}: its data directory ${datadir} was made by another engine than ${engine}; run \`npm run lab -- destroy\` first`);
  if (fresh) {
    rmSync(datadir, { recursive: true, force: true });
    copyOfInitialised(engine, server, datadir);
  }
  // A killed server leaves its socket and lock file; the lock names its pid, which another process may have
  // by now (pids wrap at 32768 here), and MySQL would then refuse to start.
  const socket = socketOf(dirs, site, group);
  for (const f of [socket, `${socket}.lock`]) rmSync(f, { force: true });
  const { command, prefix } = server.daemon();
  startDaemon({
    name,
    command,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port,
    netns,
    args: [
      ...prefix,
      '--no-defaults',
      `--datadir=${datadir}`,
      `--socket=${socket}`,
      `--pid-file=${join(dirs.run, `${name}.pid`)}`,
      `--port=${port}`,
      `--bind-address=${host}`,
      '--user=root',
      '--skip-name-resolve',
      '--max-connections=300',
      // Every server starts read-only; only a promotion (or the lab's first start) makes one writable.
      ...server.args({ serverId, host, port, datadir }),
      ...(group ? SMALL : []),
    ],
  });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  const started = waitFor(
    `${name} on port ${port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (port ${port}, sites[].mysql.port in ${loaded.file}):\n${tail(log)}`);
      // Both: the lab's own SQL goes over the socket, which a server opens a moment after its port.
      return (await portOpen(port, host)) && (await socketOpen(socket));
    },
    60_000,
    log,
  );
  // A server that did not come up is not left running without anyone waiting for it.
  await started.catch(async (err: unknown) => {
    await stopDaemon(dirs.pids, name, 'SIGKILL');
    throw err;
  });
  if (fresh) writeFileSync(marker, `${engine} ${new Date().toISOString()}`);
  return 'started';
}

/** First start only: users and schema on the primary, then the replicas copy them through replication. */
export function bootstrapReplication(loaded: LoadedConfig, dirs: LabDirs, primary: Site, replicas: Site[], group?: string): void {
  const server = serverOf(loaded, group);
  const pw = (ref: string | undefined) => resolveSecret(ref!, loaded.baseDir).replace(/'/g, "''");
  const m = primary.mysql;
  const app = resolveSecret('file:' + appPasswordFile(loaded), loaded.baseDir);
  sql(
    loaded,
    dirs,
    primary,
    [
      ...server.openPrimary(),
      ...server.primaryBootstrap(m, { runbook: pw(m.password), replication: pw(m.replicationPassword) }),
      `CREATE USER IF NOT EXISTS 'app'@'%' IDENTIFIED BY '${app}'`,
      TRADING_SCHEMA,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON trading.* TO 'app'@'%'`,
    ].join(';\n'),
    group,
  );
  for (const r of replicas)
    sql(loaded, dirs, r, server.replicate(m, r.mysql, { runbook: pw(r.mysql.password), replication: pw(r.mysql.replicationPassword) }), group);
  // per the group's semiSync: the primary and its acknowledgers (the lab's groups of their own have none)
  if (!group) bootstrapSemiSync(loaded, dirs, primary, replicas);
}

function initialisedMarker(dirs: LabDirs, site: Site, group?: string): string {
  return join(dirs.data, dbName(site, group), '.dr-lab-initialised');
}

/** Whether this site's server was set up by an earlier start (its data directory survives `down`). */
export function initialised(dirs: LabDirs, site: Site, group?: string): boolean {
  return existsSync(initialisedMarker(dirs, site, group));
}
