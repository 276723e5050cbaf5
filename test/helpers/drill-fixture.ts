// A drill report as the runbook writes it: a power loss of site tw in group orders, recovered by the
// unplanned failover to jp. Three acknowledged writes were lost (async replication), the failback left one
// drift behind, and the RTO is a regression against five earlier drills. Times are generated, not typed in,
// so the stream, the timeline and the measurements agree with each other.
import type { DrillReportLike, StreamSeries, TimelineBar, TrendPoint } from '../../domain/drill';
import { trendVerdict } from '../../domain/drill-trend';

/** 2026-11-26 14:00 in Taipei: a Thursday, inside the drill window. */
export const DRILL_START = Date.parse('2026-11-26T06:00:00.000Z');
const at = (seconds: number) => DRILL_START + Math.round(seconds * 1000);
const iso = (seconds: number) => new Date(at(seconds)).toISOString();

const INJECTED = 28.3;
const PROMOTED = 48.9;
const FIRST_GOOD_WRITE = 51.4;

type Lane = TimelineBar['lane'];
const bars = (lane: Lane, steps: Array<[string, number, number, string?]>): TimelineBar[] =>
  steps.map(([name, start, end, state]) => ({ lane, name, startAt: at(start), endAt: at(end), state: state ?? 'done' }));

const DRILL_BARS: Array<[string, number, number, string?]> = [
  ['load plan', 0, 0.3],
  ['preflight', 0.3, 4.1],
  ['window', 4.1, 4.2],
  ['gate', 4.2, 9.0],
  ['baseline', 9.0, 12.5],
  ['stream', 12.5, 13.0],
  ['inject', 28.0, 28.6],
  ['recover', 28.6, 53.4],
  ['settle', 53.4, 71.0],
  ['heal', 71.0, 75.2],
  ['return', 75.2, 96.0],
  ['measure', 96.0, 97.5],
  ['failback', 97.5, 156.0],
  ['schedules', 156.0, 157.0],
  ['audit', 157.0, 161.0, 'failed'],
  ['notify', 161.0, 161.3],
  ['report', 161.3, 161.6],
];

function timeline(): TimelineBar[] {
  return [
    ...bars('drill', DRILL_BARS),
    ...bars('failover', [
      ['load plan', 28.6, 28.9],
      ['assess', 28.9, 34.1],
      ['gate', 34.1, 36.5],
      ['fence', 36.5, 40.4],
      ['catch up', 40.4, 43.1],
      ['dns', 43.1, 47.3],
      ['promote', 47.3, PROMOTED],
      ['route', PROMOTED, 51.2],
      ['check one writer', 51.2, 53.0],
      ['report', 53.0, 53.4],
    ]),
    ...bars('failback', [
      ['load plan', 97.5, 97.8],
      ['assess', 97.8, 101.2],
      ['errant', 101.2, 104.9],
      ['reseed', 104.9, 104.9, 'skipped'],
      ['reprotect', 104.9, 131.0],
      ['switchover', 131.0, 152.3],
      ['check one writer', 152.3, 155.1],
      ['report', 155.1, 155.6],
    ]),
  ];
}

/** A client's writes: acknowledged by tw until the fault, refused (slowly: timeouts) until it reaches jp. */
function writerSeries(writer: string, ratePerSecond: number, failEverySeconds: number, recoveredAt: number, buckets: number) {
  const series = Array.from({ length: buckets }, () => ({ acked: 0, failed: 0, sites: [] as string[] }));
  for (let time = 13.0; time < 13.0 + buckets;) {
    const bucket = series[Math.floor(time - 13.0)]!;
    const down = time >= INJECTED && time < recoveredAt;
    if (down) bucket.failed++;
    else bucket.acked++;
    const site = time < INJECTED ? 'tw' : 'jp';
    if (!down && !bucket.sites.includes(site)) bucket.sites.push(site);
    time += down ? failEverySeconds : 1 / ratePerSecond;
  }
  const acked = series.reduce((sum, bucket) => sum + bucket.acked, 0);
  const failed = series.reduce((sum, bucket) => sum + bucket.failed, 0);
  return { writer, acked, failed, buckets: series };
}

function stream(): StreamSeries {
  const buckets = 58;
  return {
    bucketMs: 1000,
    startAt: at(13.0),
    writers: [writerSeries('router', 20, 2, FIRST_GOOD_WRITE, buckets), writerSeries('direct', 10, 0.5, 53.8, buckets)],
  };
}

const EARLIER: Array<[string, number | null, number | null]> = [
  ['2026-05-14T06:10:00.000Z', 17_800, 0],
  ['2026-06-11T06:12:00.000Z', 19_200, 0],
  ['2026-07-09T06:05:00.000Z', null, null],
  ['2026-08-13T06:20:00.000Z', 18_400, 2],
  ['2026-09-10T06:02:00.000Z', 20_100, 0],
  ['2026-10-15T06:08:00.000Z', 18_900, 0],
];

function trendPointsOf(): TrendPoint[] {
  return EARLIER.map(([endedAt, rtoMs, lostAckedWrites], index) => ({
    workflowId: `drill-orders-power-loss-${endedAt.slice(0, 10).replace(/-/g, '')}`,
    runId: `0${index}c3a9f2-5b7e-4d1a-9e8f-3c2b1a0d9e8f`,
    endedAt,
    rtoMs,
    lostAckedWrites,
  }));
}

function steps(): DrillReportLike['steps'] {
  return DRILL_BARS.map(([name, start, end, state]) => ({
    name,
    state: state ?? 'done',
    startedAt: iso(start),
    endedAt: iso(end),
    durationMs: Math.round((end - start) * 1000),
    ...(state === 'failed' ? { error: 'drift: proxysql tw: mysql_servers hostgroup 10 is not as in the baseline' } : {}),
  }));
}

const REPORTS = '/var/lib/dr/state/reports';
const RTO_MS = at(FIRST_GOOD_WRITE) - at(INJECTED);

function measurement(): DrillReportLike['measurement'] {
  return {
    injectedAt: at(INJECTED),
    promotedAt: at(PROMOTED),
    firstGoodWriteAt: at(FIRST_GOOD_WRITE),
    newPrimary: 'jp',
    rtoMs: RTO_MS,
    phases: { detect: 5_800, decide: 2_400, fence: 3_900, 'catch up': 2_700, dns: 4_200, promote: 1_600, route: 2_300 },
    lostAckedWrites: 3,
    lostWrites: [281, 282, 283].map((seq, index) => ({ writer: 'router', seq, at: at(INJECTED - 0.15 + index * 0.05), site: 'tw', ok: true })),
    lostSpanMs: 100,
    lostGtids: 3,
    lostGtidsNote: 'tw held 3 transactions jp never received (tw:1-48213 against jp:1-48210)',
    fileRpoMs: 41_000,
    splitBrainWrites: 0,
    writeUnavailableMs: RTO_MS,
  };
}

function verdicts(): DrillReportLike['verdicts'] {
  return [
    { name: 'RTO', target: '≤ 60 s', measured: `${(RTO_MS / 1000).toFixed(1)} s`, verdict: 'pass' },
    {
      name: 'RPO (writes)',
      target: '0 acknowledged writes lost',
      measured: '3 writes lost',
      verdict: 'fail',
      note: 'async replication: the last 100 ms tw acknowledged never reached jp',
    },
    { name: 'RPO (files)', target: '≤ 300 s', measured: 'not measured', verdict: 'not measured', note: 'the group has no file sync' },
    { name: 'split brain', target: 'no write on the old primary after promotion', measured: '0 writes', verdict: 'pass' },
    { name: 'cleanup', target: 'the estate as before the drill', measured: '1 drift', verdict: 'fail', note: 'see Cleanup' },
  ];
}

/** A child runbook that completed, with its report files in the reports folder. */
function child(runbook: 'failover' | 'failback', rtoMs: number, runPrefix: string): NonNullable<DrillReportLike['failover']> {
  const workflowId = `${runbook}-orders-drill-7f3e2a91`;
  const base = `${REPORTS}/${workflowId}-${runPrefix}`;
  return { workflowId, outcome: 'completed', rtoMs, files: { json: `${base}.json`, markdown: `${base}.md` } };
}

function cleanup(): DrillReportLike['cleanup'] {
  return {
    healed: ['tw'],
    returned: true,
    failback: child('failback', 21_300, '5e6f7a8b'),
    schedules: ['file-sync-orders-tw: resumed', 'backup-orders: resumed'],
    drift: [{ what: 'proxysql tw: mysql_servers hostgroup 10', baseline: 'mysql-tw:3306 ONLINE', now: 'mysql-tw:3306 OFFLINE_SOFT' }],
    verdict: 'drift',
    errors: [],
  };
}

export function drillFixture(): DrillReportLike {
  const points = trendPointsOf();
  return {
    runbook: 'drill',
    workflowId: 'drill-orders-power-loss-20261126',
    runId: '7f3e2a91-c4d8-4b6e-a1f0-9d8c7b6a5e4f',
    input: { group: 'orders', scenario: 'power-loss', site: 'tw', requestedBy: 'alice.chen', reason: 'Quarterly DR drill (Q4), ticket DR-142' },
    startedAt: iso(0),
    endedAt: iso(161.6),
    scenario: 'power-loss',
    site: 'tw',
    sites: ['tw'],
    recovery: 'runbook',
    verdict: 'failed',
    window: { inside: true, localTime: 'Thu 14:00 (Asia/Taipei)', why: 'inside the window thu 13:00–17:00', override: null },
    measurement: measurement(),
    objectives: { rtoSeconds: 60, rpoSeconds: 5 },
    verdicts: verdicts(),
    stream: stream(),
    timeline: timeline(),
    failover: child('failover', 22_900, '2b9d4c1e'),
    cleanup: cleanup(),
    aborted: null,
    trend: { points, ...trendVerdict(points, RTO_MS, 0.15) },
    steps: steps(),
    notes: ['the injector powered off tw at +28.3 s: 14 processes killed', 'the failback re-protected tw from jp, then switched over back to tw'],
  };
}
