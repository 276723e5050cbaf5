// Activities bound to one site's config (site workers) or to the whole config (control worker).
// Workflows import only the types from here.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { resolve } from 'node:path';
import type { Site } from '../config/schema';
import { groupView, siteInGroup, type LoadedConfig } from '../config/load';
import { inspectDatabase } from './inspect';
import { fenceDatabase, unfenceDatabase } from './fence';
import { applyRetrieved, waitForGtids } from './catchup';
import { waitNearlyCaughtUp, type NearlyCaughtUpInput } from './nearly-caught-up';
import { dnsProvider, resolvedHere, type DnsWaitInput } from './dns-provider';
import {
  fenceWriter as fenceHaproxy,
  haproxyEndpointOf,
  haproxyServerOf,
  readServers as readHaproxy,
  restoreServers as restoreHaproxy,
  routeWriter as routeHaproxy,
  type HaproxyServer,
} from './haproxy';
import { promoteDatabase, writeProbe } from './promote';
import { readServers, restoreServers, routeWriter, setServerStatus, type ProxySqlEndpoint, type ProxySqlServerInput } from './proxysql';
import type { PointedRecord } from './dns';
import { sendNotice, type Notice } from './notify';
import { readScale, restoreScale, scaleServices, type ScaleSnapshot } from './kubernetes';
import { writeReportFiles, type ReportLike } from './report';
import { readDrillTrend, writeDrillReportFiles } from './drill-report';
import type { DrillReportLike } from '../domain/drill';
import { resolveSecret } from './secrets';
import { planOf } from '../config/plan';
import { checkPath, guardPath, restorePath, storeOf, syncPath, syncPaths } from './file-sync';
import { beginStoreWrite, markPaused, readRecordedCount, readState, recordOutcome, type SyncOutcome } from './sync-state';
import { setSchedulesPaused } from './sync-schedules';
import type { Client } from '@temporalio/client';
import { connectClient } from './temporal-access';
import { approvalVerifier } from './approval-verify';
import { exportErrant } from './errant';
import { reseedFrom } from './reseed';
import { binlogHorizon, replicateFrom, waitReplicaCaughtUp } from './reprotect';
import type { GtidRange } from '../domain/gtid';
import { readSemiSync, setSemiSync } from './semi-sync';
import { catchUpFromPeer, stopReplication } from './peer-catchup';
import { connect, type Dialect } from './mysql';
import { journalFile, readJournal, streamRows, streamWrites, type StreamInput } from './drill-stream';
import { localTarget, routerTarget } from './drill-targets';
import { runFault, type InjectorCommands } from './fault-injector';
import { runbooksOfGroup } from './runbooks';
import { durationMs } from '../config/schema';
import type { LeaseTable } from '../domain/lease';
import { voteOn, watchOn } from './vote';
import { DRILL_TABLE, type FaultKind } from '../domain/drill';

/** Reports, and the errant-transaction exports they link to: under the config's stateDir. */
export function reportsDirOf({ config, baseDir }: LoadedConfig): string {
  return resolve(baseDir, config.stateDir, 'reports');
}

/** The drill clients' journals: on the disk of the worker that runs each client. */
export function drillsDirOf({ config, baseDir }: LoadedConfig): string {
  return resolve(baseDir, config.stateDir, 'drills');
}

/** Whose services a Kubernetes step scales: one group's, or several groups' at once. */
type Scope = { group: string; groups?: undefined } | { group?: undefined; groups: string[] };

/** What the worker's own process knows that an activity reports: the lease as this vantage point holds it. */
export interface WorkerState {
  leases?: LeaseTable;
}

/**
 * A site's activities. A call whose input names a `group` with servers of its own acts on that group's server
 * at this site (and its ProxySQL hostgroups); any other call on the site's own server.
 */
export function createSiteActivities(loaded: LoadedConfig, site: Site, state: WorkerState = {}): SiteActivities {
  const bound = new Map<string, SiteActivities>();
  const forGroup = (group: string | undefined): SiteActivities => {
    const key = group !== undefined && loaded.config.groups.some((g) => g.id === group && g.databases) ? group : '';
    if (!bound.has(key))
      bound.set(key, activitiesOfSite(groupView(loaded, key || undefined), siteInGroup(loaded.config, site, key || undefined), state));
    return bound.get(key)!;
  };
  const own = forGroup(undefined);
  const dispatch = Object.keys(own).map((name) => [
    name,
    (input?: { group?: string }, ...rest: unknown[]) =>
      (forGroup(input?.group)[name as keyof SiteActivities] as (...args: unknown[]) => unknown)(input, ...rest),
  ]);
  return Object.fromEntries(dispatch) as SiteActivities;
}

function activitiesOfSite(loaded: LoadedConfig, site: Site, state: WorkerState) {
  const { config, baseDir } = loaded;
  const db = { site, baseDir, clientTools: config.clientTools };
  const siteOf = (id: string) => {
    const s = config.sites.find((x) => x.id === id);
    if (!s) throw ApplicationFailure.nonRetryable(`unknown site '${id}' (known sites: ${config.sites.map((x) => x.id).join(', ')})`, 'BadInput');
    return s;
  };
  const haproxy = () => (site.haproxy ? haproxyEndpointOf(site.haproxy, baseDir) : null);
  const proxysql = (): (ProxySqlEndpoint & { writerHostgroup: number; readerHostgroup: number }) | null =>
    site.proxysql ? { ...site.proxysql, password: resolveSecret(site.proxysql.password, baseDir) } : null;
  // Without a hostedZoneId the DNS adapter looks the zone up by name.
  const dns = async () => {
    if (!config.dns) throw ApplicationFailure.nonRetryable('the config has no dns section', 'BadConfig');
    return config.dns;
  };
  /** One group's services, or (a site failover's one scale) every named group's. */
  const kube = (i: Scope) => ({
    site,
    baseDir,
    services: config.groups.filter((g) => (i.groups ?? [i.group]).includes(g.id)).flatMap((g) => g.services),
  });
  const dbAddress = (id: string) => ({ host: siteOf(id).mysql.host, port: siteOf(id).mysql.port });

  const activities = {
    inspectDatabase: () => inspectDatabase(db),
    fenceDatabase: () => fenceDatabase(db),
    unfenceDatabase: (i: { wasWritable: boolean }) => unfenceDatabase(db, i),
    waitForGtids: (i: { gtids: string; timeoutMs: number }) => waitForGtids(db, i),
    waitNearlyCaughtUp: (i: NearlyCaughtUpInput) => waitNearlyCaughtUp(db, i),
    applyRetrieved: (i: { timeoutMs: number }) => applyRetrieved(db, i),
    promoteDatabase: () => promoteDatabase(db),
    writeProbe: (i: { runbook: string }) => writeProbe(db, i),

    /** This site's ProxySQL: take `primary`'s writer out (OFFLINE_HARD). Null when the site has no ProxySQL. */
    async proxysqlFenceWriter(i: { primary: string }) {
      const ep = proxysql();
      if (!ep) return null;
      const configBefore = await readServers(ep, 'memory');
      const target = dbAddress(i.primary);
      if (!configBefore.some((r) => r.hostgroup_id === ep.writerHostgroup && r.hostname === target.host && r.port === target.port)) {
        return { before: [], after: [], configBefore, note: `${i.primary} is not in writer hostgroup ${ep.writerHostgroup}` };
      }
      const r = await setServerStatus(ep, { hostgroup: ep.writerHostgroup, ...target, status: 'OFFLINE_HARD' });
      return { ...r, configBefore };
    },
    async proxysqlRouteWriter(i: { newPrimary: string; oldPrimary: string }) {
      const ep = proxysql();
      if (!ep) return null;
      return routeWriter(ep, {
        writerHostgroup: ep.writerHostgroup,
        readerHostgroup: ep.readerHostgroup,
        newPrimary: dbAddress(i.newPrimary),
        oldPrimary: dbAddress(i.oldPrimary),
      });
    },
    /** A server that replicates again serves reads again: its reader row back ONLINE (a no-op when it has none). */
    async proxysqlReaderOnline(i: { site: string }) {
      const ep = proxysql();
      if (!ep) return null;
      const target = dbAddress(i.site);
      const rows = await readServers(ep, 'memory');
      if (!rows.some((r) => r.hostgroup_id === ep.readerHostgroup && r.hostname === target.host && r.port === target.port)) {
        return { before: [], after: [], note: `${i.site} is not in reader hostgroup ${ep.readerHostgroup}` };
      }
      return setServerStatus(ep, { hostgroup: ep.readerHostgroup, ...target, status: 'ONLINE' });
    },
    /** Only this group's hostgroups: other groups routed by the same ProxySQL keep whatever changed meanwhile. */
    async proxysqlRestore(i: { rows: ProxySqlServerInput[] }) {
      const ep = proxysql();
      return ep ? restoreServers(ep, i.rows, [ep.writerHostgroup, ep.readerHostgroup]) : null;
    },
    async proxysqlRead() {
      const ep = proxysql();
      return ep ? readServers(ep, 'runtime') : null;
    },

    /** This site's HAProxy: the backend's servers and their states. Null when the site has no HAProxy. */
    async haproxyRead() {
      const ep = haproxy();
      return ep ? readHaproxy(ep) : null;
    },
    /** This site's HAProxy: `primary`'s server into maint, its sessions shut down, so no client keeps writing there. */
    async haproxyFenceWriter(i: { primary: string }) {
      const ep = haproxy();
      if (!ep) return null;
      const server = haproxyServerOf(site.haproxy!, i.primary);
      if (!(await readHaproxy(ep)).some((x) => x.name === server)) return { note: `${i.primary} (${server}) is not in backend ${ep.backend}` };
      return fenceHaproxy(ep, { primary: server });
    },
    async haproxyRouteWriter(i: { newPrimary: string; oldPrimary: string }) {
      const ep = haproxy();
      if (!ep) return null;
      return routeHaproxy(ep, { newPrimary: haproxyServerOf(site.haproxy!, i.newPrimary), oldPrimary: haproxyServerOf(site.haproxy!, i.oldPrimary) });
    },
    async haproxyRestore(i: { servers: Array<Pick<HaproxyServer, 'name' | 'admin'>> }) {
      const ep = haproxy();
      return ep ? restoreHaproxy(ep, i.servers) : null;
    },

    /** The returning site's own fence: database read-only, its routers' writer out (ProxySQL OFFLINE_HARD, HAProxy maint). */
    async fenceSite(i: { primary: string }) {
      const database = await fenceDatabase(db);
      const routed = async (fn: () => Promise<unknown>) => fn().catch((err: Error) => ({ error: err.message }));
      const [proxysqlResult, haproxyResult] = await Promise.all([
        routed(() => activities.proxysqlFenceWriter(i)),
        routed(() => activities.haproxyFenceWriter(i)),
      ]);
      return { database, proxysql: proxysqlResult, ...(site.haproxy && { haproxy: haproxyResult }) };
    },

    dnsPointAt: async (i: { site: string; comment?: string }) => dnsProvider(await dns(), baseDir).pointAt(i),
    dnsWaitInsync: async (i: DnsWaitInput) => dnsProvider(await dns(), baseDir).waitInsync(i),
    dnsRestore: async (i: { records: Array<Pick<PointedRecord, 'name' | 'type' | 'previous'>> }) => dnsProvider(await dns(), baseDir).restore(i),
    /** The configured records as they are now: the snapshot a DNS change is undone from. */
    dnsRead: async () => dnsProvider(await dns(), baseDir).read(),
    dnsServersReady: async (i: { timeoutMs: number; unreachableSites?: string[] }) => dnsProvider(await dns(), baseDir).serversReady(i),
    /** When this site's clients first resolve the names to `site`'s values, through its own resolver (RFC 2136 only; else null). */
    dnsResolvedHere: async (i: { site: string; timeoutMs: number }) => resolvedHere(await dns(), site.id, i),

    scaleServices: (i: Scope & { profile: 'production' | 'standby'; timeoutMs: number }) => scaleServices(kube(i), i),
    restoreScale: (i: Scope & { previous: ScaleSnapshot[]; timeoutMs: number }) => restoreScale(kube(i), i),
    readScale: (i: Scope) => readScale(kube(i)),

    // File sync: this site's share ↔ the object store.
    fileSyncPaths: async () => syncPaths({ site, baseDir }),
    fileSyncGuard: (i: { path: string; maxDeleteShare?: number; recorded?: { files: number } }) => guardPath({ site, baseDir }, i),
    fileSyncRun: (i: { path: string; kind: 'incremental' | 'full'; maxDelete: number }) => syncPath({ site, baseDir }, i),
    fileSyncCheck: (i: { path: string }) => checkPath({ site, baseDir }, i),
    fileRestore: (i: { path: string }) => restorePath({ site, baseDir }, i),
    // Failback: the returning site exports its errant transactions, is re-seeded from the current primary
    // and replicates from it. It reaches the current primary's database itself, as replication does.
    exportErrant: (i: { dialect: Dialect; ranges: GtidRange[]; name: string; currentPrimary: string }) =>
      exportErrant(db, { ...i, dir: resolve(reportsDirOf(loaded), 'errant') }),
    reseedFrom: (i: { source: string; discards: { count: number; exportFile: string | null; sha256: string | null } }) =>
      reseedFrom(db, { source: siteOf(i.source), discards: i.discards, method: config.failback.reseedMethod }),
    replicateFrom: (i: { source: string; slavePos: string | null }) => replicateFrom(db, { source: siteOf(i.source), slavePos: i.slavePos }),
    waitReplicaCaughtUp: (i: { maxLagSeconds: number; timeoutMs: number }) => waitReplicaCaughtUp(db, i),
    binlogHorizon: () => binlogHorizon(db),
    // Three sites: a candidate caught up from a peer replica, replicas left alone, semi-sync roles.
    catchUpFromPeer: (i: { peer: string; gtids: string; timeoutMs: number }) =>
      catchUpFromPeer(db, { peer: siteOf(i.peer), gtids: i.gtids, timeoutMs: i.timeoutMs }),
    stopReplication: () => stopReplication(db),
    readSemiSync: () => readSemiSync(db),
    setSemiSync: (i: { source: boolean; replica: boolean; timeoutMs: number }) => setSemiSync(db, i),
    // Drills: a client inside this site, and what this site's server holds of the drill's stream.
    streamWrites: (i: StreamInput) => streamWrites(localTarget(loaded, site), drillsDirOf(loaded), i),
    readStream: async (i: { drill: string; writer: string }) => readJournal(journalFile(drillsDirOf(loaded), i.drill, i.writer)),
    async streamRows(i: { drill: string }) {
      const conn = await connect(db);
      try {
        return await streamRows(conn, DRILL_TABLE, i.drill);
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    },
    /** The drill leaves no rows behind: removed on the primary, and so everywhere. */
    async deleteStreamRows(i: { drill: string }) {
      const conn = await connect(db);
      try {
        const [r] = await conn.query(`DELETE FROM ${DRILL_TABLE} WHERE drill = ?`, [i.drill]);
        return (r as { affectedRows: number }).affectedRows;
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    },
    // Detection: this site as a vantage point.
    voteOnPrimary: (i: { group: string; suspect: string }) => voteOn(site.id, siteOf(i.suspect), baseDir, state.leases?.view(i.group) ?? null),
    watchPrimary: (i: { group: string; suspect: string; until: number }) =>
      watchOn(site.id, siteOf(i.suspect), baseDir, () => state.leases?.view(i.group) ?? null, i.until),
    leaseView: async (i: { group: string }) => state.leases?.view(i.group) ?? null,
  };
  return activities;
}

export function createControlActivities(loaded: LoadedConfig, state: WorkerState = {}) {
  const { config, baseDir } = loaded;
  const vantage = config.detection?.control.name ?? 'control';
  const suspectSite = (id: string) => {
    const s = config.sites.find((x) => x.id === id);
    if (!s) throw ApplicationFailure.nonRetryable(`unknown site '${id}'`, 'BadInput');
    return s;
  };
  const reportsDir = reportsDirOf(loaded);
  const syncStateFile = resolve(baseDir, config.stateDir, 'file-sync-state.json');
  // Schedules live in the config's namespace, whichever server this worker runs on (tests call these directly).
  let client: Promise<Client> | undefined;
  const temporalClient = () => (client ??= connectClient(loaded).then((c) => c.client));
  return {
    loadPlan: async () => planOf(loaded),
    async notify(notice: Notice) {
      const n = config.notifications;
      if (n.webhooks.length === 0 && n.email.length === 0) return [];
      return sendNotice({ notifications: n, baseDir, notice });
    },
    writeReport: async (report: ReportLike) => writeReportFiles(reportsDir, report),
    verifyApproval: approvalVerifier(loaded),

    // File sync bookkeeping (the file RPO) and schedules, kept by the control plane.
    recordFileSync: async (o: SyncOutcome) => recordOutcome(syncStateFile, o),
    fileSyncState: async () => readState(syncStateFile),
    /** The store count the last sync that wrote this path's store recorded, for the deletion guard, or why there is none. */
    fileSyncRecordedCount: async (i: { site: string; path: string }) => {
      const store = storeOf({ site: suspectSite(i.site), baseDir }, i.path);
      return { store, ...readRecordedCount(syncStateFile, store) };
    },
    /** A sync of this path is about to write its store: the recorded count is void until the outcome is recorded. */
    fileSyncBeginWrite: async (i: { store: string; runId: string }) => beginStoreWrite(syncStateFile, { ...i, at: new Date().toISOString() }),
    /** After a failover away from `site`: its sync schedules stop pushing a share that is no longer the source. */
    async pauseSyncSchedules(i: { site: string; reason: string }) {
      const r = await setSchedulesPaused(await temporalClient(), config, i.site, true, i.reason);
      markPaused(syncStateFile, i.site, true);
      return r;
    },
    /** For failback: the site is the source of truth again. */
    async resumeSyncSchedules(i: { site: string; reason: string }) {
      const r = await setSchedulesPaused(await temporalClient(), config, i.site, false, i.reason);
      markPaused(syncStateFile, i.site, false);
      return r;
    },
    // Drills: the client that follows the router, the fault injector, the one-at-a-time rule, schedules, reports.
    streamWrites: (i: StreamInput) => streamWrites(routerTarget(loaded), drillsDirOf(loaded), i),
    readStream: async (i: { drill: string; writer: string }) => readJournal(journalFile(drillsDirOf(loaded), i.drill, i.writer)),
    runFault: (i: { fault: FaultKind; action: 'inject' | 'heal'; site: string }) => runFault(injectorOf(loaded), i),
    runbooksOfGroup: async (i: { group: string }) => runbooksOfGroup(Context.current().client.workflow, i.group),
    /** A runbook's result once it ends (a failover started by detection, which the drill did not start). */
    async workflowResult(i: { workflowId: string; runId: string }): Promise<unknown> {
      const alive = setInterval(() => Context.current().heartbeat(), 2000);
      try {
        return await Context.current().client.workflow.getHandle(i.workflowId, i.runId).result();
      } finally {
        clearInterval(alive);
      }
    },
    /** A fence-on-return run that already holds the id: whether it runs, and whether its fence is done. */
    async fenceOnReturnState(i: { workflowId: string }): Promise<{ runId: string; running: boolean; fenced: boolean }> {
      const handle = Context.current().client.workflow.getHandle(i.workflowId);
      const d = await handle.describe();
      const running = d.status.name === 'RUNNING';
      return { runId: d.runId, running, fenced: running ? await handle.query<boolean>('fenced') : true };
    },
    /** Every schedule of the namespace: paused or not. */
    async scheduleStates(): Promise<Record<string, boolean>> {
      const out: Record<string, boolean> = {};
      for await (const s of (await temporalClient()).schedule.list()) out[s.scheduleId] = s.state.paused;
      return out;
    },
    async setSchedulePaused(i: { scheduleId: string; paused: boolean; reason: string }) {
      const handle = (await temporalClient()).schedule.getHandle(i.scheduleId);
      await (i.paused ? handle.pause(i.reason) : handle.unpause(i.reason));
      return { scheduleId: i.scheduleId, paused: i.paused };
    },
    writeDrillReport: async (report: DrillReportLike) => writeDrillReportFiles(reportsDir, report),
    drillTrend: async (i: { scenario: string; group: string; runId: string }) => readDrillTrend(reportsDir, i.scenario, i.group, i.runId),
    // Detection: the control plane's place as a vantage point.
    async voteOnPrimary(i: { group: string; suspect: string }) {
      return voteOn(vantage, suspectSite(i.suspect), baseDir, state.leases?.view(i.group) ?? null);
    },
    watchPrimary: async (i: { group: string; suspect: string; until: number }) =>
      watchOn(vantage, suspectSite(i.suspect), baseDir, () => state.leases?.view(i.group) ?? null, i.until),
    leaseView: async (i: { group: string }) => state.leases?.view(i.group) ?? null,
    /** Whether a workflow (e.g. failover-<group>) is running now, through the worker's own client. */
    async workflowRunning(i: {
      workflowId: string;
    }): Promise<{ running: boolean; runId: string | null; type: string | null; startedAt: string | null }> {
      try {
        const d = await Context.current().client.workflow.getHandle(i.workflowId).describe();
        return { running: d.status.name === 'RUNNING', runId: d.runId, type: d.type, startedAt: d.startTime.toISOString() };
      } catch (err) {
        if ((err as Error).name === 'WorkflowNotFoundError') return { running: false, runId: null, type: null, startedAt: null };
        throw err;
      }
    },
  };
}

function injectorOf(loaded: LoadedConfig): InjectorCommands {
  const injector = loaded.config.drills?.injector;
  return {
    cwd: resolve(loaded.baseDir, injector?.cwd ?? '.'),
    timeoutMs: durationMs(injector?.timeout ?? '60s'),
    configFile: resolve(loaded.file),
    commands: { 'power-off': injector?.powerOff, isolate: injector?.isolate },
  };
}

export type SiteActivities = ReturnType<typeof activitiesOfSite>;
export type ControlActivities = ReturnType<typeof createControlActivities>;
