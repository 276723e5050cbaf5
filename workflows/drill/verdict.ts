// The verdict: each objective measured against its target, the timeline for the report, and the trend of this
// scenario's earlier drills, with a regression flagged when this one is slower than their median by too much.
import type { DrillReportBody, Objective, TimelineBar } from '../../domain/drill';
import { trendVerdict } from '../../domain/drill-trend';
import { errorText } from '../../domain/errors';
import { control } from '../kit/sites';
import type { Drill } from '../drill';

export async function verdictOf(d: Drill): Promise<void> {
  const { run } = d;
  const r = run.report;
  // A drill that changed nothing measured nothing: its verdict and reason say all there is.
  r.verdicts = d.baseline ? objectives(d) : [];
  r.timeline = timeline(d);
  try {
    const points = await control.drillTrend({ scenario: d.input.scenario, group: d.input.group, runId: r.runId });
    r.trend = { points, ...trendVerdict(points, r.measurement.rtoMs, run.plan.drills?.regressionShare ?? 0.2) };
  } catch (err) {
    r.trend.why = `earlier drills could not be read: ${errorText(err)}`;
  }
  r.verdict = overall(d);
}

function overall(d: Drill): DrillReportBody['verdict'] {
  const r = d.run.report;
  if (r.verdict === 'refused' || (r.approval?.decision === 'rejected' && !d.baseline)) return 'refused';
  if (r.aborted) return 'aborted';
  if (d.detectionMissed) return 'detection missed';
  if (r.error) return 'failed';
  // Only the file RPO may go unmeasured: a site without file sync has none.
  return r.verdicts.every((o) => o.verdict === 'pass' || (o.name === 'RPO (files)' && o.verdict === 'not measured')) ? 'passed' : 'failed';
}

const seconds = (ms: number | null) => (ms === null ? 'not measured' : `${(ms / 1000).toFixed(2)} s`);
const judge = (ok: boolean | null): Objective['verdict'] => (ok === null ? 'not measured' : ok ? 'pass' : 'fail');

function objectives(d: Drill): Objective[] {
  const { objectives: o } = d.run.plan;
  const m = d.run.report.measurement;
  const c = d.run.report.cleanup;
  const lostOk = m.lostAckedWrites === null ? null : m.lostAckedWrites === 0 || (m.lostSpanMs ?? 0) <= o.rpoSeconds * 1000;
  return [
    {
      name: 'RTO',
      target: `≤ ${o.rtoSeconds} s`,
      measured: seconds(m.rtoMs),
      verdict: m.rtoMs === null ? 'fail' : judge(m.rtoMs <= o.rtoSeconds * 1000),
      note: 'injection → first write the new primary acknowledged',
    },
    {
      name: 'RPO (writes)',
      target: `≤ ${o.rpoSeconds} s of acknowledged writes`,
      measured:
        m.lostAckedWrites === null
          ? 'not measured'
          : `${m.lostAckedWrites} lost${m.lostSpanMs ? ` over ${seconds(m.lostSpanMs)}` : ''}; ${m.lostGtids ?? '?'} GTIDs`,
      verdict: judge(lostOk),
      note: m.lostGtidsNote,
    },
    {
      name: 'RPO (files)',
      target: `≤ ${o.rpoSeconds} s since the last good sync`,
      measured: m.fileRpoNote === 'never synced' ? 'never synced' : seconds(m.fileRpoMs),
      verdict: m.fileRpoNote === 'never synced' ? 'fail' : judge(m.fileRpoMs === null ? null : m.fileRpoMs <= o.rpoSeconds * 1000),
      note: m.fileRpoNote,
    },
    {
      name: 'split brain',
      target: '0 writes taken by the old primary after the promotion',
      measured: m.splitBrainWrites === null ? 'not measured' : `${m.splitBrainWrites} write(s)`,
      verdict: judge(m.splitBrainWrites === null ? null : m.splitBrainWrites === 0),
      note: m.splitBrainWrites
        ? 'the isolated old primary kept taking writes: nothing fences it from inside its site yet (self-fencing lease)'
        : undefined,
    },
    {
      name: 'cleanup',
      target: 'healed, failed back, no drift from the baseline',
      measured: c.drift.length ? `${c.drift.length} difference(s)` : c.errors.length ? `${c.errors.length} error(s)` : 'no drift',
      verdict: judge(c.verdict === 'clean'),
    },
  ];
}

function timeline(d: Drill): TimelineBar[] {
  const bars = (lane: TimelineBar['lane'], steps: Array<{ name: string; state: string; startedAt?: string; endedAt?: string }>) =>
    steps
      .filter((s) => s.startedAt && s.endedAt)
      .map((s) => ({ lane, name: s.name, state: s.state, startAt: Date.parse(s.startedAt!), endAt: Date.parse(s.endedAt!) }));
  return [...bars('drill', d.run.progress.view.steps), ...bars('failover', d.failover?.steps ?? []), ...bars('failback', d.failbackSteps ?? [])];
}
