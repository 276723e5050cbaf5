// The drill report a person reads: one self-contained HTML page and its Markdown twin, the trend verdict, and
// the trend read back from earlier reports on disk.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDrillTrend, renderDrillHtml, renderDrillMarkdown, writeDrillReportFiles } from '../../activities/drill-report';
import type { DrillReportLike, TrendPoint } from '../../domain/drill';
import { trendVerdict } from '../../domain/drill-trend';
import { drillFixture } from '../helpers/drill-fixture';

// ── HTML ──

test('the HTML page has the timeline, the write stream, the trend and the objectives with their verdicts', () => {
  const html = renderDrillHtml(drillFixture());
  for (const id of ['timeline', 'write-stream', 'trend']) assert.match(html, new RegExp(`<svg id="${id}"`), `svg #${id}`);
  const objectives = /<table id="objectives">([\s\S]*?)<\/table>/.exec(html)?.[1] ?? '';
  assert.match(objectives, /RPO \(writes\)[\s\S]*?<span class="pill fail">fail<\/span>/);
  assert.match(objectives, /RTO<\/td>[\s\S]*?<span class="pill pass">pass<\/span>/);
  assert.match(objectives, /<span class="pill unmeasured">not measured<\/span>/);
  assert.match(html, /<title>Drill power-loss on tw: failed<\/title>/);
  assert.match(html, /<div class="verdict bad">failed<\/div>/);
  assert.match(html, /<table id="drift">[\s\S]*?mysql-tw:3306 OFFLINE_SOFT/);
  assert.match(html, /<strong>Regression\.<\/strong> RTO 23\.1 s is over the median 18\.9 s/);
  assert.match(html, />REGRESSION</);
  for (const marker of ['injection +28.3 s', 'promoted +48.9 s', 'first good write +51.4 s']) assert.ok(html.includes(marker), marker);
});

test('the HTML page escapes what operators typed', () => {
  const report = drillFixture();
  report.input.reason = '<script>alert("x")</script> & <img src=x onerror=alert(1)>';
  report.cleanup.drift[0]!.what = '"><svg onload=alert(2)>';
  const html = renderDrillHtml(report);
  assert.ok(!html.includes('<script'), 'no script element');
  assert.ok(!html.includes('<img'), 'no img element');
  assert.ok(!html.includes('<svg onload'), 'no injected svg');
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;'));
});

test('the HTML page loads nothing from the network: no http(s) anywhere, links to sibling reports by name', () => {
  const html = renderDrillHtml(drillFixture());
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /<(script|link|iframe|object|embed|img)\b/);
  assert.doesNotMatch(html, /@import|url\(/);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.match(html, /<a href="failover-orders-drill-7f3e2a91-2b9d4c1e\.md">report<\/a>/);
});

test('the HTML page of a drill without a stream, history, drift or objectives says so', () => {
  const report: DrillReportLike = {
    ...drillFixture(),
    stream: null,
    verdicts: [],
    verdict: 'aborted',
    aborted: { by: 'bob', reason: 'trading halted', at: '2026-11-26T06:00:40.000Z', step: 'recover' },
    trend: { points: [], medianRtoMs: null, regression: false, why: 'no earlier drill measured an RTO: nothing to compare with' },
  };
  report.cleanup = { ...report.cleanup, drift: [], verdict: 'clean', errors: ['schedule backup-orders: not found'] };
  const html = renderDrillHtml(report);
  assert.match(html, /No stream recorded\./);
  assert.doesNotMatch(html, /<svg id="write-stream"/);
  assert.match(html, /No objective was evaluated\./);
  assert.match(html, /<div class="verdict warn">aborted<\/div>/);
  assert.match(html, /<strong>Aborted<\/strong> by bob .* during <em>recover<\/em>: trading halted/);
  assert.match(html, /No drift: the estate is as it was before the drill\./);
  assert.match(html, /schedule backup-orders: not found/);
  assert.match(html, /no earlier drill measured an RTO: nothing to compare with/);
  assert.doesNotMatch(html, /REGRESSION/);
});

// ── Markdown ──

test('the Markdown report has the objectives table, the phases, the timeline offsets, cleanup and the regression', () => {
  const markdown = renderDrillMarkdown(drillFixture());
  assert.match(markdown, /^# Drill power-loss on tw: FAILED$/m);
  assert.match(markdown, /^\| objective \| target \| measured \| verdict \| note \|$/m);
  assert.match(markdown, /^\| RTO \| ≤ 60 s \| 23\.1 s \| pass \| {2}\|$/m);
  assert.match(markdown, /^\| RPO \(writes\) \| 0 acknowledged writes lost \| 3 writes lost \| FAIL \| async replication/m);
  assert.match(markdown, /^\| RPO \(files\) \| ≤ 300 s \| not measured \| NOT MEASURED \|/m);
  assert.match(markdown, /^\| dns \| 4\.2 s \| 18% \|$/m);
  assert.match(markdown, /^\| failover \| promote \| done \| \+47\.3 s \| \+48\.9 s \| 1\.6 s \|$/m);
  assert.match(markdown, /^Events: injection \+28\.3 s, promoted \+48\.9 s, first good write \+51\.4 s\.$/m);
  assert.match(markdown, /^\| proxysql tw: mysql_servers hostgroup 10 \| mysql-tw:3306 ONLINE \| mysql-tw:3306 OFFLINE_SOFT \|$/m);
  assert.match(markdown, /^\*\*REGRESSION:\*\* RTO 23\.1 s is over the median 18\.9 s/m);
  assert.match(markdown, /^\| \*\*this drill\*\* 2026-11-26 06:02:41 UTC \| drill-orders-power-loss-20261126 \| 23\.1 s \| 3 \|$/m);
});

// ── trendVerdict ──

const point = (rtoMs: number | null, index = 0): TrendPoint => ({
  workflowId: `drill-${index}`,
  runId: `run-${index}`,
  endedAt: `2026-0${index + 1}-01T00:00:00.000Z`,
  rtoMs,
  lostAckedWrites: 0,
});

test('trendVerdict: no history (or none with an RTO) is no regression', () => {
  assert.deepEqual(trendVerdict([], 90_000, 0.2), {
    medianRtoMs: null,
    regression: false,
    why: 'no earlier drill measured an RTO: nothing to compare with',
  });
  assert.equal(trendVerdict([point(null)], 90_000, 0.2).regression, false);
});

test('trendVerdict: slower than the median of the earlier RTOs by more than the share is a regression', () => {
  const points = [point(20_000, 0), point(null, 1), point(10_000, 2), point(30_000, 3), point(12_000, 4)];
  const verdict = trendVerdict(points, 20_000, 0.2);
  assert.equal(verdict.medianRtoMs, 16_000); // (12 + 20) / 2: the null is left out
  assert.equal(verdict.regression, true);
  assert.match(verdict.why, /RTO 20\.0 s is over the median 16\.0 s of 4 earlier drill\(s\) by more than 20% \(limit 19\.2 s\)/);
});

test('trendVerdict: within the share, exactly at the limit, or without an RTO of its own is not a regression', () => {
  const points = [point(10_000, 0), point(20_000, 1), point(30_000, 2)];
  assert.equal(trendVerdict(points, 23_000, 0.2).regression, false);
  assert.equal(trendVerdict(points, 24_000, 0.2).regression, false);
  assert.equal(trendVerdict(points, 24_001, 0.2).regression, true);
  const none = trendVerdict(points, null, 0.2);
  assert.deepEqual([none.medianRtoMs, none.regression], [20_000, false]);
});

// ── files and the trend read back ──

test('writeDrillReportFiles writes JSON (with its files), Markdown and HTML named like every report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-report-'));
  try {
    const files = writeDrillReportFiles(join(dir, 'reports'), drillFixture());
    const base = join(dir, 'reports', 'drill-orders-power-loss-20261126-7f3e2a91-c4d8-4b6e-a1f0-9d8c7b6a5e4f');
    assert.deepEqual(files, { json: `${base}.json`, markdown: `${base}.md`, html: `${base}.html` });
    const stored = JSON.parse(readFileSync(files.json, 'utf8')) as DrillReportLike & { files: unknown };
    assert.deepEqual(stored.files, files);
    assert.equal(stored.measurement.rtoMs, 23_100);
    assert.match(readFileSync(files.markdown, 'utf8'), /^# Drill power-loss on tw/);
    assert.match(readFileSync(files.html, 'utf8'), /^<!DOCTYPE html>/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A stored drill report with just what the trend reads. */
function stored(dir: string, name: string, fields: { scenario?: string; group?: string; runId: string; endedAt?: string; rtoMs?: number | null }) {
  const report = drillFixture();
  const body = {
    ...report,
    workflowId: name,
    runId: fields.runId,
    input: { ...report.input, scenario: fields.scenario ?? 'power-loss', group: fields.group ?? 'orders' },
    endedAt: fields.endedAt ?? '',
    measurement: { ...report.measurement, rtoMs: fields.rtoMs === undefined ? 20_000 : fields.rtoMs, lostAckedWrites: 1 },
  };
  writeFileSync(join(dir, `${name}-${fields.runId}.json`), JSON.stringify(body));
}

test('readDrillTrend: earlier ended drills of the same scenario and group, oldest first, at most limit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-trend-'));
  try {
    stored(dir, 'drill-b', { runId: 'bbbbbbbb-2', endedAt: '2026-03-01T00:00:00.000Z', rtoMs: 21_000 });
    stored(dir, 'drill-a', { runId: 'aaaaaaaa-1', endedAt: '2026-02-01T00:00:00.000Z', rtoMs: null });
    stored(dir, 'drill-c', { runId: 'cccccccc-3', endedAt: '2026-04-01T00:00:00.000Z', rtoMs: 19_000 });
    stored(dir, 'drill-isolation', { runId: 'dddddddd-4', endedAt: '2026-04-02T00:00:00.000Z', scenario: 'isolation' });
    stored(dir, 'drill-payments', { runId: 'eeeeeeee-5', endedAt: '2026-04-03T00:00:00.000Z', group: 'payments' });
    stored(dir, 'drill-unfinished', { runId: 'ffffffff-6' });
    stored(dir, 'drill-current', { runId: 'current0-7', endedAt: '2026-05-01T00:00:00.000Z' });
    writeFileSync(join(dir, 'drill-broken-00000000.json'), '{"runbook": "drill", "input": ');
    writeFileSync(
      join(dir, 'failover-orders-11111111.json'),
      JSON.stringify({ runbook: 'failover', input: { scenario: 'power-loss', group: 'orders' } }),
    );
    writeFileSync(join(dir, 'drill-notes.md'), '# not a report');
    const trend = readDrillTrend(dir, 'power-loss', 'orders', 'current0-7');
    assert.deepEqual(
      trend.map((p) => [p.workflowId, p.runId, p.endedAt, p.rtoMs, p.lostAckedWrites]),
      [
        ['drill-a', 'aaaaaaaa-1', '2026-02-01T00:00:00.000Z', null, 1],
        ['drill-b', 'bbbbbbbb-2', '2026-03-01T00:00:00.000Z', 21_000, 1],
        ['drill-c', 'cccccccc-3', '2026-04-01T00:00:00.000Z', 19_000, 1],
      ],
    );
    assert.deepEqual(
      readDrillTrend(dir, 'power-loss', 'orders', 'current0-7', 2).map((p) => p.workflowId),
      ['drill-b', 'drill-c'],
    );
    assert.deepEqual(
      readDrillTrend(dir, 'isolation', 'orders', 'x').map((p) => p.workflowId),
      ['drill-isolation'],
    );
    assert.deepEqual(readDrillTrend(join(dir, 'missing'), 'power-loss', 'orders', 'x'), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
