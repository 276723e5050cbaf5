// Is this drill slower than the ones before it? Pure: the workflow decides the regression flag with it, and the
// report renders what it decided.
import type { TrendPoint } from './drill';

export interface TrendVerdict {
  medianRtoMs: number | null;
  regression: boolean;
  why: string;
}

/** The median of the previous drills' RTOs (those that measured one); a regression is an RTO over median × (1 + share). */
export function trendVerdict(points: TrendPoint[], rtoMs: number | null, share: number): TrendVerdict {
  const previous = points.map((point) => point.rtoMs).filter((value): value is number => value !== null);
  const medianRtoMs = median(previous);
  if (medianRtoMs === null) return { medianRtoMs, regression: false, why: 'no earlier drill measured an RTO: nothing to compare with' };
  if (rtoMs === null) return { medianRtoMs, regression: false, why: 'this drill measured no RTO: nothing to compare' };
  const limitMs = medianRtoMs * (1 + share);
  const against = `the median ${seconds(medianRtoMs)} of ${previous.length} earlier drill(s)`;
  if (rtoMs > limitMs) {
    return {
      medianRtoMs,
      regression: true,
      why: `RTO ${seconds(rtoMs)} is over ${against} by more than ${percent(share)} (limit ${seconds(limitMs)})`,
    };
  }
  return { medianRtoMs, regression: false, why: `RTO ${seconds(rtoMs)} is within ${percent(share)} of ${against} (limit ${seconds(limitMs)})` };
}

export function median(values: number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const percent = (share: number) => `${Math.round(share * 100)}%`;
