// The lab's Route 53: moto's server on x-lab.motoPort. moto keeps its state in memory and generates hosted
// zone ids, so every start (re)creates the zone and writes its id to <stateDir>/route53-zone-id; the lab's
// dns config says hostedZoneId: lab-generated (or leaves it out) and labDnsConfig() substitutes the real id.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand, ListHostedZonesByNameCommand, type Change } from '@aws-sdk/client-route-53';
import type { LoadedConfig } from '../config/load';
import { readRecords, route53Client, type DnsConfig } from '../activities/dns';
import { ROOT, labDirs, venvBin, type LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, waitFor } from './procs';
import { placeOf } from './network';
import { requireBinary } from './services';
import { labOf } from './settings';

/** The daemon's name in the lab's pid and log folders. */
export const MOTO = 'moto';
/** The hostedZoneId a lab config uses to say "whatever id moto generated". */
export const LAB_GENERATED = 'lab-generated';

export function zoneIdFile(dirs: Pick<LabDirs, 'state'>): string {
  return join(dirs.state, 'route53-zone-id');
}

/** The seconds a change stays PENDING, read by lab/moto_server.py at each change: settable while moto runs. */
export function insyncDelayFile(dirs: Pick<LabDirs, 'state'>): string {
  return join(dirs.state, 'route53-insync-delay');
}

/** Makes the lab's Route 53 answer PENDING for `seconds` after each later change, as the real one does. */
export function setInsyncDelay(dirs: Pick<LabDirs, 'state'>, seconds: number): void {
  writeFileSync(insyncDelayFile(dirs), `${seconds}\n`);
}

export function motoPort(loaded: LoadedConfig): number {
  const port = labOf(loaded).motoPort;
  if (port === undefined) throw new Error(`${loaded.file}: x-lab.motoPort: not set; the lab's Route 53 (moto) needs a port`);
  return port;
}

/** Whether this config asks for the lab's Route 53: a x-lab.motoPort and a dns section. */
export function motoConfigured(loaded: LoadedConfig): boolean {
  return labOf(loaded).motoPort !== undefined && loaded.config.dns !== undefined && loaded.config.dns.provider !== 'rfc2136';
}

export function motoEndpoint(loaded: LoadedConfig): string {
  return `http://${placeOf(loaded).host}:${motoPort(loaded)}`;
}

/** moto answers its own API (not just any listener on the port). */
export async function motoHealthy(loaded: LoadedConfig): Promise<boolean> {
  try {
    const res = await fetch(`${motoEndpoint(loaded)}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** Starts moto (unless ours is running), waits for it to answer HTTP, then ensures the hosted zone. */
export async function startMoto(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  const port = motoPort(loaded);
  let result: 'started' | 'running' = 'running';
  if (!alive(readPid(dirs.pids, MOTO))) {
    const { host, netns } = placeOf(loaded);
    if (await portOpen(port, host))
      throw new Error(`port ${port} for moto (the lab's Route 53) is busy: something else listens there (change x-lab.motoPort in ${loaded.file})`);
    requireBinary(venvBin('moto_server'));
    setInsyncDelay(dirs, labOf(loaded).route53InsyncDelay);
    startDaemon({
      name: MOTO,
      command: venvBin('python3'),
      args: [join(ROOT, 'lab', 'moto_server.py'), '--insync-delay-file', insyncDelayFile(dirs), '-H', host, '-p', String(port)],
      netns,
      pidsDir: dirs.pids,
      logsDir: dirs.logs,
      port,
    });
    const rec = readPid(dirs.pids, MOTO);
    const log = join(dirs.logs, `${MOTO}.log`);
    await waitFor(
      `moto on port ${port}`,
      async () => {
        if (!alive(rec)) throw new Error(`moto exited during start-up (port ${port}, x-lab.motoPort in ${loaded.file}); see ${log}`);
        return motoHealthy(loaded);
      },
      60_000,
      log,
    );
    result = 'started';
  }
  await ensureHostedZone(loaded, { dirs });
  return result;
}

/**
 * Creates the hosted zone dns.zoneName in moto if missing, writes its generated id to
 * <stateDir>/route53-zone-id and returns the id. Configured records that do not exist yet are created
 * pointing at `pointAt` (default: the primary-role site); records that exist are left as they are, so a
 * second `lab up` does not undo a failover.
 */
export async function ensureHostedZone(loaded: LoadedConfig, opts: { dirs?: LabDirs; pointAt?: string } = {}): Promise<string> {
  const dns = loaded.config.dns;
  if (!dns) throw new Error(`${loaded.file}: dns: this lab config has no dns section`);
  if (!isLabGenerated(dns)) {
    throw new Error(
      `${loaded.file}: dns.hostedZoneId is '${dns.hostedZoneId}', but moto generates zone ids: set it to '${LAB_GENERATED}' (or leave it out) in a lab config`,
    );
  }
  const dirs = opts.dirs ?? labDirs(loaded);
  const endpoint = dns.endpoint ?? motoEndpoint(loaded);
  const client = route53Client({ ...dns, endpoint }, loaded.baseDir);
  const zoneName = dns.zoneName.endsWith('.') ? dns.zoneName : `${dns.zoneName}.`;
  let id: string;
  try {
    const found = await client.send(new ListHostedZonesByNameCommand({ DNSName: zoneName, MaxItems: 1 }));
    const zone = found.HostedZones?.find((z) => z.Name === zoneName);
    if (zone?.Id) {
      id = zone.Id.replace(/^\/hostedzone\//, '');
    } else {
      const created = await client.send(new CreateHostedZoneCommand({ Name: zoneName, CallerReference: `dr-lab-${Date.now()}` }));
      id = created.HostedZone!.Id!.replace(/^\/hostedzone\//, '');
    }
  } catch (err) {
    throw new Error(`moto at ${endpoint}: cannot find or create hosted zone ${zoneName}: ${(err as Error).message}`, { cause: err });
  } finally {
    client.destroy();
  }
  writeFileSync(zoneIdFile(dirs), `${id}\n`);

  const site = opts.pointAt ?? loaded.config.sites.find((s) => s.role === 'primary')?.id;
  const real: DnsConfig = { ...dns, endpoint, hostedZoneId: id };
  const now = await readRecords({ dns: real, baseDir: loaded.baseDir });
  const missing: Change[] = [];
  for (const r of dns.records) {
    const value = site === undefined ? undefined : r.values[site];
    if (value === undefined || now.find((x) => x.name === r.name && x.type === r.type)?.current) continue;
    missing.push({
      Action: 'CREATE',
      ResourceRecordSet: { Name: r.name.replace(/\.$/, ''), Type: r.type, TTL: r.ttl, ResourceRecords: [{ Value: value }] },
    });
  }
  if (missing.length > 0) {
    const c = route53Client(real, loaded.baseDir);
    try {
      await c.send(
        new ChangeResourceRecordSetsCommand({ HostedZoneId: id, ChangeBatch: { Comment: `lab: initial records at ${site}`, Changes: missing } }),
      );
    } catch (err) {
      throw new Error(`moto at ${endpoint}: cannot create the initial records in ${zoneName} (${id}): ${(err as Error).message}`, { cause: err });
    } finally {
      c.destroy();
    }
  }
  return id;
}

/** The config leaves the zone id to moto: 'lab-generated', or no id at all. */
function isLabGenerated(dns: DnsConfig): boolean {
  return dns.hostedZoneId === undefined || dns.hostedZoneId === LAB_GENERATED;
}

/**
 * The dns section as activities should use it in the lab: the generated zone id in place of
 * 'lab-generated' (or no id), and moto's endpoint when the config names none (so a lab never reaches AWS).
 */
export function labDnsConfig(loaded: LoadedConfig): DnsConfig {
  const dns = loaded.config.dns;
  if (!dns) throw new Error(`${loaded.file}: dns: this config has no dns section`);
  if (!isLabGenerated(dns)) return dns;
  labOf(loaded); // only a lab config can leave the zone id to moto
  const file = zoneIdFile({ state: resolve(loaded.baseDir, loaded.config.stateDir) });
  if (!existsSync(file)) throw new Error(`${file} is missing: the lab's Route 53 (moto) has not been started ('npm run lab -- up')`);
  return { ...dns, hostedZoneId: readFileSync(file, 'utf8').trim(), endpoint: dns.endpoint ?? motoEndpoint(loaded) };
}
