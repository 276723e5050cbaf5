// The drill report as one HTML page a person opens from disk: inline CSS and SVG, no script, nothing fetched
// (its Content-Security-Policy forbids it). Every text from the report is escaped: it holds operator input.
import type { DrillReportLike, DrillVerdict, Objective } from '../domain/drill';
import { streamSvg } from './drill-chart-stream';
import { timelineSvg } from './drill-chart-timeline';
import { phasesSvg, trendSvg } from './drill-chart-trend';
import { DRILL_REPORT_CSS } from './drill-report-css';
import { clock, count, escapeHtml, fileName, offset, drillOrigin, seconds } from './drill-report-text';
import { DRILL_PHASES } from '../domain/drill';

const VERDICT_CLASS: Record<DrillVerdict, string> = {
  passed: 'good',
  failed: 'bad',
  'detection missed': 'warn',
  aborted: 'warn',
  refused: 'neutral',
};

export function renderDrillHtml(report: DrillReportLike): string {
  const title = `Drill ${report.scenario} on ${report.sites.join(', ') || report.site}: ${report.verdict}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${DRILL_REPORT_CSS}</style>`,
    '</head><body><main>',
    header(report),
    figures(report),
    section('Objectives', objectivesTable(report.verdicts)),
    section('Timeline', timelineSvg(report)),
    section('Write stream', streamSection(report)),
    section('Where the RTO went', phasesSvg(report) + phasesTable(report)),
    section('Trend', trendSection(report)),
    section('Cleanup', cleanupSection(report)),
    section('Steps', stepsTable(report)),
    report.notes.length ? section('Notes', list(report.notes)) : '',
    `<footer>Written from the workflow's history: ${escapeHtml(report.workflowId)} run ${escapeHtml(report.runId)}.</footer>`,
    '</main></body></html>',
  ].join('\n');
}

const section = (heading: string, body: string) => `<section><h2>${escapeHtml(heading)}</h2>${body}</section>`;
const list = (items: string[]) => `<ul>${items.map((item) => `<li>${escapeHtml(item)}</li>`).join('')}</ul>`;
const row = (cells: string[], tag = 'td') => `<tr>${cells.map((cell) => `<${tag}>${cell}</${tag}>`).join('')}</tr>`;
const table = (id: string, heads: string[], rows: string[]) =>
  `<table${id ? ` id="${id}"` : ''}><thead>${row(heads.map(escapeHtml), 'th')}</thead><tbody>${rows.join('')}</tbody></table>`;

function header(report: DrillReportLike): string {
  const { window, aborted } = report;
  const facts: Array<[string, string]> = [
    ['group', report.input.group],
    ['scenario', report.scenario],
    [report.sites.length > 1 ? 'sites' : 'site', report.sites.join(', ') || report.site],
    ['recovery', report.recovery],
    ['requested by', report.input.requestedBy],
    ['reason', report.input.reason],
    ['started', clock(report.startedAt)],
    ['ended', `${clock(report.endedAt)} (${seconds(Date.parse(report.endedAt) - Date.parse(report.startedAt), 0)})`],
    ['window', `${window.inside ? 'inside' : 'outside'} the drill window, local time ${window.localTime}: ${window.why}`],
  ];
  if (window.override) facts.push(['window override', `${window.override.by}: ${window.override.reason}`]);
  const abort = aborted
    ? `<div class="abort"><strong>Aborted</strong> by ${escapeHtml(aborted.by)} at ${escapeHtml(clock(aborted.at))} during ` +
      `<em>${escapeHtml(aborted.step)}</em>: ${escapeHtml(aborted.reason)}</div>`
    : '';
  return (
    `<header><div class="heading"><div><p class="kicker">DR drill · ${escapeHtml(report.workflowId)}</p>` +
    `<h1>${escapeHtml(report.scenario)} on ${escapeHtml(report.sites.join(', ') || report.site)}</h1></div>` +
    `<div class="verdict ${VERDICT_CLASS[report.verdict] ?? 'neutral'}">${escapeHtml(report.verdict)}</div></div>` +
    `<dl class="facts">${facts.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>` +
    `${abort}</header>`
  );
}

/** The handful of numbers a reader looks for first. */
function figures(report: DrillReportLike): string {
  const m = report.measurement;
  const cards: Array<[string, string, string]> = [
    ['RTO', seconds(m.rtoMs), m.newPrimary ? `new primary ${m.newPrimary}` : 'no promotion'],
    ['lost acked writes', count(m.lostAckedWrites), m.lostSpanMs === null ? '' : `spread over ${seconds(m.lostSpanMs)}`],
    ['writes unavailable', seconds(m.writeUnavailableMs), 'longest gap of the router client'],
    ['split-brain writes', count(m.splitBrainWrites), 'acknowledged by the old primary after promotion'],
    ['file RPO', seconds(m.fileRpoMs, 0), 'last good sync at injection'],
  ];
  const card = ([name, value, note]: [string, string, string]) =>
    `<div class="figure"><div class="figure-name">${escapeHtml(name)}</div><div class="figure-value">${escapeHtml(value)}</div>` +
    `<div class="figure-note">${escapeHtml(note)}</div></div>`;
  return `<div class="figures">${cards.map(card).join('')}</div>`;
}

const VERDICT_CELL: Record<Objective['verdict'], string> = { pass: 'pass', fail: 'fail', 'not measured': 'unmeasured' };

export function objectivesTable(verdicts: Objective[]): string {
  if (!verdicts.length) return '<p class="empty">No objective was evaluated.</p>';
  const rows = verdicts.map((objective) =>
    row([
      escapeHtml(objective.name),
      escapeHtml(objective.target),
      escapeHtml(objective.measured),
      `<span class="pill ${VERDICT_CELL[objective.verdict] ?? 'unmeasured'}">${escapeHtml(objective.verdict)}</span>`,
      escapeHtml(objective.note ?? ''),
    ]),
  );
  return table('objectives', ['objective', 'target', 'measured', 'verdict', 'note'], rows);
}

function streamSection(report: DrillReportLike): string {
  const m = report.measurement;
  const chart = report.stream ? streamSvg(report, report.stream) : '<p class="empty" id="write-stream-none">No stream recorded.</p>';
  const origin = drillOrigin(report);
  const lost = m.lostWrites.length
    ? `<details><summary>${escapeHtml(`${m.lostWrites.length} lost acknowledged write(s) shown`)}</summary>` +
      table(
        '',
        ['writer', 'seq', 'acknowledged', 'by site'],
        m.lostWrites.map((write) => row([write.writer, String(write.seq), offset(origin, write.at), write.site ?? ''].map(escapeHtml))),
      ) +
      '</details>'
    : '';
  const gtids = `<p class="note">Lost GTIDs: ${escapeHtml(count(m.lostGtids))}. ${escapeHtml(m.lostGtidsNote)}</p>`;
  return chart + gtids + lost;
}

/** The phases across: one column each, with its duration and its share of the measured total. */
function phasesTable(report: DrillReportLike): string {
  const phases = report.measurement.phases;
  const total = DRILL_PHASES.reduce((sum, phase) => sum + (phases[phase] ?? 0), 0);
  const share = (ms: number | null) => (ms !== null && total ? `${Math.round((ms / total) * 100)}%` : '');
  const rows = [
    row(['duration', ...DRILL_PHASES.map((phase) => seconds(phases[phase]))].map(escapeHtml)),
    row(['share', ...DRILL_PHASES.map((phase) => share(phases[phase]))].map(escapeHtml)),
  ];
  return table('phases-table', ['phase', ...DRILL_PHASES], rows);
}

function trendSection(report: DrillReportLike): string {
  const { trend } = report;
  const flag = trend.regression
    ? `<p class="regression"><strong>Regression.</strong> ${escapeHtml(trend.why)}</p>`
    : `<p class="note">${escapeHtml(trend.why)}</p>`;
  const history = trend.points.length || trend.why ? '' : '<p class="note">No earlier drill of this scenario and group to compare with.</p>';
  return flag + history + trendSvg(report);
}

function cleanupSection(report: DrillReportLike): string {
  const { cleanup, failover } = report;
  const child = (run: DrillReportLike['failover']) =>
    run
      ? `${escapeHtml(run.workflowId)}: ${escapeHtml(run.outcome)}, RTO ${escapeHtml(seconds(run.rtoMs))}` +
        (run.files ? ` (<a href="${escapeHtml(fileName(run.files.markdown))}">report</a>)` : '')
      : 'none';
  const facts: Array<[string, string]> = [
    ['verdict', `<span class="pill ${cleanup.verdict === 'clean' ? 'pass' : 'fail'}">${escapeHtml(cleanup.verdict)}</span>`],
    ['failover', child(failover)],
    ['healed', escapeHtml(cleanup.healed.join(', ') || 'nothing')],
    ['site returned', cleanup.returned ? 'yes' : 'no'],
    ['failback', child(cleanup.failback)],
    ['schedules', escapeHtml(cleanup.schedules.join(', ') || 'none')],
  ];
  const drift = cleanup.drift.length
    ? '<h3>Drift against the baseline</h3>' +
      table(
        'drift',
        ['what', 'baseline', 'now'],
        cleanup.drift.map((item) => row([item.what, item.baseline, item.now].map(escapeHtml))),
      )
    : '<p class="good-text" id="no-drift">No drift: the estate is as it was before the drill.</p>';
  const errors = cleanup.errors.length ? `<div class="errors"><strong>Cleanup errors</strong>${list(cleanup.errors)}</div>` : '';
  return `<dl class="facts">${facts.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${value}</dd>`).join('')}</dl>${drift}${errors}`;
}

function stepsTable(report: DrillReportLike): string {
  const origin = Date.parse(report.startedAt);
  const rows = report.steps.map((step) =>
    row([
      escapeHtml(step.name),
      `<span class="state ${escapeHtml(step.state)}">${escapeHtml(step.state)}</span>`,
      escapeHtml(step.startedAt ? offset(origin, Date.parse(step.startedAt)) : ''),
      escapeHtml(step.durationMs === undefined ? '' : seconds(step.durationMs)),
      escapeHtml(step.error ?? ''),
    ]),
  );
  return table('steps', ['step', 'state', 'started', 'duration', 'error'], rows);
}
