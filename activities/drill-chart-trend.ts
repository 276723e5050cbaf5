// The drill report's other two charts: where the RTO went (its phases, stacked) and how this drill compares
// with the earlier drills of the same scenario (the trend, with the median and the regression flag).
import { DRILL_PHASES, type DrillReportLike, type TrendPoint } from '../domain/drill';
import { CHART_WIDTH, COLOURS, PALETTE, element, legend, line, svg, text, titled } from './drill-report-svg';
import { seconds } from './drill-report-text';

const PHASE_COLOURS = ['#51657a', '#8064b0', '#c7902f', '#2c8c8c', '#3b6fd6', '#c2457a', '#6b8e23'] as const;

/** One bar, a segment per measured phase; a phase too short for its label is named in the legend only. */
export function phasesSvg(report: DrillReportLike): string {
  const phases = DRILL_PHASES.map((phase, index) => ({ phase, ms: report.measurement.phases[phase], colour: PHASE_COLOURS[index]! }));
  const measured = phases.filter((entry): entry is typeof entry & { ms: number } => entry.ms !== null && entry.ms > 0);
  const total = measured.reduce((sum, entry) => sum + entry.ms, 0);
  if (!total) return svg('phases', 40, 'RTO phases', text({ x: 0, y: 24, class: 'caption' }, 'no phase of the RTO was measured'));
  let x = 0;
  const segments = measured.map((entry) => {
    const width = (entry.ms / total) * (CHART_WIDTH - 20);
    const label = width > 90 ? `${entry.phase} ${seconds(entry.ms)}` : width > 40 ? seconds(entry.ms) : '';
    const segment = titled(
      `${entry.phase}: ${seconds(entry.ms)}`,
      element('rect', { x, y: 4, width: Math.max(1, width - 1), height: 30, fill: entry.colour }) +
        (label ? text({ x: x + width / 2, y: 24, 'text-anchor': 'middle', class: 'on-bar' }, label) : ''),
    );
    x += width;
    return segment;
  });
  const items = measured.map((entry) => ({ label: `${entry.phase} ${seconds(entry.ms)}`, colour: entry.colour }));
  return svg('phases', 64, 'RTO phases', segments.join('') + legend(items, 0, 56));
}

const TREND_LEFT = 70;
/** Right of the bars: room for the level lines' labels. */
const TREND_RIGHT = CHART_WIDTH - 120;
const TREND_TOP = 34;
const TREND_HEIGHT = 190;
const TREND_BOTTOM = TREND_TOP + TREND_HEIGHT;

type Point = TrendPoint & { current: boolean };

/** The earlier drills and this one, oldest first. */
export function trendPoints(report: DrillReportLike): Point[] {
  const { workflowId, runId, endedAt, measurement } = report;
  const current = { workflowId, runId, endedAt, rtoMs: measurement.rtoMs, lostAckedWrites: measurement.lostAckedWrites, current: true };
  return [...report.trend.points.map((point) => ({ ...point, current: false })), current];
}

/** RTO bars per drill, this one highlighted (red when a regression), the median dashed, lost acked writes below. */
export function trendSvg(report: DrillReportLike): string {
  const points = trendPoints(report);
  const { medianRtoMs } = report.trend;
  const objectiveMs = Number.isFinite(report.objectives?.rtoSeconds) ? report.objectives.rtoSeconds * 1000 : null;
  const topMs = Math.max(1000, ...points.map((point) => point.rtoMs ?? 0), medianRtoMs ?? 0) * 1.18;
  // The objective joins the scale only when that does not squash the bars.
  const scaleMax = objectiveMs !== null && objectiveMs <= topMs * 1.6 ? Math.max(topMs, objectiveMs * 1.08) : topMs;
  const y = (ms: number) => TREND_BOTTOM - (ms / scaleMax) * TREND_HEIGHT;
  const slot = (TREND_RIGHT - TREND_LEFT) / Math.max(points.length, 4);
  const colour = (point: Point) => (!point.current ? '#aab6c6' : report.trend.regression ? COLOURS.regression : PALETTE[0]);
  const bars = points.map((point, index) => trendBar(point, TREND_LEFT + slot * (index + 0.5), Math.min(56, slot * 0.55), colour(point), y));
  const median = medianRtoMs === null ? '' : levelLine(y(medianRtoMs), `median ${seconds(medianRtoMs)}`, COLOURS.ink, '6 4');
  const axis =
    line(TREND_LEFT, TREND_BOTTOM, TREND_RIGHT, TREND_BOTTOM, { stroke: COLOURS.muted }) +
    text({ x: TREND_LEFT - 8, y: TREND_TOP + 4, 'text-anchor': 'end', class: 'tick' }, seconds(scaleMax, 0)) +
    text({ x: TREND_LEFT - 8, y: TREND_BOTTOM, 'text-anchor': 'end', class: 'tick' }, '0') +
    text({ x: 0, y: TREND_TOP - 14, class: 'lane' }, 'RTO') +
    text({ x: 0, y: TREND_BOTTOM + 56, class: 'caption' }, 'lost acked');
  const body = regressionFlag(report) + axis + median + objectiveLine(objectiveMs, scaleMax, y) + bars.join('');
  return svg('trend', TREND_BOTTOM + 72, 'RTO of this drill and the earlier ones', body);
}

/** The RTO objective as a level line, or named above the scale when it is far above every bar. */
function objectiveLine(objectiveMs: number | null, scaleMax: number, y: (ms: number) => number): string {
  if (objectiveMs === null) return '';
  const label = `objective ${seconds(objectiveMs, 0)}`;
  if (objectiveMs <= scaleMax) return levelLine(y(objectiveMs), label, COLOURS.muted, '2 3');
  return text({ x: TREND_RIGHT + 8, y: TREND_TOP + 4, class: 'level', style: `fill: ${COLOURS.muted}` }, `${label} ↑`);
}

function levelLine(y: number, label: string, colour: string, dash: string): string {
  return (
    line(TREND_LEFT, y, TREND_RIGHT, y, { stroke: colour, 'stroke-dasharray': dash }) +
    text({ x: TREND_RIGHT + 8, y: y + 4, class: 'level', style: `fill: ${colour}` }, label)
  );
}

/** One drill: its RTO bar (a dashed stub when it measured none), its date, and its lost acknowledged writes. */
function trendBar(point: Point, centre: number, width: number, colour: string, y: (ms: number) => number): string {
  const left = centre - width / 2;
  const middle = { x: centre, 'text-anchor': 'middle' };
  const bar =
    point.rtoMs === null
      ? element('rect', { x: left, y: TREND_BOTTOM - 16, width, height: 16, fill: 'none', stroke: COLOURS.muted, 'stroke-dasharray': '3 2' }) +
        text({ ...middle, y: TREND_BOTTOM - 22, class: 'tick' }, 'no RTO')
      : element('rect', { x: left, y: y(point.rtoMs), width, height: TREND_BOTTOM - y(point.rtoMs), rx: 2, fill: colour }) +
        rtoLabel(point.current, centre, y(point.rtoMs), seconds(point.rtoMs));
  const lost = point.lostAckedWrites;
  const run = `${point.workflowId} (${point.runId.slice(0, 8)}), ended ${point.endedAt}`;
  return titled(
    `${run}: RTO ${seconds(point.rtoMs)}, lost acked writes ${lost ?? 'not measured'}`,
    bar +
      text(
        { ...middle, y: TREND_BOTTOM + 16, class: point.current ? 'value-current' : 'tick' },
        point.current ? 'this drill' : shortDate(point.endedAt),
      ) +
      (point.current ? text({ ...middle, y: TREND_BOTTOM + 31, class: 'tick' }, shortDate(point.endedAt)) : '') +
      text({ ...middle, y: TREND_BOTTOM + 56, class: lost ? 'lost' : 'tick' }, String(lost ?? '–')),
  );
}

/** This drill's RTO above its bar, bold; an earlier one inside its bar when it fits, clear of the level lines. */
function rtoLabel(current: boolean, centre: number, top: number, label: string): string {
  const inside = !current && TREND_BOTTOM - top > 24;
  const y = inside ? top + 15 : top - 5;
  return text({ x: centre, y, 'text-anchor': 'middle', class: current ? 'value-current' : inside ? 'on-bar' : 'value' }, label);
}

function regressionFlag(report: DrillReportLike): string {
  if (!report.trend.regression) return '';
  return (
    element('rect', { x: TREND_LEFT, y: 2, width: 118, height: 22, rx: 4, fill: COLOURS.regression }) +
    text({ x: TREND_LEFT + 59, y: 18, 'text-anchor': 'middle', class: 'flag' }, 'REGRESSION')
  );
}

/** "2026-11-30T14:05:09Z" → "11-30 14:05". */
function shortDate(iso: string): string {
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toISOString().slice(5, 16).replace('T', ' ');
}
