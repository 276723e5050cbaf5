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

/**
 * What the control plane knows of one store location (remote, bucket and prefix of a synced path), whichever
 * site writes it: its file count after the last sync that left it known, so that the deletion guard need not
 * list the whole store again before every sync (docs/file-sync.md, "The deletion guard").
 */
export interface StoreRecord {
  /** Files in the store after the last sync that recorded it; null while unknown (a sync is writing, or one failed). */
  files: number | null;
  countedAt: string | null;
  /** Which run counted it: `site tw, path ., workflow <id>`. */
  countedBy: string | null;
  /**
   * Syncs that started writing here and have not recorded their outcome yet, by run id: when each started,
   * and whether another sync wrote at the same time (then neither's listing is the store's final state).
   */
  writing: Record<string, { since: string; overlapped: boolean }>;
}

export interface SyncState {
  paths: Record<string, PathRecord>;
  stores?: Record<string, StoreRecord>;
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

/** The store the path's copy is in, and the run: given when the run may have written it (patched runs). */
export interface StoreWrite {
  store: string;
  runId: string;
  /** Files in the store after a successful sync (rclone's own listing, --combined); absent on failure. */
  files?: number;
  countedBy?: string;
}

export type SyncOutcome =
  | {
      site: string;
      path: string;
      ok: true;
      kind: 'incremental' | 'full';
      startedAt: string;
      stats: Record<string, unknown> | null;
      checked: boolean;
      storeWrite?: StoreWrite;
    }
  | { site: string; path: string; ok: false; at: string; error: string; storeWrite?: StoreWrite };

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
  if (o.storeWrite) endWrite(s, o.storeWrite, o.ok ? o.storeWrite.files : undefined, o.ok ? o.startedAt : o.at);
  writeState(file, s);
  return r;
}

const blankStore = (): StoreRecord => ({ files: null, countedAt: null, countedBy: null, writing: {} });

/** A sync is about to write `store`: its recorded count is void until a run that wrote alone records a new one. */
export function beginStoreWrite(file: string, w: { store: string; runId: string; at: string }): void {
  const s = readState(file);
  const rec = { ...blankStore(), ...s.stores?.[w.store] };
  const others = Object.keys(rec.writing).filter((id) => id !== w.runId);
  const writing = Object.fromEntries(others.map((id) => [id, { ...rec.writing[id]!, overlapped: true }]));
  writing[w.runId] = { since: rec.writing[w.runId]?.since ?? w.at, overlapped: others.length > 0 || (rec.writing[w.runId]?.overlapped ?? false) };
  s.stores = { ...s.stores, [w.store]: { files: null, countedAt: null, countedBy: null, writing } };
  writeState(file, s);
}

/**
 * The end of a write: a success records the count only if no other sync wrote the store at any time during
 * this one (else its listing need not be the store's final state); a failure leaves it unknown (the sync may
 * have stopped part-way). A run that never began writing (the guard refused) changes nothing.
 */
function endWrite(s: SyncState, w: StoreWrite, files: number | undefined, at: string): void {
  const rec = s.stores?.[w.store];
  const own = rec?.writing[w.runId];
  if (!rec || !own) return;
  const writing = { ...rec.writing };
  delete writing[w.runId];
  const alone = !own.overlapped && Object.keys(writing).length === 0;
  s.stores![w.store] =
    files !== undefined && alone ? { files, countedAt: at, countedBy: w.countedBy ?? null, writing } : { ...rec, files: null, writing };
}

/** A recorded count the guard may use, or why not (the guard then counts the store, and the run says so). */
export type RecordedCount = { files: number; countedAt: string; countedBy: string | null } | { files: null; reason: string };

/** Older than this, a recorded count is not used: a store changed outside the runbooks is recounted at least daily. */
export const RECORDED_COUNT_MAX_AGE_MS = 24 * 3600_000;

export function recordedCount(rec: StoreRecord | undefined, now: Date, maxAgeMs = RECORDED_COUNT_MAX_AGE_MS): RecordedCount {
  if (!rec) return { files: null, reason: 'no count of the store is recorded yet' };
  const writers = Object.entries(rec.writing ?? {});
  if (writers.length > 0) {
    const [runId, { since }] = writers[0]!;
    return { files: null, reason: `a sync (run ${runId}, started ${since}) wrote the store and has not recorded its outcome` };
  }
  if (rec.files === null || !rec.countedAt) return { files: null, reason: 'the last sync that wrote the store did not finish with a count' };
  const age = now.getTime() - Date.parse(rec.countedAt);
  if (!(age <= maxAgeMs)) return { files: null, reason: `the recorded count (${rec.countedAt}) is older than ${maxAgeMs / 3600_000} h` };
  return { files: rec.files, countedAt: rec.countedAt, countedBy: rec.countedBy };
}

export function readRecordedCount(file: string, store: string, now = new Date()): RecordedCount {
  return recordedCount(readState(file).stores?.[store], now);
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
