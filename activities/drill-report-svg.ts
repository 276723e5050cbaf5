// SVG building blocks for the drill report's charts: a time scale in seconds from the drill's start, its axis,
// and the event markers (injection, promotion, first good write) every time chart draws the same way.
import type { DrillReportLike } from '../domain/drill';
import { escapeHtml } from './drill-report-text';

/** Chart width in SVG units; the page scales it to fit. Time charts share their left edge so they line up. */
export const CHART_WIDTH = 1120;
export const PLOT_LEFT = 200;
export const PLOT_RIGHT = CHART_WIDTH - 30;

export const COLOURS = {
  ink: '#1f2933',
  muted: '#6b7785',
  grid: '#e4e8ee',
  band: '#f5f7fa',
  done: '#2f9e66',
  failed: '#d64545',
  skipped: '#b8c0cc',
  other: '#e0a030',
  injection: '#d64545',
  promoted: '#3b6fd6',
  firstGoodWrite: '#2f9e66',
  regression: '#c53030',
} as const;

/** Writers and sites get their colours from here, in order. */
export const PALETTE = ['#3b6fd6', '#e08a2c', '#8a55c9', '#1d9aa8', '#c2457a', '#6b8e23'] as const;

export const stateColour = (state: string): string =>
  state === 'done' ? COLOURS.done : state === 'failed' ? COLOURS.failed : state === 'skipped' ? COLOURS.skipped : COLOURS.other;

type Attributes = Record<string, string | number | undefined>;

/** An SVG element; numbers are rounded to a tenth, every value escaped, undefined attributes left out. */
export function element(name: string, attributes: Attributes, content?: string): string {
  const list = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([key, value]) => ` ${key}="${escapeHtml(typeof value === 'number' ? Math.round(value * 10) / 10 : value)}"`)
    .join('');
  return content === undefined ? `<${name}${list}/>` : `<${name}${list}>${content}</${name}>`;
}

export const text = (attributes: Attributes, content: string): string => element('text', attributes, escapeHtml(content));
export const line = (x1: number, y1: number, x2: number, y2: number, attributes: Attributes): string =>
  element('line', { x1, y1, x2, y2, ...attributes });
/** A tooltip: the browser shows it on hover. */
export const titled = (title: string, content: string): string => `<g><title>${escapeHtml(title)}</title>${content}</g>`;

export interface TimeScale {
  origin: number;
  end: number;
  x(at: number): number;
  /** Tick offsets from the origin, in ms. */
  ticks: number[];
}

const TICK_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export function timeScale(origin: number, end: number): TimeScale {
  const spanMs = Math.max(1000, end - origin);
  const stepS = TICK_STEPS_S.find((step) => spanMs / 1000 / step <= 12) ?? 7200;
  const ticks: number[] = [];
  for (let tick = 0; tick <= spanMs; tick += stepS * 1000) ticks.push(tick);
  const x = (at: number) => PLOT_LEFT + ((at - origin) / spanMs) * (PLOT_RIGHT - PLOT_LEFT);
  return { origin, end: origin + spanMs, x, ticks };
}

/** "90 s" below two minutes of span, "2 min" / "2:30" above. */
export function tickLabel(offsetMs: number, stepMs: number): string {
  const totalS = Math.round(offsetMs / 1000);
  if (stepMs < 60_000) return `${totalS} s`;
  const minutes = Math.floor(totalS / 60);
  const rest = totalS % 60;
  return rest ? `${minutes}:${String(rest).padStart(2, '0')}` : `${minutes} min`;
}

/** Vertical grid lines from top to bottom and the tick labels under bottom. */
export function timeAxis(scale: TimeScale, top: number, bottom: number): string {
  const stepMs = (scale.ticks[1] ?? scale.end - scale.origin) - (scale.ticks[0] ?? 0);
  const parts = scale.ticks.map((tick) => {
    const x = scale.x(scale.origin + tick);
    return (
      line(x, top, x, bottom, { stroke: COLOURS.grid }) + text({ x, y: bottom + 15, 'text-anchor': 'middle', class: 'tick' }, tickLabel(tick, stepMs))
    );
  });
  const axis = line(PLOT_LEFT, bottom, PLOT_RIGHT, bottom, { stroke: COLOURS.muted });
  const caption = text({ x: PLOT_RIGHT, y: bottom + 30, 'text-anchor': 'end', class: 'caption' }, 'seconds since the drill started');
  return parts.join('') + axis + caption;
}

export interface Marker {
  label: string;
  at: number;
  colour: string;
}

export function drillMarkers(report: DrillReportLike): Marker[] {
  const { injectedAt, promotedAt, firstGoodWriteAt } = report.measurement;
  const markers: Array<Marker | null> = [
    injectedAt === null ? null : { label: 'injection', at: injectedAt, colour: COLOURS.injection },
    promotedAt === null ? null : { label: 'promoted', at: promotedAt, colour: COLOURS.promoted },
    firstGoodWriteAt === null ? null : { label: 'first good write', at: firstGoodWriteAt, colour: COLOURS.firstGoodWrite },
  ];
  return markers.filter((marker): marker is Marker => marker !== null);
}

/** Height the marker labels take above a chart: one row each, so close events do not overwrite each other. */
export const markerHeaderHeight = (markers: Marker[]): number => (markers.length ? markers.length * 15 + 6 : 0);

/** Dashed vertical lines from top to bottom, with their labels stacked in the header above top. */
export function markerLines(scale: TimeScale, markers: Marker[], top: number, bottom: number): string {
  const headerTop = top - markerHeaderHeight(markers);
  return markers
    .map((marker, index) => {
      const x = scale.x(marker.at);
      const labelY = headerTop + 12 + index * 15;
      const anchor = x > PLOT_RIGHT - 140 ? 'end' : 'start';
      const when = `+${((marker.at - scale.origin) / 1000).toFixed(1)} s`;
      return (
        line(x, labelY - 10, x, bottom, { stroke: marker.colour, 'stroke-width': 1.5, 'stroke-dasharray': '5 3' }) +
        text(
          { x: anchor === 'end' ? x - 4 : x + 4, y: labelY, 'text-anchor': anchor, class: 'marker', style: `fill: ${marker.colour}` },
          `${marker.label} ${when}`,
        )
      );
    })
    .join('');
}

/** The outer element: a fixed coordinate system that scales to the page width (inline in HTML: no namespace needed). */
export function svg(id: string, height: number, label: string, body: string): string {
  return element('svg', { id, viewBox: `0 0 ${CHART_WIDTH} ${height}`, width: '100%', role: 'img', 'aria-label': label }, body);
}

export function legend(items: Array<{ label: string; colour: string }>, x: number, y: number): string {
  let cursor = x;
  return items
    .map((item) => {
      const part =
        element('rect', { x: cursor, y: y - 9, width: 12, height: 10, rx: 2, fill: item.colour }) +
        text({ x: cursor + 17, y, class: 'legend' }, item.label);
      cursor += 30 + item.label.length * 6.5;
      return part;
    })
    .join('');
}
