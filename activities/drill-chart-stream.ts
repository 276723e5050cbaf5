// The drill report's write stream: acknowledged writes per second, stacked per writer, with the failed ones
// hanging below in red and the sites that acknowledged them above, so the gap the fault made is plain to see.
import type { DrillReportLike, StreamSeries } from '../domain/drill';
import { drillTimeScale } from './drill-chart-timeline';
import {
  COLOURS,
  PALETTE,
  PLOT_LEFT,
  PLOT_RIGHT,
  drillMarkers,
  element,
  legend,
  line,
  markerHeaderHeight,
  markerLines,
  svg,
  text,
  timeAxis,
  titled,
  type TimeScale,
} from './drill-report-svg';
import { seconds } from './drill-report-text';

const SITE_PALETTE = ['#51657a', '#c7902f', '#8064b0', '#2c8c8c', '#a0524f'] as const;
const PLOT_HEIGHT = 190;
const FAILED_HEIGHT = 46;

interface StreamLayout {
  scale: TimeScale;
  stream: StreamSeries;
  /** Writes per second at which the plot is full; the same for the failed strip. */
  ackedMax: number;
  failedMax: number;
  /** Top of the sites strip, of the plot, the zero line, and the bottom of the failed strip. */
  strip: number;
  plotTop: number;
  zero: number;
  failedBottom: number;
}

export function streamSvg(report: DrillReportLike, stream: StreamSeries): string {
  const markers = drillMarkers(report);
  const strip = markerHeaderHeight(markers) + 6;
  const layout: StreamLayout = {
    scale: drillTimeScale(report),
    stream,
    ackedMax: niceCeiling(Math.max(1, ...bucketTotals(stream, 'acked').map((total) => perSecond(stream, total)))),
    failedMax: niceCeiling(Math.max(1, ...bucketTotals(stream, 'failed').map((total) => perSecond(stream, total)))),
    strip,
    plotTop: strip + 26,
    zero: strip + 26 + PLOT_HEIGHT,
    failedBottom: strip + 26 + PLOT_HEIGHT + 6 + FAILED_HEIGHT,
  };
  const body =
    gapShade(report, layout) +
    timeAxis(layout.scale, layout.plotTop, layout.failedBottom) +
    yLabels(layout) +
    siteStrip(layout) +
    stream.writers.map((_, index) => writerArea(layout, index)).join('') +
    failedBars(layout) +
    markerLines(layout.scale, markers, layout.strip, layout.failedBottom) +
    streamLegend(stream, layout.failedBottom + 50);
  return svg('write-stream', layout.failedBottom + 60, 'Acknowledged and failed writes of the drill stream', body);
}

const perSecond = (stream: StreamSeries, writes: number) => (writes * 1000) / stream.bucketMs;
const bucketCount = (stream: StreamSeries) => Math.max(0, ...stream.writers.map((writer) => writer.buckets.length));
/** Where bucket `index` starts on the time scale (index + 1: where it ends). */
const bucketX = (layout: StreamLayout, index: number) => layout.scale.x(layout.stream.startAt + index * layout.stream.bucketMs);

function bucketTotals(stream: StreamSeries, field: 'acked' | 'failed'): number[] {
  return Array.from({ length: bucketCount(stream) }, (_, index) =>
    stream.writers.reduce((sum, writer) => sum + (writer.buckets[index]?.[field] ?? 0), 0),
  );
}

/** 37 → 40, 180 → 200: a top for the axis that reads well. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 2.5, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

/** Writer `index` stacked on the writers before it, as steps (a bucket is a count over its whole width). */
function writerArea(layout: StreamLayout, index: number): string {
  const { stream } = layout;
  const y = (writes: number) => (layout.zero - (perSecond(stream, writes) / layout.ackedMax) * PLOT_HEIGHT).toFixed(1);
  const below = (bucket: number) => stream.writers.slice(0, index).reduce((sum, writer) => sum + (writer.buckets[bucket]?.acked ?? 0), 0);
  const upper: string[] = [];
  const lower: string[] = [];
  stream.writers[index]!.buckets.forEach((bucket, bucketIndex) => {
    const left = bucketX(layout, bucketIndex).toFixed(1);
    const right = bucketX(layout, bucketIndex + 1).toFixed(1);
    const base = below(bucketIndex);
    upper.push(`${left},${y(base + bucket.acked)}`, `${right},${y(base + bucket.acked)}`);
    lower.unshift(`${right},${y(base)}`, `${left},${y(base)}`);
  });
  const colour = PALETTE[index % PALETTE.length]!;
  return (
    element('polygon', { points: [...upper, ...lower].join(' '), fill: colour, 'fill-opacity': 0.35 }) +
    element('polyline', { points: upper.join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.6 })
  );
}

/** Failed writes hang below the zero line in red, on their own scale, so a single failure still shows. */
function failedBars(layout: StreamLayout): string {
  const { stream, scale } = layout;
  return bucketTotals(stream, 'failed')
    .map((failed, index) => {
      if (!failed) return '';
      const x = bucketX(layout, index);
      const width = Math.max(1.5, bucketX(layout, index + 1) - x - 0.5);
      const height = Math.max(2, (perSecond(stream, failed) / layout.failedMax) * FAILED_HEIGHT);
      const who = stream.writers.map((writer) => `${writer.writer} ${writer.buckets[index]?.failed ?? 0}`).join(', ');
      const at = ((stream.startAt + index * stream.bucketMs - scale.origin) / 1000).toFixed(0);
      return titled(`+${at} s: failed ${who}`, element('rect', { x, y: layout.zero + 6, width, height, fill: COLOURS.failed }));
    })
    .join('');
}

function yLabels(layout: StreamLayout): string {
  const tick = (y: number, label: string) => text({ x: PLOT_LEFT - 8, y, 'text-anchor': 'end', class: 'tick' }, label);
  const middle = layout.plotTop + PLOT_HEIGHT / 2;
  const failedTop = layout.zero + 6;
  return (
    line(PLOT_LEFT, layout.zero, PLOT_RIGHT, layout.zero, { stroke: COLOURS.muted }) +
    tick(layout.plotTop + 4, `${layout.ackedMax}/s`) +
    tick(middle + 4, `${layout.ackedMax / 2}/s`) +
    tick(layout.zero, '0') +
    text({ x: 10, y: middle, class: 'lane' }, 'acknowledged') +
    text({ x: 10, y: middle + 15, class: 'caption' }, 'writes per second') +
    text({ x: 10, y: failedTop + 18, class: 'lane', style: `fill: ${COLOURS.failed}` }, 'failed') +
    tick(failedTop + FAILED_HEIGHT, `${layout.failedMax}/s`)
  );
}

/** The time between the fault and the first write the new primary acknowledged, shaded. */
function gapShade(report: DrillReportLike, layout: StreamLayout): string {
  const { injectedAt, firstGoodWriteAt, writeUnavailableMs } = report.measurement;
  if (injectedAt === null) return '';
  const end = firstGoodWriteAt ?? layout.scale.end;
  const left = layout.scale.x(injectedAt);
  const width = Math.max(1, layout.scale.x(end) - left);
  const middle = Math.min(PLOT_RIGHT - 90, Math.max(PLOT_LEFT + 90, left + width / 2));
  return (
    element('rect', { x: left, y: layout.plotTop, width, height: PLOT_HEIGHT, fill: COLOURS.failed, 'fill-opacity': 0.07 }) +
    text({ x: middle, y: layout.plotTop + 22, 'text-anchor': 'middle', class: 'gap' }, 'no write acknowledged') +
    text({ x: middle, y: layout.plotTop + 40, 'text-anchor': 'middle', class: 'gap-figure' }, seconds(writeUnavailableMs ?? end - injectedAt))
  );
}

/** A thin strip above the plot: which site acknowledged the writes, run by run (both, split in two, in a split brain). */
function siteStrip(layout: StreamLayout): string {
  const { stream } = layout;
  const sites = [...new Set(stream.writers.flatMap((writer) => writer.buckets.flatMap((bucket) => bucket.sites)))].sort();
  const colour = (site: string) => SITE_PALETTE[sites.indexOf(site) % SITE_PALETTE.length]!;
  const parts = [text({ x: PLOT_LEFT - 8, y: layout.strip + 11, 'text-anchor': 'end', class: 'caption' }, 'acknowledged by')];
  for (const run of siteRuns(stream)) {
    const x = bucketX(layout, run.from);
    const width = bucketX(layout, run.to) - x;
    const height = 14 / run.sites.length;
    run.sites.forEach((site, part) => parts.push(element('rect', { x, y: layout.strip + part * height, width, height, fill: colour(site) })));
    const label = run.sites.join('+');
    if (width > label.length * 6.5 + 8) parts.push(text({ x: x + 4, y: layout.strip + 11, class: 'site' }, label));
  }
  return parts.join('');
}

/** Consecutive buckets acknowledged by the same sites, as [from, to) bucket ranges; buckets with none are gaps. */
function siteRuns(stream: StreamSeries): Array<{ from: number; to: number; sites: string[] }> {
  const runs: Array<{ from: number; to: number; sites: string[] }> = [];
  for (let index = 0; index < bucketCount(stream); index++) {
    const sites = [...new Set(stream.writers.flatMap((writer) => writer.buckets[index]?.sites ?? []))].sort();
    const last = runs.at(-1);
    if (!sites.length) continue;
    if (last && last.to === index && last.sites.join('+') === sites.join('+')) last.to = index + 1;
    else runs.push({ from: index, to: index + 1, sites });
  }
  return runs;
}

function streamLegend(stream: StreamSeries, y: number): string {
  const writers = stream.writers.map((writer, index) => ({
    label: `${writer.writer}: ${writer.acked} acknowledged, ${writer.failed} failed`,
    colour: PALETTE[index % PALETTE.length]!,
  }));
  return legend([...writers, { label: 'failed writes', colour: COLOURS.failed }], PLOT_LEFT, y);
}
