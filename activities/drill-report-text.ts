// Small formatters the drill report's HTML, SVG and Markdown share, so a number reads the same everywhere.
import type { DrillReportLike } from '../domain/drill';

/** Every piece of text that goes into the HTML or SVG goes through here: the report holds operator input. */
export function escapeHtml(text: unknown): string {
  return String(text ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** 24130 → "24.1 s"; null → "not measured". */
export function seconds(ms: number | null | undefined, digits = 1): string {
  return ms === null || ms === undefined ? 'not measured' : `${(ms / 1000).toFixed(digits)} s`;
}

/** A count, or "not measured". */
export function count(value: number | null | undefined): string {
  return value === null || value === undefined ? 'not measured' : String(value);
}

/** Where the time axes start: the drill's start, or its first bar if one started earlier. */
export function drillOrigin(report: DrillReportLike): number {
  const started = Date.parse(report.startedAt);
  const starts = report.timeline.map((bar) => bar.startAt).filter(Number.isFinite);
  const origin = Math.min(Number.isFinite(started) ? started : Infinity, ...starts, report.stream?.startAt ?? Infinity);
  return Number.isFinite(origin) ? origin : 0;
}

/** "+12.3 s" from the drill's start. */
export function offset(origin: number, at: number | null | undefined): string {
  return at === null || at === undefined ? '' : `+${((at - origin) / 1000).toFixed(1)} s`;
}

/** An ISO time as "2026-11-30 14:05:09 UTC"; anything else as it is. */
export function clock(iso: string | null | undefined): string {
  if (!iso) return '';
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : `${time.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The basename of a report file: reports link to each other by name, since they live in one folder. */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}
