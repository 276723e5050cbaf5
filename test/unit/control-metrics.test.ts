// The control worker's metrics, computed at scrape time from a state folder (reports, file-sync state) and
// a stub of Temporal's open runs: what the exposition text says, and that nothing is counted in memory.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { controlMetrics, type OpenRun, type WorkflowLister } from '../../workers/metrics/control-metrics';

const NOW = Date.parse('2026-12-01T03:00:00.000Z');
const exampleText = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

/** The example config with its stateDir in a fresh temp folder. */
function loadedIn(baseDir: string): LoadedConfig {
  const loaded = parseConfig(exampleText, join(baseDir, 'dr.yaml'));
  return { ...loaded, baseDir, config: { ...loaded.config, stateDir: 'state' } };
}

const step = (name: string, durationMs: number | undefined, state = 'done') => ({
  name,
  state,
  startedAt: '2026-12-01T01:30:38.435Z',
  endedAt: '2026-12-01T01:30:38.467Z',
  attempts: 1,
  ...(durationMs === undefined ? {} : { durationMs }),
});

/** Shaped like the lab's failover reports (workflows/kit/runbook.ts RunbookReport plus failover's fields). */
const failover = (runId: string, endedAt: string, outcome: string, rtoMs: number | null, lag: number | null) => ({
  runbook: 'failover',
  workflowId: 'failover-trading',
  runId,
  input: { group: 'trading', from: 'tw', to: 'sg', mode: 'unplanned', requestedBy: 'ops-lead', reason: 'test' },
  outcome,
  startedAt: '2026-12-01T01:30:00.000Z',
  endedAt,
  objectives: { rtoSeconds: 30, rpoSeconds: 300 },
  rtoMs,
  rpo: { lagSecondsAtPromotion: lag, gtidAtPromotion: null, lost: { known: false, count: null, gtids: [], note: '' } },
  pointOfNoReturn: { reached: rtoMs !== null, at: null, step: 'promote' },
  steps: [step('load plan', 32), step('assess', 3016), step('promote', 24), step('standby', undefined, 'skipped'), step('report', undefined)],
  notes: [],
});

/** Shaped like the lab's drill reports: outcome 'completed' whatever the verdict; the RTO is in measurement. */
const drill = (runId: string, endedAt: string, verdict: string, measurement: Record<string, unknown>) => ({
  runbook: 'drill',
  workflowId: 'drill-trading',
  runId,
  input: { group: 'trading', scenario: 'isolation', requestedBy: 'ops-lead', reason: 'test' },
  outcome: 'completed',
  verdict,
  startedAt: '2026-12-01T01:36:00.000Z',
  endedAt,
  rtoMs: null,
  measurement: { rtoMs: null, lostAckedWrites: null, lostSpanMs: null, fileRpoMs: null, lostGtids: null, ...measurement },
  steps: [step('inject', 150), step('recover', 17_703)],
  notes: [],
});

const syncRecord = (site: string, path: string, lastSuccessAt: string | null, paused: boolean) => ({
  site,
  path,
  lastSuccessAt,
  lastKind: lastSuccessAt ? 'incremental' : null,
  lastStats: null,
  lastFullCheckAt: null,
  lastFailureAt: lastSuccessAt ? null : '2026-12-01T02:00:00.000Z',
  lastError: lastSuccessAt ? null : 'rclone: connection refused',
  consecutiveFailures: lastSuccessAt ? 0 : 2,
  paused,
});

function stateFolder(): string {
  const base = mkdtempSync(join(tmpdir(), 'dr-metrics-'));
  const reports = join(base, 'state', 'reports');
  mkdirSync(join(reports, 'errant'), { recursive: true });
  const write = (name: string, body: unknown) => writeFileSync(join(reports, name), typeof body === 'string' ? body : JSON.stringify(body));
  write('failover-trading-a.json', failover('a', '2026-12-01T01:30:42.993Z', 'completed', 4378, null));
  write('failover-trading-b.json', failover('b', '2026-12-01T02:12:24.376Z', 'completed', 1120, 0));
  // Newer, but rejected before any promotion: it measured nothing and must not replace b's RTO and RPO.
  write('failover-trading-c.json', failover('c', '2026-12-01T02:20:00.000Z', 'rejected', null, null));
  write('drill-trading-d.json', drill('d', '2026-12-01T01:38:31.370Z', 'failed', { rtoMs: 15_504, lostAckedWrites: 294, lostSpanMs: 13_703 }));
  write('drill-trading-e.json', drill('e', '2026-12-01T02:13:16.565Z', 'passed', { rtoMs: 4648, lostAckedWrites: 0 }));
  write('incident-trading-f.json', {
    runbook: 'incident',
    workflowId: 'incident-trading',
    runId: 'f',
    input: { group: 'trading' },
    outcome: 'failed-over',
    steps: [],
  });
  write('fence-on-return-tw.json', { runbook: 'fence-on-return', workflowId: 'fence-on-return-tw', input: { site: 'tw' } });
  write('failover-trading-g.json', '{"runbook": "failover", "outc'); // being written right now
  write('failover-trading-a.md', '# failover');
  writeFileSync(
    join(base, 'state', 'file-sync-state.json'),
    JSON.stringify({
      paths: {
        'tw:.': syncRecord('tw', '.', '2026-12-01T02:55:00.000Z', false),
        'sg:uploads': syncRecord('sg', 'uploads', null, true),
      },
    }),
  );
  return base;
}

const lister = (runs: OpenRun[] | Error): WorkflowLister & { calls: number } => ({
  calls: 0,
  async openRuns() {
    this.calls += 1;
    if (runs instanceof Error) throw runs;
    return runs;
  },
});

/** `name{k="v",…}` (labels sorted) → value, from the exposition text. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, k, v]) => `${k}="${v}"`).sort();
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.set(`${m[1]}{${labels.join(',')}}`, value);
  }
  return out;
}

async function scrape(base: string, workflows: WorkflowLister): Promise<{ text: string; at: Map<string, number> }> {
  const text = await controlMetrics(loadedIn(base), workflows, { now: () => NOW }).metrics();
  return { text, at: samples(text) };
}

const openRuns: OpenRun[] = [
  { workflowId: 'failover-trading', type: 'failover', status: 'needs-operator' },
  { workflowId: 'drill-trading', type: 'drill', status: 'running' },
  { workflowId: 'file-sync-tw', type: 'fileSync', status: null },
];

test('file sync: the last success as a timestamp and an age; a path that never synced has an infinite age', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const { at } = await scrape(base, lister(openRuns));
  assert.equal(at.get('dr_file_sync_last_success_timestamp_seconds{path=".",site="tw"}'), Date.parse('2026-12-01T02:55:00.000Z') / 1000);
  assert.equal(at.get('dr_file_sync_age_seconds{path=".",site="tw"}'), 300);
  assert.equal(at.has('dr_file_sync_last_success_timestamp_seconds{path="uploads",site="sg"}'), false);
  assert.equal(at.get('dr_file_sync_age_seconds{path="uploads",site="sg"}'), Infinity);
  assert.equal(at.get('dr_file_sync_paused{path="uploads",site="sg"}'), 1);
  assert.equal(at.get('dr_file_sync_paused{path=".",site="tw"}'), 0);
});

test('runs by runbook and outcome: a drill by its verdict; unreadable and non-JSON files are skipped', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const { text, at } = await scrape(base, lister(openRuns));
  assert.match(text, /# TYPE dr_runbook_runs_total counter/);
  assert.equal(at.get('dr_runbook_runs_total{outcome="completed",type="failover"}'), 2);
  assert.equal(at.get('dr_runbook_runs_total{outcome="rejected",type="failover"}'), 1);
  assert.equal(at.get('dr_runbook_runs_total{outcome="failed",type="drill"}'), 1);
  assert.equal(at.get('dr_runbook_runs_total{outcome="passed",type="drill"}'), 1);
  assert.equal(at.get('dr_runbook_runs_total{outcome="failed-over",type="incident"}'), 1);
  assert.equal(at.get('dr_runbook_runs_total{outcome="unknown",type="fence-on-return"}'), 1);
  assert.equal([...at.keys()].filter((k) => k.startsWith('dr_runbook_runs_total')).length, 6);
  assert.equal(at.get('dr_incidents_total{group="trading",outcome="failed-over"}'), 1);
});

test('step durations: a histogram per runbook and step, rebuilt from the reports at each scrape', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const registry = controlMetrics(loadedIn(base), lister(openRuns), { now: () => NOW });
  for (let scrapeNo = 0; scrapeNo < 2; scrapeNo++) {
    // The second scrape rebuilds the same counts: it does not add to the first one's.
    const at = samples(await registry.metrics());
    const assess = (suffix: string, le?: string) =>
      at.get(`dr_runbook_step_duration_seconds_${suffix}{${le ? `le="${le}",` : ''}step="assess",type="failover"}`);
    assert.equal(assess('count'), 3);
    assert.equal(assess('sum'), 9.048);
    assert.equal(assess('bucket', '2.5'), 0);
    assert.equal(assess('bucket', '5'), 3);
    assert.equal(assess('bucket', '+Inf'), 3);
    assert.equal(at.get('dr_runbook_step_duration_seconds_bucket{le="0.025",step="promote",type="failover"}'), 3);
    assert.equal(at.get('dr_runbook_step_duration_seconds_bucket{le="10",step="recover",type="drill"}'), 0);
    assert.equal(at.get('dr_runbook_step_duration_seconds_bucket{le="30",step="recover",type="drill"}'), 2);
    assert.equal(at.get('dr_runbook_step_duration_seconds_bucket{le="600",step="recover",type="drill"}'), 2);
    // Steps without a duration (skipped, or the report step itself) are not observations.
    assert.equal(at.has('dr_runbook_step_duration_seconds_count{step="standby",type="failover"}'), false);
  }
});

test('a report written after a scrape is in the next one; a deleted one is gone', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const registry = controlMetrics(loadedIn(base), lister(openRuns), { now: () => NOW });
  const runs = async () => samples(await registry.metrics()).get('dr_runbook_runs_total{outcome="completed",type="failover"}');
  assert.equal(await runs(), 2);
  const reports = join(base, 'state', 'reports');
  writeFileSync(join(reports, 'failover-trading-g.json'), JSON.stringify(failover('g', '2026-12-01T02:30:00.000Z', 'completed', 2000, 1)));
  assert.equal(await runs(), 3);
  rmSync(join(reports, 'failover-trading-a.json'));
  assert.equal(await runs(), 2);
  assert.equal(samples(await registry.metrics()).get('dr_last_rto_seconds{group="trading",type="failover"}'), 2);
});

test('last RTO and RPO: the newest failover and drill of the group that measured them', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const { at } = await scrape(base, lister(openRuns));
  assert.equal(at.get('dr_last_rto_seconds{group="trading",type="failover"}'), 1.12);
  assert.equal(at.get('dr_last_rpo_seconds{group="trading",type="failover"}'), 0);
  assert.equal(at.get('dr_last_rto_seconds{group="trading",type="drill"}'), 4.648);
  assert.equal(at.get('dr_last_rpo_seconds{group="trading",type="drill"}'), 0);
  assert.equal(at.has('dr_last_rto_seconds{group="trading",type="incident"}'), false);
});

test('a drill that lost acknowledged writes: its RPO is the span they cover', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  rmSync(join(base, 'state', 'reports', 'drill-trading-e.json'));
  const { at } = await scrape(base, lister(openRuns));
  assert.equal(at.get('dr_last_rto_seconds{group="trading",type="drill"}'), 15.504);
  assert.equal(at.get('dr_last_rpo_seconds{group="trading",type="drill"}'), 13.703);
});

test('needs operator: 1 per open run that waits for one; a failed query is unknown, not a scrape error', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const workflows = lister(openRuns);
  const { at } = await scrape(base, workflows);
  assert.equal(at.get('dr_runbook_needs_operator{type="failover",workflow_id="failover-trading"}'), 1);
  assert.equal([...at.keys()].filter((k) => k.startsWith('dr_runbook_needs_operator')).length, 1);
  assert.equal(at.get('dr_runbook_open_runs{status="unknown",type="fileSync"}'), 1);
  assert.equal(at.get('dr_runbook_open_runs{status="running",type="drill"}'), 1);
  assert.equal(at.get('dr_runbook_open_runs_list_ok{}'), 1);
  assert.equal(workflows.calls, 1, 'one listing per scrape, shared by the metrics that need it');
});

test('Temporal cannot list: the file metrics are still there, and list_ok says 0', async (t) => {
  const base = stateFolder();
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const { at } = await scrape(base, lister(new Error('14 UNAVAILABLE: connection refused')));
  assert.equal(at.get('dr_runbook_open_runs_list_ok{}'), 0);
  assert.equal([...at.keys()].filter((k) => k.startsWith('dr_runbook_needs_operator')).length, 0);
  assert.equal(at.get('dr_last_rto_seconds{group="trading",type="failover"}'), 1.12);
});

test('an empty state folder (a fresh install): no reports, no sync state, and no error', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'dr-metrics-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const { text, at } = await scrape(base, lister([]));
  assert.match(text, /# HELP dr_runbook_runs_total /);
  assert.deepEqual([...at.keys()], ['dr_runbook_open_runs_list_ok{}']);
});
