// The drill report's timeline: a row per step of the drill and of its child failover and failback, grouped by
// lane, on a time scale the write stream shares so the two charts line up.
import type { DrillReportLike, TimelineBar } from '../domain/drill';
import {
  COLOURS,
  PLOT_LEFT,
  PLOT_RIGHT,
  drillMarkers,
  element,
  legend,
  markerHeaderHeight,
  markerLines,
  stateColour,
  svg,
  text,
  timeAxis,
  timeScale,
  titled,
  type TimeScale,
} from './drill-report-svg';
import { drillOrigin, seconds } from './drill-report-text';

const LANES = ['drill', 'failover', 'failback'] as const;
const ROW = 20;
const LANE_GAP = 8;

/** From the drill's start to whatever ended last: the report, a bar, or the stream. */
export function drillTimeScale(report: DrillReportLike): TimeScale {
  const origin = drillOrigin(report);
  const ended = Date.parse(report.endedAt);
  const stream = report.stream;
  const streamEnd = stream ? stream.startAt + Math.max(0, ...stream.writers.map((w) => w.buckets.length)) * stream.bucketMs : origin;
  const ends = report.timeline.map((bar) => bar.endAt).filter(Number.isFinite);
  return timeScale(origin, Math.max(Number.isFinite(ended) ? ended : origin, streamEnd, ...ends));
}

export function timelineSvg(report: DrillReportLike): string {
  const scale = drillTimeScale(report);
  const markers = drillMarkers(report);
  const top = markerHeaderHeight(markers) + 4;
  const backgrounds: string[] = [];
  const rows: string[] = [];
  let y = top;
  for (const lane of LANES) {
    const bars = report.timeline.filter((bar) => bar.lane === lane).sort((a, b) => a.startAt - b.startAt);
    if (!bars.length) continue;
    backgrounds.push(laneBackground(lane, y, bars.length * ROW));
    rows.push(...bars.map((bar, index) => barRow(scale, bar, y + index * ROW)));
    y += bars.length * ROW + LANE_GAP;
  }
  if (!rows.length) rows.push(text({ x: PLOT_LEFT, y: top + 20, class: 'caption' }, 'no steps recorded'));
  const bottom = Math.max(y, top + 30);
  const states = ['done', 'failed', 'skipped', 'other'].map((state) => ({ label: state, colour: stateColour(state) }));
  const body =
    backgrounds.join('') +
    timeAxis(scale, top, bottom) +
    rows.join('') +
    markerLines(scale, markers, top, bottom) +
    legend(states, PLOT_LEFT, bottom + 50);
  return svg('timeline', bottom + 60, 'Timeline of the drill, its failover and its failback', body);
}

function laneBackground(lane: string, y: number, height: number): string {
  return (
    element('rect', { x: 0, y: y - 2, width: PLOT_RIGHT + 20, height: height + 4, rx: 4, fill: COLOURS.band }) +
    text({ x: 10, y: y + 14, class: 'lane' }, lane)
  );
}

/** One step: its name left of the plot, a bar from start to end coloured by state, and its duration beside it. */
function barRow(scale: TimeScale, bar: TimelineBar, y: number): string {
  const x = scale.x(bar.startAt);
  const width = Math.max(2, scale.x(bar.endAt) - x);
  const duration = seconds(bar.endAt - bar.startAt);
  const right = x + width + 60 < PLOT_RIGHT;
  const started = `+${((bar.startAt - scale.origin) / 1000).toFixed(1)} s`;
  return titled(
    `${bar.lane} · ${bar.name}: ${bar.state}, ${started} for ${duration}`,
    text({ x: PLOT_LEFT - 8, y: y + 14, 'text-anchor': 'end', class: 'step' }, bar.name) +
      element('rect', { x, y: y + 4, width, height: 13, rx: 2, fill: stateColour(bar.state) }) +
      text(
        { x: right ? x + width + 5 : x - 5, y: y + 14, 'text-anchor': right ? 'start' : 'end', class: 'duration' },
        bar.state === 'done' ? duration : `${bar.state}, ${duration}`,
      ),
  );
}
