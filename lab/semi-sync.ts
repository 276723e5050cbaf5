// Semi-synchronous replication in the lab: the first primary and its configured acknowledgers are set up at
// bootstrap (AFTER_SYNC, the group's timeout), and each server's state can be read for `lab status`.
// After that only the runbooks change the roles.
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { durationMs } from '../config/schema';
import { replicationSyntax, type SemiSyncNames } from '../domain/replication-syntax';
import type { LabDirs } from './paths';
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

/** A server's semi-sync settings, over the lab's root socket: for `lab status`. */
export function semiSyncState(loaded: LoadedConfig, dirs: LabDirs, site: Site): LabSemiSyncState {
  const n = namesOf(loaded, dirs, site);
  const pairs = (text: string) =>
    new Map(
      text
        .split('\n')
        .filter(Boolean)
        .map((line) => line.split('\t') as [string, string]),
    );
  const vars = pairs(sql(loaded, dirs, site, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'"));
  const status = pairs(sql(loaded, dirs, site, `SHOW GLOBAL STATUS LIKE '${n.sourceStatus}'`));
  const side = (name: string) => (vars.has(name) ? (/^(ON|1)$/i.test(vars.get(name)!) ? 'on' : 'off') : 'n/a');
  const timeout = vars.get(n.sourceTimeout);
  return {
    source: side(n.sourceEnabled),
    replica: side(n.replicaEnabled),
    active: /^ON$/i.test(status.get(n.sourceStatus) ?? ''),
    timeoutMs: timeout === undefined ? null : Number(timeout),
    waitPoint: vars.get(n.sourceWaitPoint) ?? null,
  };
}
