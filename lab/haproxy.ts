// One HAProxy per site, in the site's namespace: clients connect to its listen address for writes, and it
// passes each connection to the one server of its backend that is ready. There is a server for every site's
// database; the config's primary starts ready, every other one `disabled` (maint), and the runbooks move the
// writer through the runtime API (activities/haproxy.ts). Debian's haproxy 2.6.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { HaproxyConfig, Site } from '../config/schema';
import { haproxyEndpointOf, haproxyServerOf, type HaproxyAdmin } from '../activities/haproxy';
import type { LabDirs } from './paths';
import { alive, portOpen, readPid, socketOpen, startDaemon, stopDaemon, tail, waitFor } from './procs';
import { placeOf } from './network';

export const HAPROXY_BIN = '/usr/sbin/haproxy';

export const haproxyName = (site: Site) => `haproxy-${site.id}`;

export function requireHaproxy(): string {
  if (!existsSync(HAPROXY_BIN)) throw new Error(`${HAPROXY_BIN} is missing: install Debian's haproxy ('apt-get install haproxy')`);
  return HAPROXY_BIN;
}

/** What a generated haproxy.cfg holds: its listener, its runtime API, and its servers with their first states. */
export interface HaproxySpec {
  listen: { host: string; port: number };
  admin: HaproxyAdmin;
  backend: string;
  /** Absolute; HAProxy loads the states saved there at start-up, over the ones below. */
  stateFile?: string;
  servers: Array<{ name: string; host: string; port: number; ready: boolean }>;
}

/**
 * The text of haproxy.cfg. Plain TCP (a MySQL connection is passed through whole) and no health checks:
 * a TCP check connects and hangs up, which MySQL counts against max_connect_errors until it blocks the
 * proxy's host; the runbooks, not the checks, decide where writes go.
 */
export function haproxyConfigText(spec: HaproxySpec): string {
  const api = 'socket' in spec.admin ? `${spec.admin.socket} mode 600` : `ipv4@${spec.admin.host}:${spec.admin.port}`;
  return [
    'global',
    `  stats socket ${api} level admin`,
    ...(spec.stateFile ? [`  server-state-file ${spec.stateFile}`] : []),
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 2s',
    // A client's pooled connection may idle for long; the fence shuts sessions down, not a timeout.
    '  timeout client 1h',
    '  timeout server 1h',
    ...(spec.stateFile ? ['  load-server-state-from-file global'] : []),
    '',
    `listen ${spec.backend}`,
    `  bind ${spec.listen.host}:${spec.listen.port}`,
    ...spec.servers.map((server) => `  server ${server.name} ${server.host}:${server.port}${server.ready ? '' : ' disabled'}`),
    '',
  ].join('\n');
}

/** A site's HAProxy as the config describes it: a server per site's database, the config's primary ready. */
export function labHaproxySpec(loaded: LoadedConfig, site: Site): HaproxySpec {
  const haproxy = haproxyOf(loaded, site);
  const endpoint = haproxyEndpointOf(haproxy, loaded.baseDir);
  return {
    listen: haproxy.listen,
    admin: endpoint.admin,
    backend: endpoint.backend,
    ...(endpoint.stateFile && { stateFile: endpoint.stateFile }),
    servers: loaded.config.sites.map((s) => ({
      name: haproxyServerOf(haproxy, s.id),
      host: s.mysql.host,
      port: s.mysql.port,
      ready: s.role === 'primary',
    })),
  };
}

function haproxyOf(loaded: LoadedConfig, site: Site): HaproxyConfig {
  if (!site.haproxy) throw new Error(`${loaded.file}: site ${site.id} has no haproxy section`);
  return site.haproxy;
}

/** Start the site's HAProxy in its namespace, in the foreground (`-db`) so that its pid is the one we track. */
export async function startHaproxy(loaded: LoadedConfig, dirs: LabDirs, site: Site): Promise<'started' | 'running'> {
  const name = haproxyName(site);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const spec = labHaproxySpec(loaded, site);
  const index = loaded.config.sites.indexOf(site);
  const listening = [{ ...spec.listen, field: `sites[${index}].haproxy.listen.port` }];
  if (!('socket' in spec.admin)) listening.push({ ...spec.admin, field: `sites[${index}].haproxy.admin.port` });
  for (const { host, port, field } of listening) {
    if (await portOpen(port, host))
      throw new Error(`port ${port} for ${name} is busy: something else listens there (change ${field} in ${loaded.file})`);
  }
  const bin = requireHaproxy();
  const file = join(dirs.state, `${name}.cfg`);
  writeFileSync(file, haproxyConfigText(spec));
  if (spec.stateFile) mkdirSync(dirname(spec.stateFile), { recursive: true });
  checkHaproxyConfig(file);
  startDaemon({
    name,
    command: bin,
    args: ['-db', '-f', file],
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: spec.listen.port,
    netns: placeOf(loaded, site.id).netns,
  });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  await waitFor(
    `${name} on port ${spec.listen.port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (its config: ${file}):\n${tail(log)}`);
      return (await portOpen(spec.listen.port, spec.listen.host)) && (await haproxyAdminOpen(spec.admin));
    },
    30_000,
    log,
  );
  return 'started';
}

export function stopHaproxy(dirs: LabDirs, site: Site): Promise<'stopped' | 'not running'> {
  return stopDaemon(dirs.pids, haproxyName(site));
}

/** `haproxy -c`: a config HAProxy refuses fails here with its own reasons, not as a daemon that died. */
export function checkHaproxyConfig(file: string): void {
  try {
    execFileSync(requireHaproxy(), ['-c', '-q', '-f', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`HAProxy refuses ${file}:\n${[stdout, stderr].filter(Boolean).join('\n').trim()}`);
  }
}

export function haproxyAdminOpen(admin: HaproxyAdmin): Promise<boolean> {
  return 'socket' in admin ? socketOpen(admin.socket) : portOpen(admin.port, admin.host);
}
