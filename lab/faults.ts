// The faults a person and the drill runbook inject: a site loses power (every process killed at once) and
// gets it back (restarted on its data); a site is cut off while everything in it keeps running.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from '.';
import { dbName, groupServers, startDatabase } from './database';
import { k8sStateDir } from './kubernetes';
import { MOTO, motoConfigured, startMoto } from './moto';
import { NOTICES, startNoticeSink } from './notice-sink';
import { readPid, sleep, stopDaemon } from './procs';
import { ownProxies, proxysqlName, startProxysql } from './proxysql';
import { haproxyName, startHaproxy } from './haproxy';
import { S3, startS3 } from './s3';
import { startTemporal, startWorker, workerName } from './services';
import { startTemporalTls, TEMPORAL_TLS, temporalTlsOn } from './temporal-tls';
import { LabInputError } from './network';
import { ALERTMANAGER, exporterName, PROMETHEUS } from './observability';
import { startPrometheus } from './prometheus';
import { startAlertmanager } from './alertmanager';
import { startExporter } from './exporters';

/** kill -9 of everything the site runs. With namespaces that is every process in the site's namespace. */
export async function powerOff(lab: Lab, site: string): Promise<string[]> {
  knownSite(lab, site);
  const killed: string[] = [];
  if (lab.network.enabled && !lab.network.whyNot()) {
    const pids = execFileSync('ip', ['netns', 'pids', lab.network.nsName(site)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(String(pid));
      } catch {
        /* gone meanwhile */
      }
    }
    // Their sockets are free only once every thread is gone.
    for (const until = Date.now() + 10_000; pids.some(running) && Date.now() < until;) await sleep(50);
    return [`${site}: ${killed.length} processes killed`];
  }
  for (const name of componentsOf(lab, site)) if ((await stopDaemon(lab.dirs.pids, name, 'SIGKILL', 0)) === 'stopped') killed.push(name);
  killed.push(...killCluster(lab, site));
  return [`${site}: ${killed.join(', ') || 'nothing was running'} killed`];
}

/** What a power restore does: the site's services start again on the data they had. */
export async function powerOn(lab: Lab, site: string): Promise<string[]> {
  knownSite(lab, site);
  const out: string[] = [];
  const s = lab.sites.find((x) => x.id === site);
  if (!s) {
    await startTemporal(lab.loaded, lab.dirs);
    if (temporalTlsOn(lab.loaded)) await startTemporalTls(lab.loaded, lab.dirs);
    if (motoConfigured(lab.loaded)) await startMoto(lab.loaded, lab.dirs);
    if (lab.settings.s3Port) await startS3(lab.loaded, lab.dirs);
    if (lab.settings.notices) await startNoticeSink(lab.loaded, lab.dirs);
    if (lab.observing) await Promise.all([startPrometheus(lab.loaded, lab.dirs), startAlertmanager(lab.loaded, lab.dirs)]);
    await startWorker(lab.loaded, lab.dirs);
    return [
      `${site}: temporal, ${[...(temporalTlsOn(lab.loaded) ? [TEMPORAL_TLS] : []), MOTO, S3, NOTICES, ...opsMonitoring(lab)].join(', ')} and ${workerName()} started`,
    ];
  }
  out.push(`${dbName(s)} ${await startDatabase(lab.loaded, lab.dirs, s, lab.sites.indexOf(s) + 1)}`);
  const servers = groupServers(lab.loaded);
  for (const [i, x] of servers.entries())
    if (x.site.id === site) out.push(`${dbName(x.site, x.group)} ${await startDatabase(lab.loaded, lab.dirs, x.site, 100 + i, x.group)}`);
  if (lab.observing) out.push(`${exporterName(s)} ${await startExporter(lab.loaded, lab.dirs, s)}`);
  if (s.proxysql) out.push(`${proxysqlName(s)} ${await startProxysql(lab.loaded, lab.dirs, s)}`);
  for (const x of ownProxies(lab.loaded).filter((p) => p.site.id === site))
    out.push(`${proxysqlName(x.site, x.group)} ${await startProxysql(lab.loaded, lab.dirs, x.site, x.group)}`);
  if (s.haproxy) out.push(`${haproxyName(s)} ${await startHaproxy(lab.loaded, lab.dirs, s)}`);
  const cluster = await lab.restartCluster(s);
  if (cluster) out.push(cluster);
  out.push(`${workerName(site)} ${await startWorker(lab.loaded, lab.dirs, site)}`);
  return out.map((l) => `${site}: ${l}`);
}

function knownSite(lab: Lab, site: string): void {
  if (!lab.network.sites.includes(site)) throw new LabInputError(`unknown site '${site}' (lab sites: ${lab.network.sites.join(', ')})`);
}

function componentsOf(lab: Lab, site: string): string[] {
  const s = lab.sites.find((x) => x.id === site);
  if (!s) return [workerName(), MOTO, S3, NOTICES, ...opsMonitoring(lab), TEMPORAL_TLS, 'temporal'];
  const groups = [
    ...groupServers(lab.loaded).flatMap((x) => (x.site.id === site ? [dbName(x.site, x.group)] : [])),
    ...ownProxies(lab.loaded).flatMap((x) => (x.site.id === site ? [proxysqlName(x.site, x.group)] : [])),
  ];
  return [workerName(site), proxysqlName(s), haproxyName(s), dbName(s), ...groups, exporterName(s)].filter((n) => readPid(lab.dirs.pids, n));
}

/** Prometheus and Alertmanager, which run in the control site when the lab has them. */
function opsMonitoring(lab: Lab): string[] {
  return lab.observing ? [PROMETHEUS, ALERTMANAGER] : [];
}

/** Loopback only: the site's Kubernetes components, from kwokctl's pid files. */
function killCluster(lab: Lab, site: string): string[] {
  const pids = join(k8sStateDir(lab.dirs), 'kwok', 'clusters', `dr-${site}`, 'pids');
  if (!existsSync(pids)) return [];
  const killed: string[] = [];
  for (const f of readdirSync(pids)) {
    try {
      process.kill(Number(readFileSync(join(pids, f), 'utf8').trim()), 'SIGKILL');
      killed.push(f.replace(/\.pid$/, ''));
    } catch {
      /* not running */
    }
  }
  return killed;
}

/** A zombie still counts while its other threads exit: they hold its sockets. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z' || readdirSync(`/proc/${pid}/task`).length > 1;
  } catch {
    return false;
  }
}
