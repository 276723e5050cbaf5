// Runbook: preflight. Ask every site, through its own worker, what its database is doing, and flag what
// would make a failover unsafe: a site we cannot reach, broken or lagging replication, two writable servers.
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { DatabaseState } from '../activities/inspect';
import type { PathRecord } from '../activities/sync-state';
import { Progress } from './kit/progress';
import { errorText } from '../domain/errors';
import { control, isUnreachable, siteActivities } from './kit/sites';
import type { Plan } from '../domain/plan';

export interface PreflightInput {
  group?: string;
}

export type Reachability = 'ok' | 'unreachable' | 'database-down';

export interface SiteCheck {
  site: string;
  role: string;
  reachability: Reachability;
  database?: DatabaseState;
  error?: string;
}

export interface Flag {
  severity: 'critical' | 'warning';
  code:
    | 'site-unreachable'
    | 'database-down'
    | 'missing-grant'
    | 'replication-broken'
    | 'not-replicating'
    | 'lag-over-rpo'
    | 'multiple-writable'
    | 'no-writable'
    | 'file-rpo-over'
    | 'file-sync-failing';
  site?: string;
  message: string;
}

export interface PreflightReport {
  config: string;
  group: string | null;
  checkedAt: string;
  objectives: Plan['objectives'];
  sites: SiteCheck[];
  flags: Flag[];
  ok: boolean;
}

export async function preflight(input: PreflightInput = {}): Promise<PreflightReport> {
  const progress = new Progress('preflight', ['load plan', 'inspect sites', 'evaluate']);
  const plan = await progress.run('load plan', () => control.loadPlan());
  const sites = sitesOf(plan, input.group);

  const checks = await progress.run(
    'inspect sites',
    () => Promise.all(sites.map((s) => checkSite(plan, s.id, s.role))),
    (cs) => Object.fromEntries(cs.map((c) => [c.site, c.reachability])),
  );

  const flags = await progress.run(
    'evaluate',
    async () => evaluate(plan, checks, await fileRecords(plan, sites)),
    (f) => ({ flags: f.length }),
  );
  progress.view.status = 'completed';
  return {
    config: plan.name,
    group: input.group ?? null,
    checkedAt: new Date().toISOString(),
    objectives: plan.objectives,
    sites: checks,
    flags,
    ok: !flags.some((f) => f.severity === 'critical'),
  };
}

function sitesOf(plan: Plan, group: string | undefined): Plan['sites'] {
  if (group === undefined) return plan.sites;
  const g = plan.groups.find((x) => x.id === group);
  if (!g) {
    throw ApplicationFailure.nonRetryable(`unknown group '${group}' (known groups: ${plan.groups.map((x) => x.id).join(', ')})`, 'BadInput');
  }
  return plan.sites.filter((s) => g.sites.includes(s.id));
}

async function checkSite(plan: Plan, site: string, role: string): Promise<SiteCheck> {
  try {
    const database = await siteActivities(plan, site, { retry: { maximumAttempts: 2 } }).inspectDatabase();
    return { site, role, reachability: 'ok', database };
  } catch (err) {
    return { site, role, reachability: isUnreachable(err) ? 'unreachable' : 'database-down', error: errorText(err) };
  }
}

/** The file-sync record (file RPO) of the sites checked; paused sites (failed over from) are left out. */
async function fileRecords(plan: Plan, sites: Plan['sites']): Promise<PathRecord[]> {
  // patched: histories from before file sync replay without this activity.
  if (!sites.some((s) => s.rclone) || !patched('preflight-file-rpo')) return [];
  try {
    return Object.values((await control.fileSyncState()).paths).filter((r) => !r.paused && sites.some((s) => s.id === r.site));
  } catch {
    return [];
  }
}

export function evaluate(plan: Plan, checks: SiteCheck[], files: PathRecord[] = []): Flag[] {
  const flags: Flag[] = [];
  const now = Date.now();
  for (const f of files) {
    const age = f.lastSuccessAt ? Math.round((now - Date.parse(f.lastSuccessAt)) / 1000) : null;
    if (age === null || age > plan.objectives.rpoSeconds) {
      const last = f.lastSuccessAt ? `last successful sync ${age} s ago (${f.lastSuccessAt})` : 'never synced successfully';
      flags.push({
        severity: 'critical',
        code: 'file-rpo-over',
        site: f.site,
        message:
          `site ${f.site}, path ${f.path}: file RPO over the objective of ${plan.objectives.rpoSeconds} s: ${last}` +
          (f.lastError ? `; last error: ${f.lastError}` : ''),
      });
    } else if (f.consecutiveFailures > 0) {
      flags.push({
        severity: 'warning',
        code: 'file-sync-failing',
        site: f.site,
        message: `site ${f.site}, path ${f.path}: ${f.consecutiveFailures} failed sync(s) since the last success: ${f.lastError}`,
      });
    }
  }
  for (const c of checks) {
    if (c.reachability === 'unreachable') {
      flags.push({
        severity: 'critical',
        code: 'site-unreachable',
        site: c.site,
        message: `site ${c.site}: its worker did not pick up within ${plan.timeouts.siteScheduleToStartMs} ms`,
      });
      continue;
    }
    if (c.reachability === 'database-down' || !c.database) {
      flags.push({ severity: 'critical', code: 'database-down', site: c.site, message: `site ${c.site}: database not reachable: ${c.error}` });
      continue;
    }
    const db = c.database;
    for (const g of db.missingGrants ?? []) {
      flags.push({
        severity: 'critical',
        code: 'missing-grant',
        site: c.site,
        message: `site ${c.site}: the runbook user lacks ${g.privilege}, needed to ${g.why}`,
      });
    }
    const r = db.replication;
    if (db.readOnly && !r) {
      flags.push({
        severity: 'warning',
        code: 'not-replicating',
        site: c.site,
        message: `site ${c.site}: read-only but has no replication configured`,
      });
    } else if (r && (!r.ioRunning || !r.sqlRunning)) {
      const why = [r.lastIoError, r.lastSqlError].filter(Boolean).join('; ') || 'threads stopped';
      flags.push({
        severity: 'critical',
        code: 'replication-broken',
        site: c.site,
        message: `site ${c.site}: replication broken (IO ${r.ioRunning ? 'running' : 'stopped'}, SQL ${r.sqlRunning ? 'running' : 'stopped'}): ${why}`,
      });
    } else if (r && r.secondsBehind !== null && r.secondsBehind > plan.objectives.rpoSeconds) {
      flags.push({
        severity: 'critical',
        code: 'lag-over-rpo',
        site: c.site,
        message: `site ${c.site}: replica is ${r.secondsBehind} s behind, over the RPO of ${plan.objectives.rpoSeconds} s`,
      });
    }
  }
  const writable = checks.filter((c) => c.database && !c.database.readOnly).map((c) => c.site);
  if (writable.length > 1) {
    flags.push({
      severity: 'critical',
      code: 'multiple-writable',
      message: `${writable.length} writable servers: ${writable.join(', ')}; only one primary may take writes`,
    });
  } else if (writable.length === 0 && checks.every((c) => c.reachability === 'ok')) {
    flags.push({ severity: 'warning', code: 'no-writable', message: 'no site is writable: no primary takes writes' });
  }
  return flags;
}
