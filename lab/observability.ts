// The lab's monitoring: Prometheus and Alertmanager in the control site, a mysqld_exporter beside each site's
// database. This file holds what the three share: their ports and names, the start-up of one, and the status
// rows. lab/prometheus.ts, lab/alertmanager.ts and lab/exporters.ts write their configs and start them.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import type { LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, stopDaemon, tail, waitFor } from './procs';
import { placeOf, type Placement } from './network';
import { requireBinary } from './services';
import { labOf, type LabSettings } from './settings';

export type Observability = NonNullable<LabSettings['observability']>;

/** Names in the lab's pid and log folders. */
export const PROMETHEUS = 'prometheus';
export const ALERTMANAGER = 'alertmanager';
export const exporterName = (site: Site): string => `exporter-${site.id}`;

export function observabilityOf(loaded: LoadedConfig): Observability {
  const settings = labOf(loaded).observability;
  if (!settings) throw new Error(`${loaded.file}: x-lab.observability: not set; the lab's Prometheus, Alertmanager and exporters need its ports`);
  return settings;
}

/** The lab's Prometheus, for tests: `${prometheusUrl(loaded)}/api/v1/query`, `/api/v1/series`. */
export function prometheusUrl(loaded: LoadedConfig): string {
  return `http://${placeOf(loaded).host}:${observabilityOf(loaded).prometheusPort}`;
}

export function alertmanagerUrl(loaded: LoadedConfig): string {
  return `http://${placeOf(loaded).host}:${observabilityOf(loaded).alertmanagerPort}`;
}

/** A site's exporter: on its site's address; on loopback, where every site has the same one, a port per site. */
export function exporterPlace(loaded: LoadedConfig, site: Site): Placement & { port: number } {
  const { exporterPort } = observabilityOf(loaded);
  const index = loaded.config.sites.findIndex((s) => s.id === site.id);
  return { ...placeOf(loaded, site.id), port: labOf(loaded).network ? exporterPort : exporterPort + index };
}

/** For lab/ports.ts: every port the three listen on, by the field that sets it. */
export function observabilityPorts(loaded: LoadedConfig): Array<{ field: string; port: number }> {
  const { prometheusPort, alertmanagerPort, exporterPort } = observabilityOf(loaded);
  const exporters = labOf(loaded).network
    ? [{ field: 'x-lab.observability.exporterPort', port: exporterPort }]
    : loaded.config.sites.map((s, i) => ({ field: `x-lab.observability.exporterPort (+${i} for ${s.id} on loopback)`, port: exporterPort + i }));
  return [
    { field: 'x-lab.observability.prometheusPort', port: prometheusPort },
    { field: 'x-lab.observability.alertmanagerPort', port: alertmanagerPort },
    ...exporters,
  ];
}

/** What `down` stops: nothing when the config has no observability section. */
export function observabilityNames(loaded: LoadedConfig): string[] {
  return labOf(loaded).observability ? [PROMETHEUS, ALERTMANAGER, ...loaded.config.sites.map(exporterName)] : [];
}

/**
 * Writes a generated file; returns whether its content changed. A daemon reads its file at start-up only, so
 * a change (another config on the same state folder, a new secret) restarts it.
 */
export function writeGenerated(file: string, text: string, mode = 0o644): boolean {
  mkdirSync(dirname(file), { recursive: true });
  const changed = !existsSync(file) || readFileSync(file, 'utf8') !== text;
  if (changed) writeFileSync(file, text, { mode });
  chmodSync(file, mode); // mode applies to a new file only
  return changed;
}

export interface Listener {
  name: string;
  binary: string;
  args: string[];
  place: Placement;
  port: number;
  /** The config field that sets the port, for the busy-port message. */
  field: string;
  /** Whether it serves (not just any listener on the port). */
  ready: () => Promise<boolean>;
  /** Its generated config changed since it started: restart it. */
  changed: boolean;
}

/** Starts one daemon in its site unless ours is running, then waits until it serves. */
export async function startListener(loaded: LoadedConfig, dirs: LabDirs, d: Listener): Promise<'started' | 'running'> {
  if (d.changed) await stopDaemon(dirs.pids, d.name);
  if (alive(readPid(dirs.pids, d.name))) return 'running';
  const { host, netns } = d.place;
  if (await portOpen(d.port, host))
    throw new Error(`port ${d.port} for ${d.name} is busy: something else listens there (change ${d.field} in ${loaded.file})`);
  const rec = startDaemon({
    name: d.name,
    command: requireBinary(d.binary),
    args: d.args,
    netns,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: d.port,
  });
  const log = join(dirs.logs, `${d.name}.log`);
  await waitFor(
    `${d.name} on ${host}:${d.port}`,
    async () => {
      if (!alive(rec)) throw new Error(`${d.name} exited during start-up (port ${d.port}, ${d.field} in ${loaded.file}):\n${tail(log)}`);
      return d.ready();
    },
    30_000,
    log,
  );
  return 'started';
}

/** An HTTP GET that answers 2xx within 2 s, with its body. */
export async function httpGet(url: string): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = await res.text();
    return res.ok ? body : null;
  } catch {
    return null;
  }
}

/** Rows for `lab status`, in the shape of lab/index.ts StatusRow. */
export async function observabilityStatus(
  loaded: LoadedConfig,
  dirs: LabDirs,
): Promise<Array<{ component: string; pid: number | null; port?: number; health: string; detail?: string }>> {
  const settings = labOf(loaded).observability;
  if (!settings) return [];
  const pidOf = (name: string) => {
    const rec = readPid(dirs.pids, name);
    return alive(rec) ? rec.pid : null;
  };
  const targets = pidOf(PROMETHEUS) ? await httpGet(`${prometheusUrl(loaded)}/api/v1/targets?state=active`) : null;
  const health = targets ? (JSON.parse(targets).data.activeTargets as Array<{ health: string }>).map((t) => t.health) : [];
  const am = pidOf(ALERTMANAGER) && (await httpGet(`${alertmanagerUrl(loaded)}/-/ready`)) !== null;
  const rows = [
    {
      component: PROMETHEUS,
      pid: pidOf(PROMETHEUS),
      port: settings.prometheusPort,
      health: targets ? 'serving' : 'down',
      detail: targets ? `${health.filter((h) => h === 'up').length} of ${health.length} targets up; ${prometheusUrl(loaded)}` : undefined,
    },
    { component: ALERTMANAGER, pid: pidOf(ALERTMANAGER), port: settings.alertmanagerPort, health: am ? 'serving' : 'down' },
  ];
  for (const site of loaded.config.sites) {
    const { host, port } = exporterPlace(loaded, site);
    const metrics = pidOf(exporterName(site)) ? await httpGet(`http://${host}:${port}/metrics`) : null;
    const detail = metrics === null ? undefined : /^mysql_up 1$/m.test(metrics) ? 'database answers' : 'database does not answer';
    rows.push({ component: exporterName(site), pid: pidOf(exporterName(site)), port, health: metrics === null ? 'down' : 'serving', detail });
  }
  return rows;
}
