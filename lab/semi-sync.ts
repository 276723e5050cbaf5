// Semi-synchronous replication in the lab: the first primary and its configured acknowledgers are set up at
// bootstrap (AFTER_SYNC, the group's timeout) over the root socket, before the runbook user has replicated to
// them; each server's state is read for `lab status`. After that only the runbooks change the roles.
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { durationMs } from '../config/schema';
import { replicationSyntax, type SemiSyncNames } from '../domain/replication-syntax';
import type { LabDirs } from './paths';
import { readSemiSync } from '../activities/semi-sync';
import { engineOf, sql } from './database';

function namesOf(loaded: LoadedConfig, dirs: LabDirs, site: Site): SemiSyncNames {
  return replicationSyntax(engineOf(loaded), sql(loaded, dirs, site, 'SELECT VERSION()')).semiSync;
}

/** The group semi-sync section that names acknowledgers for `primary`, if any. */
function acknowledgersOf(loaded: LoadedConfig, primary: Site): { timeoutMs: number; sites: Site[] } | null {
  for (const g of loaded.config.groups) {
    const ids = g.semiSync?.acknowledgers[primary.id];
    if (g.sites.includes(primary.id) && ids?.length)
      return { timeoutMs: durationMs(g.semiSync!.timeout), sites: loaded.config.sites.filter((s) => ids.includes(s.id)) };
  }
  return null;
}

/** First start: the acknowledgers' replica side (their IO threads restarted for it), then the primary's source side. */
export function bootstrapSemiSync(loaded: LoadedConfig, dirs: LabDirs, primary: Site, replicas: Site[]): string | null {
  const acks = acknowledgersOf(loaded, primary);
  if (!acks) return null;
  for (const r of acks.sites.filter((s) => replicas.includes(s))) {
    const n = namesOf(loaded, dirs, r);
    const { stop, start } = replicationSyntax(engineOf(loaded), sql(loaded, dirs, r, 'SELECT VERSION()'));
    sql(loaded, dirs, r, `SET GLOBAL ${n.replicaEnabled} = ON; ${stop} IO_THREAD; ${start} IO_THREAD`);
  }
  const n = namesOf(loaded, dirs, primary);
  sql(
    loaded,
    dirs,
    primary,
    `SET GLOBAL ${n.sourceTimeout} = ${acks.timeoutMs}; SET GLOBAL ${n.sourceWaitPoint} = 'AFTER_SYNC'; SET GLOBAL ${n.sourceEnabled} = ON`,
  );
  return `${primary.id} waits for ${acks.sites.map((s) => s.id).join(' or ')} (AFTER_SYNC, ${acks.timeoutMs} ms)`;
}

export interface LabSemiSyncState {
  /** 'on' / 'off', or 'n/a' where the server lacks that side (a MySQL plugin not loaded). */
  source: 'on' | 'off' | 'n/a';
  replica: 'on' | 'off' | 'n/a';
  /** The source waits for acknowledgements now (OFF also after a timeout fell back to asynchronous). */
  active: boolean;
  timeoutMs: number | null;
  waitPoint: string | null;
}

/** A server's semi-sync settings for `lab status`, read by the runbooks' own adapter. */
export async function semiSyncState(loaded: LoadedConfig, site: Site): Promise<LabSemiSyncState> {
  const s = await readSemiSync({ site, baseDir: loaded.baseDir });
  const side = (available: boolean, enabled: boolean) => (available ? (enabled ? 'on' : 'off') : 'n/a');
  return {
    source: side(s.available.source, s.sourceEnabled),
    replica: side(s.available.replica, s.replicaEnabled),
    active: s.sourceActive,
    timeoutMs: s.timeoutMs,
    waitPoint: s.waitPoint,
  };
}
