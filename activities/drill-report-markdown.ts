// The drill report in Markdown: what the HTML page shows, as tables a person reads in a terminal or a ticket.
import { DRILL_PHASES, type DrillReportLike } from '../domain/drill';
import { trendPoints } from './drill-chart-trend';
import { clock, count, drillOrigin, fileName, offset, seconds } from './drill-report-text';

/** A table cell: one line, pipes escaped. */
const cell = (value: unknown) =>
  String(value ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|');
const tableRow = (cells: unknown[]) => `| ${cells.map(cell).join(' | ')} |`;
const table = (heads: string[], rows: unknown[][]) => [tableRow(heads), `|${heads.map(() => '---').join('|')}|`, ...rows.map(tableRow)];

export function renderDrillMarkdown(report: DrillReportLike): string {
  const out = [
    ...headerLines(report),
    ...objectivesLines(report),
    ...measurementLines(report),
    ...phasesLines(report),
    ...timelineLines(report),
    ...streamLines(report),
    ...trendLines(report),
    ...cleanupLines(report),
    ...stepsLines(report),
  ];
  if (report.notes.length) out.push('', '## Notes', '', ...report.notes.map((note) => `- ${note}`));
  return out.join('\n') + '\n';
}

function headerLines(report: DrillReportLike): string[] {
  const { window, aborted } = report;
  const out = [
    `# Drill ${report.scenario} on ${report.sites.join(', ') || report.site}: ${report.verdict.toUpperCase()}`,
    '',
    `- **workflow:** ${report.workflowId} (run ${report.runId})`,
    `- **group:** ${report.input.group}; **recovery:** ${report.recovery}`,
    `- **requested by:** ${report.input.requestedBy}: ${report.input.reason}`,
    `- **started:** ${clock(report.startedAt)}; **ended:** ${clock(report.endedAt)}`,
    `- **window:** ${window.inside ? 'inside' : 'outside'} (local time ${window.localTime}): ${window.why}`,
  ];
  if (window.override) out.push(`- **window override:** ${window.override.by}: ${window.override.reason}`);
  if (aborted) out.push(`- **aborted:** by ${aborted.by} at ${clock(aborted.at)} during '${aborted.step}': ${aborted.reason}`);
  return out;
}

function objectivesLines(report: DrillReportLike): string[] {
  if (!report.verdicts.length) return ['', '## Objectives', '', 'No objective was evaluated.'];
  const rows = report.verdicts.map((o) => [o.name, o.target, o.measured, o.verdict === 'pass' ? 'pass' : o.verdict.toUpperCase(), o.note ?? '']);
  return ['', '## Objectives', '', ...table(['objective', 'target', 'measured', 'verdict', 'note'], rows)];
}

function measurementLines(report: DrillReportLike): string[] {
  const m = report.measurement;
  return [
    '',
    '## Measured',
    '',
    `- **RTO:** ${seconds(m.rtoMs)}${m.newPrimary ? ` (new primary ${m.newPrimary})` : ''}`,
    `- **lost acknowledged writes:** ${count(m.lostAckedWrites)}${m.lostSpanMs === null ? '' : ` over ${seconds(m.lostSpanMs)}`}`,
    `- **lost GTIDs:** ${count(m.lostGtids)}: ${m.lostGtidsNote}`,
    `- **writes unavailable (router client):** ${seconds(m.writeUnavailableMs)}`,
    `- **split-brain writes:** ${count(m.splitBrainWrites)}`,
    `- **file RPO at injection:** ${seconds(m.fileRpoMs, 0)}`,
  ];
}

function phasesLines(report: DrillReportLike): string[] {
  const phases = report.measurement.phases;
  const total = DRILL_PHASES.reduce((sum, phase) => sum + (phases[phase] ?? 0), 0);
  const rows = DRILL_PHASES.map((phase) => {
    const ms = phases[phase];
    return [phase, seconds(ms), ms !== null && total ? `${Math.round((ms / total) * 100)}%` : ''];
  });
  return ['', '## Where the RTO went', '', ...table(['phase', 'duration', 'share'], rows)];
}

function timelineLines(report: DrillReportLike): string[] {
  const origin = drillOrigin(report);
  const m = report.measurement;
  const events: Array<[string, number | null]> = [
    ['injection', m.injectedAt],
    ['promoted', m.promotedAt],
    ['first good write', m.firstGoodWriteAt],
  ];
  const bars = [...report.timeline].sort((a, b) => a.startAt - b.startAt);
  const rows = bars.map((bar) => [
    bar.lane,
    bar.name,
    bar.state,
    offset(origin, bar.startAt),
    offset(origin, bar.endAt),
    seconds(bar.endAt - bar.startAt),
  ]);
  const marks = events.filter(([, at]) => at !== null).map(([name, at]) => `${name} ${offset(origin, at)}`);
  return [
    '',
    '## Timeline',
    '',
    `Events: ${marks.join(', ') || 'none recorded'}.`,
    '',
    ...table(['lane', 'step', 'state', 'start', 'end', 'duration'], rows),
  ];
}

function streamLines(report: DrillReportLike): string[] {
  const { stream, measurement } = report;
  if (!stream) return ['', '## Write stream', '', 'No stream recorded.'];
  const rows = stream.writers.map((writer) => [writer.writer, writer.acked, writer.failed]);
  const out = ['', '## Write stream', '', ...table(['writer', 'acknowledged', 'failed'], rows)];
  if (measurement.lostWrites.length) {
    const origin = drillOrigin(report);
    const lost = measurement.lostWrites.map((write) => [write.writer, write.seq, offset(origin, write.at), write.site ?? '']);
    out.push('', 'Lost acknowledged writes:', '', ...table(['writer', 'seq', 'acknowledged', 'by site'], lost));
  }
  return out;
}

function trendLines(report: DrillReportLike): string[] {
  const { trend } = report;
  const flag = trend.regression ? `**REGRESSION:** ${trend.why}` : trend.why;
  const rows = trendPoints(report).map((point) => [
    point.current ? `**this drill** ${clock(point.endedAt)}` : clock(point.endedAt),
    point.workflowId,
    seconds(point.rtoMs),
    count(point.lostAckedWrites),
  ]);
  return [
    '',
    '## Trend',
    '',
    flag,
    '',
    `Median RTO of earlier drills: ${seconds(trend.medianRtoMs)}.`,
    '',
    ...table(['ended', 'workflow', 'RTO', 'lost acked writes'], rows),
  ];
}

function cleanupLines(report: DrillReportLike): string[] {
  const { cleanup, failover } = report;
  const child = (run: DrillReportLike['failover']) =>
    run ? `${run.workflowId}: ${run.outcome}, RTO ${seconds(run.rtoMs)}${run.files ? ` (report ${fileName(run.files.markdown)})` : ''}` : 'none';
  const out = [
    '',
    '## Cleanup',
    '',
    `- **verdict:** ${cleanup.verdict}`,
    `- **failover:** ${child(failover)}`,
    `- **healed:** ${cleanup.healed.join(', ') || 'nothing'}`,
    `- **site returned:** ${cleanup.returned ? 'yes' : 'no'}`,
    `- **failback:** ${child(cleanup.failback)}`,
    `- **schedules:** ${cleanup.schedules.join(', ') || 'none'}`,
  ];
  if (cleanup.drift.length)
    out.push(
      '',
      ...table(
        ['drift', 'baseline', 'now'],
        cleanup.drift.map((item) => [item.what, item.baseline, item.now]),
      ),
    );
  else out.push('', 'No drift: the estate is as it was before the drill.');
  if (cleanup.errors.length) out.push('', 'Cleanup errors:', '', ...cleanup.errors.map((error) => `- ${error}`));
  return out;
}

function stepsLines(report: DrillReportLike): string[] {
  const origin = Date.parse(report.startedAt);
  const rows = report.steps.map((step) => [
    step.name,
    step.state,
    step.startedAt ? offset(origin, Date.parse(step.startedAt)) : '',
    step.durationMs === undefined ? '' : seconds(step.durationMs),
    step.error ?? '',
  ]);
  return ['', '## Steps', '', ...table(['step', 'state', 'started', 'duration', 'error'], rows)];
}
