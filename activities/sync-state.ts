// The file-sync record: per site and path, the last successful sync (the file RPO), its stats, and the
// current run of failures. Kept by the control plane in one small JSON file, because the RPO must be
// readable exactly when the primary site or the object store is not. Written with a rename, so a crash
// never leaves half a file.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface PathRecord {
  site: string;
  path: string;
  /** Start of the last successful sync: everything older is in the copy. */
  lastSuccessAt: string | null;
  lastKind: 'incremental' | 'full' | null;
  lastStats: Record<string, unknown> | null;
  lastFullCheckAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
  consecutiveFailures: number;
  /** Set while the site's sync schedules are paused (after a failover away from it). */
  paused: boolean;
}

export interface SyncState {
  paths: Record<string, PathRecord>;
}

export function readState(file: string): SyncState {
  if (!existsSync(file)) return { paths: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as SyncState;
}

function writeState(file: string, s: SyncState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(s, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

const key = (site: string, path: string) => `${site}:${path}`;

const blank = (site: string, path: string): PathRecord => ({
  site,
  path,
  lastSuccessAt: null,
  lastKind: null,
  lastStats: null,
  lastFullCheckAt: null,
  lastFailureAt: null,
  lastError: null,
  consecutiveFailures: 0,
  paused: false,
});

export type SyncOutcome =
  | { site: string; path: string; ok: true; kind: 'incremental' | 'full'; startedAt: string; stats: Record<string, unknown> | null; checked: boolean }
  | { site: string; path: string; ok: false; at: string; error: string };

/** Records one path's outcome; returns the record as it is now (consecutiveFailures drives escalation). */
export function recordOutcome(file: string, o: SyncOutcome): PathRecord {
  // Synchronous read-modify-write: one control worker process, so no other write interleaves.
  const s = readState(file);
  const r = { ...blank(o.site, o.path), ...s.paths[key(o.site, o.path)] };
  if (o.ok) {
    // A slower, older run finishing late must not move the RPO point backwards.
    if (!r.lastSuccessAt || o.startedAt > r.lastSuccessAt) {
      r.lastSuccessAt = o.startedAt;
      r.lastKind = o.kind;
      r.lastStats = o.stats;
    }
    if (o.checked) r.lastFullCheckAt = o.startedAt;
    r.consecutiveFailures = 0;
  } else {
    r.lastFailureAt = o.at;
    r.lastError = o.error;
    r.consecutiveFailures += 1;
  }
  s.paths[key(o.site, o.path)] = r;
  writeState(file, s);
  return r;
}

export function markPaused(file: string, site: string, paused: boolean): void {
  const s = readState(file);
  let changed = false;
  for (const r of Object.values(s.paths)) {
    if (r.site === site && r.paused !== paused) {
      r.paused = paused;
      changed = true;
    }
  }
  if (changed) writeState(file, s);
}
