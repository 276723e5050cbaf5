// What the metrics need of the report files in the reports folder: one small summary per report JSON. The
// files are the durable record, so a restarted control worker rebuilds every number from them.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface ReportSummary {
  runbook: string;
  /** The report's outcome; a drill's is its verdict (its outcome says 'completed' even when it failed). */
  outcome: string;
  group: string | null;
  /** Epoch ms the run ended (else started): which report of a group is the newest. */
  at: number;
  steps: Array<{ name: string; seconds: number }>;
  /** Failover: rtoMs; drill: measurement.rtoMs. Null when the run did not measure it. */
  rtoSeconds: number | null;
  /** Failover: rpo.lagSecondsAtPromotion; drill: the span of acknowledged writes lost (0 when none). */
  rpoSeconds: number | null;
}

interface RawReport {
  runbook?: unknown;
  outcome?: unknown;
  verdict?: unknown;
  input?: { group?: unknown };
  startedAt?: unknown;
  endedAt?: unknown;
  steps?: Array<{ name?: unknown; durationMs?: unknown }>;
  rtoMs?: unknown;
  rpo?: { lagSecondsAtPromotion?: unknown };
  measurement?: { rtoMs?: unknown; lostAckedWrites?: unknown; lostSpanMs?: unknown };
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/** A drill's write RPO, judged as its verdict judges it: no lost acknowledged write is 0 s. */
function drillRpoSeconds(m: RawReport['measurement']): number | null {
  const lost = num(m?.lostAckedWrites);
  if (lost === null) return null;
  return lost === 0 ? 0 : seconds(num(m?.lostSpanMs) ?? 0);
}

export function summarise(raw: RawReport, mtimeMs: number): ReportSummary | null {
  const runbook = str(raw.runbook);
  if (!runbook) return null;
  const drill = runbook === 'drill';
  return {
    runbook,
    outcome: str(drill ? raw.verdict : raw.outcome) ?? str(raw.outcome) ?? 'unknown',
    group: str(raw.input?.group),
    at: Date.parse(str(raw.endedAt) ?? '') || Date.parse(str(raw.startedAt) ?? '') || mtimeMs,
    steps: (Array.isArray(raw.steps) ? raw.steps : []).flatMap((s) => {
      const ms = num(s?.durationMs);
      const name = str(s?.name);
      return ms === null || name === null ? [] : [{ name, seconds: ms / 1000 }];
    }),
    rtoSeconds: seconds(num(drill ? raw.measurement?.rtoMs : raw.rtoMs)),
    rpoSeconds: drill ? drillRpoSeconds(raw.measurement) : runbook === 'failover' ? num(raw.rpo?.lagSecondsAtPromotion) : null,
  };
}

interface Cached {
  mtimeMs: number;
  size: number;
  summary: ReportSummary | null;
}

/**
 * Reads the summaries of every `*.json` report in `dir` (none when it does not exist yet). Reports never change
 * once written, so a file is parsed again only when its size or mtime does; a file that does not parse (being
 * written right now) is skipped and not remembered, so the next scrape reads it again.
 */
export function reportReader(dir: string): () => Promise<ReportSummary[]> {
  const cache = new Map<string, Cached>();
  return async () => {
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => e.name);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const present = new Set(names);
    for (const name of cache.keys()) if (!present.has(name)) cache.delete(name);
    const summaries = await Promise.all(names.map((name) => summaryOf(join(dir, name), name, cache)));
    return summaries.filter((s): s is ReportSummary => s !== null);
  };
}

async function summaryOf(path: string, name: string, cache: Map<string, Cached>): Promise<ReportSummary | null> {
  try {
    const { mtimeMs, size } = await stat(path);
    const hit = cache.get(name);
    if (hit && hit.mtimeMs === mtimeMs && hit.size === size) return hit.summary;
    const summary = summarise(JSON.parse(await readFile(path, 'utf8')) as RawReport, mtimeMs);
    cache.set(name, { mtimeMs, size, summary });
    return summary;
  } catch {
    return null; // removed since the listing, or half-written: the next scrape sees it as it is then
  }
}
