// The lab's BIND: a real DNS server that proves the flip. A primary in the control site takes the runbooks'
// TSIG-signed updates and NOTIFYs one secondary per site, which transfers the change (IXFR) and answers that
// site's clients authoritatively, so "what clients in tw resolve" is what tw's own server says. Chosen by the
// config alone: dns.provider: rfc2136, with dns.rfc2136.servers on the sites' addresses (see config/lab.yaml).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';
import { zoneSerial } from '../activities/dns-query';
import type { LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, stopDaemon, waitFor } from './procs';
import { LabNetwork } from './network';
import { primaryConf, secondaryConf, tsigKeyClause, zoneFile, type BindZone, type NamedServer } from './bind-conf';

export type { BindZone, NamedServer } from './bind-conf';

export const NAMED = '/usr/sbin/named';
const INSTALL_HINT = 'install BIND 9: apt-get install bind9 bind9-dnsutils (named, nsupdate, dig)';

/** Where the servers keep their pid records, logs and folders: the lab's, or a test's own. */
export type BindDirs = Pick<LabDirs, 'pids' | 'logs' | 'data'>;

export function namedName(server: Pick<NamedServer, 'name'>): string {
  return `bind-${server.name}`;
}

/** Whether this config asks for the lab's BIND: the RFC 2136 provider. */
export function bindConfigured(loaded: LoadedConfig): boolean {
  return loaded.config.dns?.provider === 'rfc2136';
}

/** Writes the TSIG secret the config refers to (file:), once: 32 random bytes, base64, as tsig-keygen makes them. */
export function ensureBindSecret(loaded: LoadedConfig): void {
  const ref = loaded.config.dns?.rfc2136?.tsig.secret;
  if (!ref?.startsWith('file:')) return;
  const file = resolve(loaded.baseDir, ref.slice(5));
  if (existsSync(file)) return;
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
}

/**
 * The lab's zone from the config: the server at dns.rfc2136.primary is the primary, every other server a
 * secondary, each in the site whose address it has; the records start at the primary-role site.
 */
export function bindZoneOf(loaded: LoadedConfig): BindZone {
  const dns = loaded.config.dns;
  const settings = dns?.rfc2136;
  if (!dns || dns.provider !== 'rfc2136' || !settings)
    throw new Error(`${loaded.file}: dns.provider: the lab's BIND needs provider rfc2136 and a dns.rfc2136 section`);
  const network = new LabNetwork(loaded);
  const servers: NamedServer[] = settings.servers.map((server, index) => {
    if (!network.enabled) return { name: server.name, host: server.host, port: server.port };
    const site = Object.entries(network.net!.sites).find(([, address]) => address === server.host)?.[0];
    if (!site) throw new Error(`${loaded.file}: dns.rfc2136.servers[${index}].host: ${server.host} is no site's address in x-lab.network.sites`);
    return { name: server.name, host: server.host, port: server.port, netns: network.place(site).netns };
  });
  const isPrimary = (server: NamedServer) => server.host === settings.primary.host && server.port === settings.primary.port;
  const primary = servers.find(isPrimary);
  if (!primary) throw new Error(`${loaded.file}: dns.rfc2136.servers: none is the primary ${settings.primary.host}:${settings.primary.port}`);
  const initial = loaded.config.sites.find((site) => site.role === 'primary')?.id;
  return {
    zoneName: dns.zoneName,
    records: dns.records.flatMap((record) => {
      const value = initial === undefined ? undefined : record.values[initial];
      return value === undefined ? [] : [{ name: record.name, type: record.type, ttl: record.ttl, value }];
    }),
    tsig: { name: settings.tsig.name, algorithm: settings.tsig.algorithm, secret: resolveSecret(settings.tsig.secret, loaded.baseDir) },
    primary,
    secondaries: servers.filter((server) => !isPrimary(server)),
  };
}

/** Starts the lab's BIND (the primary, then each secondary once it can transfer), unless ours is running. */
export async function startBind(loaded: LoadedConfig, dirs: LabDirs): Promise<Record<string, 'started' | 'running'>> {
  ensureBindSecret(loaded);
  return startNamedServers(bindZoneOf(loaded), dirs);
}

export async function stopBind(loaded: LoadedConfig, dirs: LabDirs): Promise<Record<string, 'stopped' | 'not running'>> {
  const settings = loaded.config.dns?.rfc2136;
  const out: Record<string, 'stopped' | 'not running'> = {};
  for (const server of settings?.servers ?? []) out[namedName(server)] = await stopDaemon(dirs.pids, namedName(server));
  return out;
}

export async function startNamedServers(zone: BindZone, dirs: BindDirs): Promise<Record<string, 'started' | 'running'>> {
  const out: Record<string, 'started' | 'running'> = {};
  out[namedName(zone.primary)] = await startNamed(zone, zone.primary, dirs);
  for (const server of zone.secondaries) out[namedName(server)] = await startNamed(zone, server, dirs);
  return out;
}

export async function stopNamedServers(zone: BindZone, dirs: Pick<BindDirs, 'pids'>): Promise<void> {
  for (const server of [...zone.secondaries, zone.primary]) await stopDaemon(dirs.pids, namedName(server));
}

/**
 * One server: its folder, key file and named.conf written afresh, the primary's zone file only when it has none
 * (a second `lab up` must not undo a failover); returns once it serves the zone (a secondary: transferred it).
 */
export async function startNamed(zone: BindZone, server: NamedServer, dirs: BindDirs): Promise<'started' | 'running'> {
  const name = namedName(server);
  if (alive(readPid(dirs.pids, name))) return 'running';
  if (!existsSync(NAMED)) throw new Error(`${NAMED} is missing: ${INSTALL_HINT}`);
  if (await portOpen(server.port, server.host))
    throw new Error(`port ${server.port} on ${server.host} for ${name} is busy: something else listens there`);
  const dir = join(dirs.data, 'bind', server.name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'tsig.key'), tsigKeyClause(zone.tsig), { mode: 0o600 });
  const primary = server === zone.primary;
  writeFileSync(join(dir, 'named.conf'), primary ? primaryConf(zone, dir) : secondaryConf(zone, server, dir));
  if (primary && !existsSync(join(dir, 'zone.db'))) {
    rmSync(join(dir, 'zone.db.jnl'), { force: true }); // a journal without its zone file would not load
    writeFileSync(join(dir, 'zone.db'), zoneFile(zone));
  }
  startDaemon({
    name,
    command: NAMED,
    args: ['-f', '-c', join(dir, 'named.conf')],
    netns: server.netns,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: server.port,
  });
  const rec = readPid(dirs.pids, name);
  const log = join(dirs.logs, `${name}.log`);
  await waitFor(
    `${name} serving ${zone.zoneName} on ${server.host}:${server.port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up (${server.host}:${server.port}); see ${log}`);
      return zoneSerial(server, zone.zoneName).then(
        () => true,
        () => false,
      );
    },
    30_000,
    log,
  );
  return 'started';
}
