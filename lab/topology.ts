// Who replicates from whom, and how: what `lab status` and the demo print under the component table.
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { inspectDatabase, type DatabaseState } from '../activities/inspect';
import { dbName } from './database';
import type { LabDirs } from './paths';
import { alive, readPid } from './procs';
import { semiSyncState, type LabSemiSyncState } from './semi-sync';

export interface ReplicationLink {
  source: string;
  replica: string;
  /** Semi-synchronous when the source waits for acknowledgements and this replica sends them. */
  mode: 'semi-sync' | 'async';
  io: boolean;
  sql: boolean;
  lagSeconds: number | null;
}

export interface Topology {
  writable: string[];
  links: ReplicationLink[];
  /** Servers that are up but neither writable nor replicating (a fenced old primary). */
  alone: string[];
  down: string[];
  semiSync: Record<string, LabSemiSyncState>;
}

export async function topology(loaded: LoadedConfig, dirs: LabDirs): Promise<Topology> {
  const sites = loaded.config.sites;
  const seen = await Promise.all(sites.map(async (s) => ({ site: s, db: await state(loaded, dirs, s) })));
  const t: Topology = { writable: [], links: [], alone: [], down: [], semiSync: {} };
  for (const { site, db } of seen) {
    if (!db) {
      t.down.push(site.id);
      continue;
    }
    t.semiSync[site.id] = await semiSyncState(loaded, site);
    if (!db.readOnly) t.writable.push(site.id);
    else if (!db.replication) t.alone.push(site.id);
  }
  for (const { site, db } of seen) {
    const rep = db?.replication;
    if (!rep) continue;
    const source = sites.find((s) => s.mysql.host === rep.sourceHost && s.mysql.port === rep.sourcePort)?.id ?? `${rep.sourceHost}:${rep.sourcePort}`;
    const semi = t.semiSync[source]?.source === 'on' && t.semiSync[site.id]?.replica === 'on';
    t.links.push({
      source,
      replica: site.id,
      mode: semi ? 'semi-sync' : 'async',
      io: rep.ioRunning,
      sql: rep.sqlRunning,
      lagSeconds: rep.secondsBehind,
    });
  }
  return t;
}

export function formatTopology(t: Topology): string[] {
  const lines = t.writable.map((w) => {
    const s = t.semiSync[w];
    const semi =
      s?.source === 'on'
        ? `semi-sync source, ${s.active ? 'waiting for acknowledgements' : 'fallen back to async'} (${s.waitPoint}, ${s.timeoutMs} ms)`
        : 'no semi-sync';
    return `  ${w.padEnd(6)} primary, writable; ${semi}`;
  });
  for (const l of t.links) {
    const threads = `IO ${l.io ? 'yes' : 'no'} SQL ${l.sql ? 'yes' : 'no'} lag ${l.lagSeconds ?? 'unknown'} s`;
    lines.push(`  ${`${l.source} → ${l.replica}`.padEnd(12)} ${l.mode.padEnd(9)} ${threads}`);
  }
  for (const a of t.alone) lines.push(`  ${a.padEnd(6)} read-only, replicates from nobody (fenced)`);
  for (const d of t.down) lines.push(`  ${d.padEnd(6)} down`);
  return lines;
}

async function state(loaded: LoadedConfig, dirs: LabDirs, site: Site): Promise<DatabaseState | null> {
  if (!alive(readPid(dirs.pids, dbName(site)))) return null;
  try {
    return await inspectDatabase({ site, baseDir: loaded.baseDir });
  } catch {
    return null;
  }
}
