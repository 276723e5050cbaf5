// The control worker's Prometheus metrics. Every value is computed when Prometheus scrapes, from what lasts:
// the file-sync state file, the report files and Temporal's open runs. Nothing is counted in memory, so a
// restarted control worker loses nothing and two of them would say the same.
import { resolve } from 'node:path';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { LoadedConfig } from '../../config/load';
import { reportsDirOf } from '../../activities';
import { readState } from '../../activities/sync-state';
import { reportReader, type ReportSummary } from './report-summaries';

/** An open workflow and its `progress` status; null when the query failed (unknown, not a scrape error). */
export interface OpenRun {
  workflowId: string;
  type: string;
  status: string | null;
}

/** The open runs of the namespace, as `workers/metrics/open-runs.ts` lists them from Temporal. */
export interface WorkflowLister {
  openRuns(): Promise<OpenRun[]>;
}

export interface ControlMetricsOptions {
  /** The clock the ages are measured with (tests). */
  now?: () => number;
}

/** The runbooks whose reports carry a measured RTO and RPO. */
const MEASURED = ['failover', 'drill'];

/** 10 ms (a config look-up) to 10 min (a re-seed, a long catch-up), about 2.5× apart. */
const STEP_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** The state file createControlActivities keeps (activities/index.ts): one for all sites, keyed `site:path`. */
const syncStateFileOf = ({ config, baseDir }: LoadedConfig): string => resolve(baseDir, config.stateDir, 'file-sync-state.json');

/** One read shared by every metric of a scrape: prom-client starts all their collect() calls at once. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => (pending ??= read().finally(() => (pending = undefined)));
}

export function controlMetrics(loaded: LoadedConfig, workflows: WorkflowLister, options: ControlMetricsOptions = {}): Registry {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  const registers = [registry];
  const syncStateFile = syncStateFileOf(loaded);
  const reports = shared(reportReader(reportsDirOf(loaded)));
  const openRuns = shared(() => workflows.openRuns());
  const syncPaths = () => Object.values(readState(syncStateFile).paths);

  /**
   * `dr_file_sync_last_success_timestamp_seconds{site,path}`: Unix time at which the last successful sync of
   * the path started; everything older is in the object store. No series for a path that never synced.
   */
  new Gauge({
    name: 'dr_file_sync_last_success_timestamp_seconds',
    help: 'Start (Unix seconds) of the last successful file sync of the path: everything older is in the object store.',
    labelNames: ['site', 'path'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of syncPaths()) if (r.lastSuccessAt) this.set({ site: r.site, path: r.path }, Date.parse(r.lastSuccessAt) / 1000);
    },
  });

  /**
   * `dr_file_sync_age_seconds{site,path}`: the file RPO now, seconds since the last successful sync of the path
   * started; +Inf for a path that has only failed. It keeps growing while the site's syncs are paused (see
   * `dr_file_sync_paused`).
   */
  new Gauge({
    name: 'dr_file_sync_age_seconds',
    help: 'File RPO now: seconds since the last successful file sync of the path started (+Inf: it never synced).',
    labelNames: ['site', 'path'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of syncPaths()) {
        const age = r.lastSuccessAt ? (now() - Date.parse(r.lastSuccessAt)) / 1000 : Infinity;
        this.set({ site: r.site, path: r.path }, age);
      }
    },
  });

  /**
   * `dr_file_sync_paused{site,path}`: 1 while the site's sync schedules are paused (after a failover away from
   * it, until failback), else 0. An alert on the age can leave these paths out.
   */
  new Gauge({
    name: 'dr_file_sync_paused',
    help: "1 while the site's file sync schedules are paused (failed over away from it), else 0.",
    labelNames: ['site', 'path'] as const,
    registers,
    collect() {
      this.reset();
      for (const r of syncPaths()) this.set({ site: r.site, path: r.path }, r.paused ? 1 : 0);
    },
  });

  /**
   * `dr_runbook_runs_total{type,outcome}`: runbook runs that wrote a report, by runbook and outcome (a drill's
   * outcome is its verdict: passed, failed, refused, aborted, detection missed). Counted from the report files,
   * so it only drops when reports are deleted.
   */
  new Counter({
    name: 'dr_runbook_runs_total',
    help: 'Runbook runs that wrote a report, by runbook and outcome (a drill: its verdict), counted from the report files.',
    labelNames: ['type', 'outcome'] as const,
    registers,
    async collect() {
      const all = await reports();
      this.reset();
      for (const r of all) this.inc({ type: r.runbook, outcome: r.outcome });
    },
  });

  /**
   * `dr_runbook_step_duration_seconds{type,step}`: how long each step of each reported run took, by runbook
   * and step name, from the reports' step timings.
   */
  new Histogram({
    name: 'dr_runbook_step_duration_seconds',
    help: 'Duration of runbook steps, by runbook and step, from the step timings of the report files.',
    labelNames: ['type', 'step'] as const,
    buckets: STEP_BUCKETS,
    registers,
    // Rebuilt from the files at each scrape: prom-client runs collect() just before it reads the buckets, so
    // reset() and observe() here give exact counts with its own bucketing, without a second Histogram.
    async collect() {
      const all = await reports();
      this.reset();
      for (const r of all) for (const s of r.steps) this.observe({ type: r.runbook, step: s.name }, s.seconds);
    },
  });

  /**
   * `dr_last_rto_seconds{type,group}`: the RTO of the newest failover or drill of the group that measured one
   * (a failover: start to writes accepted by the new primary; a drill: injection to the first write the new
   * primary acknowledged). A run that measured none (refused, rejected, undone) does not replace it.
   */
  new Gauge({
    name: 'dr_last_rto_seconds',
    help: 'RTO in seconds of the newest failover or drill of the group that measured one.',
    labelNames: ['type', 'group'] as const,
    registers,
    async collect() {
      const latest = newestMeasured(await reports(), (r) => r.rtoSeconds);
      this.reset();
      for (const [labels, value] of latest) this.set(labels, value);
    },
  });

  /**
   * `dr_last_rpo_seconds{type,group}`: the database RPO of the newest failover or drill of the group that
   * measured one (a failover: the candidate's replication lag at promotion, unknown when the old primary was
   * unreachable; a drill: the span of acknowledged writes it lost, 0 when none). The file RPO is
   * `dr_file_sync_age_seconds`.
   */
  new Gauge({
    name: 'dr_last_rpo_seconds',
    help: 'Database RPO in seconds of the newest failover (lag at promotion) or drill (span of lost acknowledged writes) that measured one.',
    labelNames: ['type', 'group'] as const,
    registers,
    async collect() {
      const latest = newestMeasured(await reports(), (r) => r.rpoSeconds);
      this.reset();
      for (const [labels, value] of latest) this.set(labels, value);
    },
  });

  /**
   * `dr_incidents_total{group,outcome}`: incident runbook runs that wrote a report, by the group of their input
   * and their outcome.
   */
  new Counter({
    name: 'dr_incidents_total',
    help: 'Incident runbook runs that wrote a report, by group and outcome, counted from the report files.',
    labelNames: ['group', 'outcome'] as const,
    registers,
    async collect() {
      const all = await reports();
      this.reset();
      for (const r of all) if (r.runbook === 'incident') this.inc({ group: r.group ?? 'unknown', outcome: r.outcome });
    },
  });

  /**
   * `dr_runbook_needs_operator{type,workflow_id}`: 1 for each open run whose `progress` status is
   * needs-operator: a step after the point of no return failed (or an old primary stayed writable), and the
   * run waits for an approver's retry-step or skip-step.
   */
  new Gauge({
    name: 'dr_runbook_needs_operator',
    help: "1 for each open runbook run whose progress status is 'needs-operator'.",
    labelNames: ['type', 'workflow_id'] as const,
    registers,
    async collect() {
      const runs = await openRuns().catch(() => []);
      this.reset();
      for (const r of runs) if (r.status === 'needs-operator') this.set({ type: r.type, workflow_id: r.workflowId }, 1);
    },
  });

  /**
   * `dr_runbook_open_runs{type,status}`: open runs by workflow type and `progress` status; `unknown` when the
   * query failed (no worker answering, or a workflow without the query).
   */
  new Gauge({
    name: 'dr_runbook_open_runs',
    help: "Open runs by workflow type and progress status ('unknown': the progress query failed).",
    labelNames: ['type', 'status'] as const,
    registers,
    async collect() {
      const runs = await openRuns().catch(() => []);
      this.reset();
      for (const r of runs) this.inc({ type: r.type, status: r.status ?? 'unknown' });
    },
  });

  /**
   * `dr_runbook_open_runs_list_ok`: 1 when Temporal listed the open runs at this scrape, 0 when it could not
   * (then the two metrics above have no series, which does not mean that nothing waits).
   */
  new Gauge({
    name: 'dr_runbook_open_runs_list_ok',
    help: 'Whether the open runs could be listed from Temporal at this scrape (1) or not (0).',
    registers,
    async collect() {
      try {
        await openRuns();
        this.set(1);
      } catch {
        this.set(0);
      }
    },
  });

  return registry;
}

/** Per runbook type and group, the value of the newest report (by end time) that has one. */
function newestMeasured(all: ReportSummary[], valueOf: (r: ReportSummary) => number | null): Array<[{ type: string; group: string }, number]> {
  const newest = new Map<string, { report: ReportSummary; value: number }>();
  for (const report of all) {
    const value = valueOf(report);
    if (!MEASURED.includes(report.runbook) || report.group === null || value === null) continue;
    const key = `${report.runbook}\u0000${report.group}`;
    const seen = newest.get(key);
    if (!seen || report.at > seen.report.at) newest.set(key, { report, value });
  }
  return [...newest.values()].map(({ report, value }) => [{ type: report.runbook, group: report.group! }, value]);
}
