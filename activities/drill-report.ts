// A drill's report files (JSON for tools and the next drill's trend, Markdown and HTML for people), and the
// trend read back from the earlier drills' JSON next to them.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DrillReportLike, TrendPoint } from '../domain/drill';
import { renderDrillHtml } from './drill-report-html';
import { renderDrillMarkdown } from './drill-report-markdown';

export { renderDrillHtml } from './drill-report-html';
export { renderDrillMarkdown } from './drill-report-markdown';
export { trendVerdict } from '../domain/drill-trend';

export interface DrillReportFiles {
  json: string;
  markdown: string;
  html: string;
}

/** `<workflowId>-<runId>.json|.md|.html` in dir, named like every runbook's report (writeReportFiles). */
export function writeDrillReportFiles(dir: string, report: DrillReportLike): DrillReportFiles {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${report.workflowId}${report.runId ? `-${String(report.runId)}` : ''}`);
  const files: DrillReportFiles = { json: `${base}.json`, markdown: `${base}.md`, html: `${base}.html` };
  writeFileSync(files.json, JSON.stringify({ ...report, files }, null, 2));
  writeFileSync(files.markdown, renderDrillMarkdown(report));
  writeFileSync(files.html, renderDrillHtml(report));
  return files;
}

/** The earlier drills of one scenario and group that ended, oldest first, at most `limit`; unreadable files are skipped. */
export function readDrillTrend(dir: string, scenario: string, group: string, exceptRunId: string, limit = 10): TrendPoint[] {
  const earlier = storedDrillReports(dir).filter(
    (report) => report.input?.scenario === scenario && report.input?.group === group && report.runId !== exceptRunId && Boolean(report.endedAt),
  );
  const sorted = earlier.sort((a, b) => Date.parse(a.endedAt) - Date.parse(b.endedAt));
  return (limit > 0 ? sorted.slice(-limit) : []).map((report) => ({
    workflowId: report.workflowId,
    runId: report.runId,
    endedAt: report.endedAt,
    rtoMs: report.measurement?.rtoMs ?? null,
    lostAckedWrites: report.measurement?.lostAckedWrites ?? null,
  }));
}

function storedDrillReports(dir: string): DrillReportLike[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.startsWith('drill-') && name.endsWith('.json'));
  } catch {
    return []; // no reports yet
  }
  return names.flatMap((name) => {
    try {
      const report = JSON.parse(readFileSync(join(dir, name), 'utf8')) as DrillReportLike;
      return report?.runbook === 'drill' ? [report] : [];
    } catch {
      return []; // half-written or not a report: it has no place in a trend
    }
  });
}
