// What the drill's write stream says about the fault: the first write the new primary acknowledged, the
// acknowledged writes it does not hold (lost), the ones the old primary acknowledged after the promotion
// (split brain), and the longest silence a client saw. Pure: the journals and the rows are read by activities.
import type { StreamSeries, StreamWrite } from './drill';

export interface StreamFacts {
  writes: StreamWrite[];
  /** Per writer, the sequence numbers the new primary holds, as [first, last] ranges. */
  present: Record<string, Array<[number, number]>>;
  /** Epoch ms from which the RTO counts: the injection (or the switchover's start). */
  from: number;
  promotedAt: number | null;
  newPrimary: string | null;
  oldPrimary: string;
  /** The client that goes through the router: its silences are what an application sees. */
  routerWriter: string;
}

export interface StreamVerdict {
  firstGoodWriteAt: number | null;
  lostAckedWrites: number;
  lostWrites: StreamWrite[];
  lostSpanMs: number | null;
  splitBrainWrites: number;
  writeUnavailableMs: number | null;
}

const holds = (ranges: Array<[number, number]> | undefined, seq: number) => (ranges ?? []).some(([a, b]) => seq >= a && seq <= b);

export function judgeStream(f: StreamFacts): StreamVerdict {
  const acked = f.writes.filter((w) => w.ok);
  const afterPromotion = (w: StreamWrite) => f.promotedAt !== null && w.at >= f.promotedAt;
  const splitBrain = acked.filter((w) => w.site === f.oldPrimary && afterPromotion(w));
  const lost = f.newPrimary === null ? [] : acked.filter((w) => !splitBrain.includes(w) && !holds(f.present[w.writer], w.seq));
  const good = acked.filter((w) => w.site === f.newPrimary && w.at >= f.from && f.newPrimary !== f.oldPrimary);
  const lostSorted = [...lost].sort((a, b) => a.at - b.at);
  return {
    firstGoodWriteAt: good.length ? Math.min(...good.map((w) => w.at)) : null,
    lostAckedWrites: lost.length,
    lostWrites: lostSorted.slice(0, 50),
    lostSpanMs: lostSorted.length ? lostSorted.at(-1)!.at - lostSorted[0]!.at : null,
    splitBrainWrites: splitBrain.length,
    writeUnavailableMs: longestGap(acked.filter((w) => w.writer === f.routerWriter)),
  };
}

function longestGap(acked: StreamWrite[]): number | null {
  if (acked.length < 2) return null;
  const times = acked.map((w) => w.at).sort((a, b) => a - b);
  let gap = 0;
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!);
  return gap;
}

/** The stream in buckets, for the chart: at most about 240 of them. */
export function seriesOf(writes: StreamWrite[]): StreamSeries | null {
  if (writes.length === 0) return null;
  const startAt = Math.min(...writes.map((w) => w.at));
  const span = Math.max(...writes.map((w) => w.at)) - startAt;
  const bucketMs = Math.max(100, Math.ceil(span / 240 / 50) * 50);
  const count = Math.floor(span / bucketMs) + 1;
  const names = [...new Set(writes.map((w) => w.writer))].sort();
  return {
    bucketMs,
    startAt,
    writers: names.map((writer) => {
      const buckets = Array.from({ length: count }, () => ({ acked: 0, failed: 0, sites: [] as string[] }));
      for (const w of writes.filter((x) => x.writer === writer)) {
        const b = buckets[Math.floor((w.at - startAt) / bucketMs)]!;
        if (w.ok) b.acked++;
        else b.failed++;
        if (w.site && !b.sites.includes(w.site)) b.sites.push(w.site);
      }
      const mine = writes.filter((x) => x.writer === writer);
      return { writer, acked: mine.filter((w) => w.ok).length, failed: mine.filter((w) => !w.ok).length, buckets };
    }),
  };
}
