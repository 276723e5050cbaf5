// lab up | down | status and the faults (power-off, power-on, isolate, heal): the whole lab, driven by a lab
// config. With x-lab.network every site is a network namespace of its own; without it, all share loopback.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { inspectDatabase, type DatabaseState } from '../activities/inspect';
import { labDirs, type LabDirs } from './paths';
import { alive, readPid, stopDaemon, portOpen } from './procs';
import { bootstrapReplication, dbName, ensureSecrets, groupServers, initialised, sql, startDatabase } from './database';
import { startTemporal, startWorker, temporalHealthy, temporalPort, workerName } from './services';
import { CODEC_SERVER, ensureCodecSecrets, startCodecServer } from './codec-server';
import { ensureApproverKeys } from './approver-keys';
import { devServerPort, labTlsDir, startTemporalTls, TEMPORAL_TLS, temporalTlsHealthy, temporalTlsOn } from './temporal-tls';
import { ownProxies, proxysqlName, startProxysql } from './proxysql';
import { haproxyName, startHaproxy } from './haproxy';
import { MOTO, motoConfigured, motoHealthy, startMoto } from './moto';
import { bindConfigured, startBind } from './bind';
import { applyWorkloads, clusterStatus, k8sName, startCluster, stopCluster } from './kubernetes';
import { S3, s3Healthy, startS3 } from './s3';
import { assertLabPorts } from './ports';
import { NOTICES, noticesFile, readNotices, startNoticeSink } from './notice-sink';
import { labOf, type LabSettings } from './settings';
import { LabNetwork } from './network';
import { ALERTMANAGER, exporterName, observabilityNames, observabilityStatus, PROMETHEUS } from './observability';
import { startPrometheus } from './prometheus';
import { startAlertmanager } from './alertmanager';
import { startExporter } from './exporters';

export type Log = (line: string) => void;

export class Lab {
  readonly dirs: LabDirs;
  readonly settings: LabSettings;
  readonly network: LabNetwork;

  constructor(
    readonly loaded: LoadedConfig,
    private readonly log: Log = (l) => console.log(l),
  ) {
    this.dirs = labDirs(loaded);
    this.settings = labOf(loaded);
    this.network = new LabNetwork(loaded);
  }

  get sites(): Site[] {
    return this.loaded.config.sites;
  }

  /** Prometheus, Alertmanager and the exporters run with detection on: they are its backstop, and cost CPU. */
  get observing(): boolean {
    return this.settings.observability !== undefined && this.loaded.config.detection?.enabled === true;
  }

  /** The UI's codec server runs when the config names one (the control site's, in ops). */
  get codecServer(): boolean {
    return this.loaded.config.temporal.codecServer !== undefined;
  }

  get primarySite(): Site {
    return this.sites.find((s) => s.role === 'primary')!;
  }

  async up(opts: { workers?: boolean; resetWorkloads?: boolean } = {}): Promise<void> {
    const t0 = Date.now();
    const timed = async (what: string, fn: () => Promise<string>) => {
      const t = Date.now();
      const r = await fn();
      this.log(`${what.padEnd(16)} ${r} (${Date.now() - t} ms)`);
    };
    assertLabPorts(this.loaded);
    labDirs(this.loaded); // (re)creates the folders, e.g. after destroy
    ensureSecrets(this.loaded);
    ensureCodecSecrets(this.loaded);
    ensureApproverKeys(this.loaded);
    if (this.network.enabled) await timed('network', async () => (this.network.up(), `${this.network.sites.length} namespaces, links up`));
    // Independent services start side by side: most of a start is waiting for a port to open.
    await Promise.all([
      timed('temporal', () => startTemporal(this.loaded, this.dirs)),
      this.codecServer && timed(CODEC_SERVER, () => startCodecServer(this.loaded, this.dirs)),
      temporalTlsOn(this.loaded) && timed(TEMPORAL_TLS, () => startTemporalTls(this.loaded, this.dirs)),
      motoConfigured(this.loaded) && timed('moto (route53)', () => startMoto(this.loaded, this.dirs)),
      bindConfigured(this.loaded) && timed('bind (rfc2136)', async () => Object.keys(await startBind(this.loaded, this.dirs)).join(', ')),
      this.settings.s3Port && timed('s3 (rclone)', () => startS3(this.loaded, this.dirs)),
      this.settings.notices && timed('notices (sink)', () => startNoticeSink(this.loaded, this.dirs)),
      this.observing && timed(PROMETHEUS, () => startPrometheus(this.loaded, this.dirs)),
      this.observing && timed(ALERTMANAGER, () => startAlertmanager(this.loaded, this.dirs)),
      ...this.sites.filter((x) => x.proxysql).map((s) => timed(proxysqlName(s), () => startProxysql(this.loaded, this.dirs, s))),
      ...ownProxies(this.loaded).map((x) => timed(proxysqlName(x.site, x.group), () => startProxysql(this.loaded, this.dirs, x.site, x.group))),
      ...this.sites.filter((x) => x.haproxy).map((s) => timed(haproxyName(s), () => startHaproxy(this.loaded, this.dirs, s))),
    ]);
    // The workers need only Temporal, and the control planes nothing: both start while the databases do.
    const workers = background(
      opts.workers === false
        ? []
        : [...this.sites.map((s) => s.id), undefined].map((site) => timed(workerName(site), () => startWorker(this.loaded, this.dirs, site))),
    );
    const planes = background(
      this.clusterSites.map((s) => timed(k8sName(s), () => startCluster(this.dirs, s, this.settings.kubeApiPorts![s.id]!, this.network.place(s.id)))),
    );
    const fresh = !initialised(this.dirs, this.primarySite);
    await Promise.all(this.sites.map((s, i) => timed(dbName(s), () => startDatabase(this.loaded, this.dirs, s, i + 1))));
    if (fresh) {
      bootstrapReplication(
        this.loaded,
        this.dirs,
        this.primarySite,
        this.sites.filter((s) => s !== this.primarySite),
      );
      this.log(
        `replication      ${this.primarySite.id} → ${this.sites
          .filter((s) => s !== this.primarySite)
          .map((s) => s.id)
          .join(', ')} set up`,
      );
    }
    await this.startGroupServers(timed);
    if (this.observing) await Promise.all(this.sites.map((s) => timed(exporterName(s), () => startExporter(this.loaded, this.dirs, s))));
    // A restarted server stays read-only: only a runbook's promotion makes a server writable.
    const writable = this.writableSites();
    if (!fresh && writable.length === 0) this.log('primary          none writable: servers restart read-only until a runbook promotes one');
    await planes();
    await this.applyAllWorkloads(timed, writable[0]?.id ?? this.primarySite.id, { reset: opts.resetWorkloads });
    await workers();
    this.log(`lab up in ${Date.now() - t0} ms; Temporal UI http://${this.network.place().host}:${this.settings.temporalUiPort}`);
  }

  /** The groups' own servers and ProxySQLs, before a lab without them takes over (test suites with groups). */
  async stopGroupServers(): Promise<void> {
    const names = [...this.groupDbNames(), ...ownProxies(this.loaded).map((x) => proxysqlName(x.site, x.group))];
    await Promise.all(names.map((n) => stopDaemon(this.dirs.pids, n, 'SIGKILL')));
  }

  /** The ProxySQLs (the sites' and the groups' own), HAProxies, databases (the groups' too) and Route 53. */
  private dataPlaneNames(): string[] {
    return [...this.proxysqlNames(), ...this.sites.map(haproxyName), ...this.sites.map((s) => dbName(s)), ...this.groupDbNames(), MOTO];
  }

  private proxysqlNames(): string[] {
    return [...this.sites.map((s) => proxysqlName(s)), ...ownProxies(this.loaded).map((x) => proxysqlName(x.site, x.group))];
  }

  private groupDbNames(): string[] {
    return groupServers(this.loaded).map((x) => dbName(x.site, x.group));
  }

  /**
   * The groups with servers of their own (config/.groups-*.yaml, lab/groups.ts): one MariaDB per site each,
   * started a few at a time (each start is seconds of CPU), replicating from the group's server in the primary site.
   */
  private async startGroupServers(timed: (what: string, fn: () => Promise<string>) => Promise<void>): Promise<void> {
    const servers = groupServers(this.loaded);
    if (servers.length === 0) return;
    await timed(`groups`, async () => {
      const fresh = new Set(servers.filter((x) => !initialised(this.dirs, x.site, x.group)).map((x) => x.group));
      let next = 0;
      const lane = async () => {
        for (let i = next++; i < servers.length; i = next++) {
          const { site, group } = servers[i]!;
          await startDatabase(this.loaded, this.dirs, site, 100 + i, group);
        }
      };
      await Promise.all([lane(), lane(), lane()]);
      for (const group of fresh) {
        const members = servers.filter((x) => x.group === group).map((x) => x.site);
        const primary = members.find((s) => s.id === this.primarySite.id)!;
        bootstrapReplication(
          this.loaded,
          this.dirs,
          primary,
          members.filter((s) => s !== primary),
          group,
        );
      }
      return `${servers.length} servers of ${new Set(servers.map((x) => x.group)).size} group(s) (MariaDB), ${fresh.size} set up`;
    });
  }

  /** Sites with a kubeApiPorts entry carry the sample app, sized for who is primary now. */
  private async applyAllWorkloads(
    timed: (what: string, fn: () => Promise<string>) => Promise<void>,
    primary: string,
    opts: { reset?: boolean } = {},
  ): Promise<void> {
    await Promise.all(
      this.clusterSites.map((s) =>
        timed(`  workloads ${s.id}`, () => applyWorkloads(this.loaded, s, s.id === primary ? 'production' : 'standby', opts)),
      ),
    );
  }

  /** After a power-off: the site's control plane again, on its data where kwokctl can restart it. */
  async restartCluster(s: Site): Promise<string | null> {
    if (!this.clusterSites.includes(s)) return null;
    const line = await startCluster(this.dirs, s, this.settings.kubeApiPorts![s.id]!, this.network.place(s.id));
    if (line.includes('restarted')) return `${k8sName(s)} ${line}`; // on its own data: workloads as they were
    const writable = this.writableSites().some((w) => w.id === s.id);
    return `${k8sName(s)} ${line}; ${await applyWorkloads(this.loaded, s, writable ? 'production' : 'standby')}`;
  }

  get clusterSites(): Site[] {
    const ports = this.settings.kubeApiPorts ?? {};
    return this.sites.filter((s) => s.kubernetes && ports[s.id]);
  }

  writableSites(): Site[] {
    return this.sites.filter((s) => alive(readPid(this.dirs.pids, dbName(s))) && sql(this.loaded, this.dirs, s, 'SELECT @@read_only') === '0');
  }

  /** `signal` SIGKILL: nothing is kept, so nothing needs a clean shutdown (a MySQL primary's takes ~10 s). */
  async down(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await this.stopServices(signal);
    // A cluster is not kept across down/up: up recreates it and its workloads from the config.
    const stopped = await Promise.all(this.clusterSites.map((s) => stopCluster(this.dirs, s, this.network.place(s.id))));
    this.clusterSites.forEach((s, i) => this.log(`${k8sName(s).padEnd(16)} ${stopped[i]}`));
    if (this.network.enabled && !this.network.whyNot()) {
      this.network.down();
      this.log(`network          ${this.network.sites.length} namespaces removed`);
    }
  }

  /** Everything but the Kubernetes control planes and the network. */
  private async stopServices(signal: NodeJS.Signals): Promise<void> {
    // Workers first, so that no activity runs against a stopping service; Temporal last.
    const waves = [
      [workerName(), ...this.sites.map((s) => workerName(s.id)), CODEC_SERVER],
      [...this.dataPlaneNames(), S3, NOTICES, ...observabilityNames(this.loaded)],
      [TEMPORAL_TLS, 'temporal'],
    ];
    // BIND's servers, whether the config or a test started them; and databases and ProxySQLs of groups that a
    // config with more groups started (lab groups N), which this config may not name.
    const recorded = (existsSync(this.dirs.pids) ? readdirSync(this.dirs.pids) : []).map((f) => f.replace(/\.json$/, ''));
    waves[1]!.push(...recorded.filter((n) => /^(bind|db|proxysql)-/.test(n) && !waves[1]!.includes(n)));
    for (const wave of waves) await Promise.all(wave.map(async (n) => this.log(`${n.padEnd(16)} ${await stopDaemon(this.dirs.pids, n, signal)}`)));
  }

  /**
   * A fresh lab, as destroy and up would give, but the network and the Kubernetes control planes are kept (their
   * workloads go back to the configured sizes): every other process is killed and its state wiped. Links cut
   * by a fault are healed.
   */
  async renew(): Promise<void> {
    const keep = this.network.enabled && !this.network.whyNot();
    if (!keep) return void (await this.destroy(), await this.up());
    await this.stopServices('SIGKILL');
    this.network.heal();
    // The TLS files and the approvers' keys stay too: a client or a worker that outlives the renew still trusts them.
    const kept = ['k8s', basename(labTlsDir(this.dirs)), 'approvers'];
    for (const entry of readdirSync(this.dirs.state))
      if (!kept.includes(entry)) rmSync(join(this.dirs.state, entry), { recursive: true, force: true });
    await this.up({ resetWorkloads: true });
  }

  /**
   * Back to the first-start state of the data plane (databases, ProxySQL, Route 53) while Temporal and the
   * workers keep running: the fast reset between benchmark runs.
   */
  async resetDataPlane(): Promise<void> {
    const names = this.dataPlaneNames();
    for (const n of names) await stopDaemon(this.dirs.pids, n, 'SIGKILL');
    for (const n of names) rmSync(join(this.dirs.data, n), { recursive: true, force: true });
    // Each ProxySQL's state file (a group's own ProxySQL too).
    for (const n of this.proxysqlNames()) rmSync(join(this.dirs.data, `${n}.json`), { force: true });
    for (const s of this.sites) if (s.haproxy?.stateFile) rmSync(resolve(this.loaded.baseDir, s.haproxy.stateFile), { force: true });
    await this.up({ workers: false, resetWorkloads: true });
  }

  /** Wipes the lab's state (data, history, secrets). Only after `down`. */
  async destroy(): Promise<void> {
    await this.down('SIGKILL');
    rmSync(this.dirs.state, { recursive: true, force: true });
    this.log(`state            removed ${this.dirs.state}`);
  }

  async status(): Promise<StatusRow[]> {
    const rows: StatusRow[] = [];
    const rec = (name: string) => readPid(this.dirs.pids, name);
    const t = rec('temporal');
    rows.push({
      component: 'temporal',
      pid: alive(t) ? t.pid : null,
      port: devServerPort(this.loaded),
      health: alive(t) && temporalHealthy(this.loaded) ? 'serving' : 'down',
    });
    if (temporalTlsOn(this.loaded)) {
      const p = rec(TEMPORAL_TLS);
      rows.push({
        component: TEMPORAL_TLS,
        pid: alive(p) ? p.pid : null,
        port: temporalPort(this.loaded),
        health: alive(p) && temporalTlsHealthy(this.loaded, this.dirs) ? 'serving (mTLS, HAProxy)' : 'down',
        detail: `TLS with client certificates in front of the dev server; the lab's CA and certificates in ${labTlsDir(this.dirs)}`,
      });
    }
    for (const s of this.sites) {
      const r = rec(dbName(s));
      let health = 'down';
      let detail: string | undefined;
      if (alive(r)) {
        try {
          const db: DatabaseState = await inspectDatabase({ site: s, baseDir: this.loaded.baseDir });
          const rep = db.replication;
          health = db.readOnly ? 'read-only' : 'writable';
          detail =
            `gtid ${db.gtidExecuted || '(empty)'}` +
            (rep
              ? `; replication IO ${rep.ioRunning ? 'yes' : 'no'} SQL ${rep.sqlRunning ? 'yes' : 'no'} lag ${rep.secondsBehind ?? 'unknown'} s`
              : '; no replication');
        } catch (err) {
          health = (await portOpen(s.mysql.port, s.mysql.host)) ? 'error' : 'down';
          detail = (err as Error).message;
        }
      }
      rows.push({ component: dbName(s), pid: alive(r) ? r.pid : null, port: s.mysql.port, health, detail });
    }
    if (this.settings.motoPort) {
      const m = rec(MOTO);
      rows.push({
        component: MOTO,
        pid: alive(m) ? m.pid : null,
        port: this.settings.motoPort,
        health: alive(m) && (await motoHealthy(this.loaded)) ? 'serving' : 'down',
      });
    }
    if (this.settings.s3Port) {
      const r = rec(S3);
      rows.push({
        component: S3,
        pid: alive(r) ? r.pid : null,
        port: this.settings.s3Port,
        health: alive(r) && (await s3Healthy(this.settings.s3Port!, this.network.place().host)) ? 'serving (rclone serve s3)' : 'down',
      });
    }
    const notices = this.settings.notices;
    if (notices) {
      const r = rec(NOTICES);
      const host = this.network.place().host;
      const up = alive(r) && (await portOpen(notices.webhookPort, host)) && (await portOpen(notices.smtpPort, host));
      rows.push({
        component: NOTICES,
        pid: alive(r) ? r.pid : null,
        port: notices.webhookPort,
        health: up ? 'serving' : 'down',
        detail: `webhook :${notices.webhookPort}, smtp :${notices.smtpPort}, ${readNotices(this.dirs).length} notices in ${noticesFile(this.dirs)}`,
      });
    }
    for (const s of this.sites.filter((x) => x.proxysql)) {
      const p = rec(proxysqlName(s));
      rows.push({
        component: proxysqlName(s),
        pid: alive(p) ? p.pid : null,
        port: s.proxysql!.port,
        health: alive(p) && (await portOpen(s.proxysql!.port, s.proxysql!.host)) ? 'serving (emulator)' : 'down',
      });
    }
    rows.push(...(await observabilityStatus(this.loaded, this.dirs)));
    for (const s of this.clusterSites) {
      const c = clusterStatus(this.dirs, s, this.network.place(s.id));
      rows.push({ component: k8sName(s), pid: null, port: this.settings.kubeApiPorts![s.id], health: c.up ? 'serving' : 'down', detail: c.line });
    }
    const codec = this.loaded.config.temporal.codecServer;
    if (codec) {
      const r = rec(CODEC_SERVER);
      const up = alive(r) && (await portOpen(codec.port, codec.host));
      rows.push({ component: CODEC_SERVER, pid: alive(r) ? r.pid : null, port: codec.port, health: up ? 'serving' : 'down' });
    }
    for (const n of [...this.sites.map((s) => workerName(s.id)), workerName()]) {
      const r = rec(n);
      rows.push({ component: n, pid: alive(r) ? r.pid : null, health: alive(r) ? 'running' : 'down' });
    }
    return rows;
  }

  async stopComponent(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    await stopDaemon(this.dirs.pids, name, signal);
  }

  async startWorker(site?: string): Promise<void> {
    await startWorker(this.loaded, this.dirs, site);
  }
}

/**
 * Starts work now and hands back a function that awaits it: a failure is kept for that await, not reported as
 * an unhandled rejection while the caller does something else first.
 */
function background(work: Array<Promise<unknown>>): () => Promise<void> {
  const all = Promise.all(work);
  all.catch(() => undefined);
  return async () => void (await all);
}

export interface StatusRow {
  component: string;
  pid: number | null;
  port?: number;
  health: string;
  detail?: string;
}
