// What a person reads: the preflight table drctl prints and the Markdown report a runbook leaves behind.
// The expected lines are written out by hand, padding included.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderPreflight } from '../../cli/render';
import { renderMarkdown, writeReportFiles, type ReportLike } from '../../activities/report';
import type { DatabaseState, ReplicationState } from '../../activities/inspect';
import type { PreflightReport, SiteCheck } from '../../workflows/preflight';

const uuid = '3e11fa47-71ca-11e1-9e33-c80aa9429562';

// ── preflight ──

function database(site: string, serverId: number, gtidExecuted: string, readOnly: boolean, replication: ReplicationState | null): DatabaseState {
  return {
    site,
    serverId,
    hostname: `mysql-${site}`,
    port: 3306,
    version: '11.4.2-MariaDB',
    dialect: 'mariadb',
    readOnly,
    superReadOnly: null,
    gtidExecuted,
    gtidBinlogPos: gtidExecuted,
    gtidSlavePos: null,
    replication,
    checkedAt: '2024-05-01T10:00:00.000Z',
  };
}

function replicationFromTw(overrides: Partial<ReplicationState> = {}): ReplicationState {
  return {
    ioRunning: true,
    sqlRunning: true,
    lastIoError: '',
    lastSqlError: '',
    secondsBehind: 3,
    sourceHost: 'mysql-primary.tw.example.internal',
    sourcePort: 3306,
    retrievedGtids: '0-1-100',
    ...overrides,
  };
}

function preflightReport(sites: SiteCheck[], flags: PreflightReport['flags']): PreflightReport {
  return {
    config: 'trading-prod',
    group: null,
    checkedAt: '2024-05-01T10:00:00.000Z',
    objectives: { rtoSeconds: 30, rpoSeconds: 300 },
    sites,
    flags,
    ok: !flags.some((flag) => flag.severity === 'critical'),
  };
}

test('renderPreflight prints the objectives, one aligned row per site, the flags and the verdict', () => {
  const report = preflightReport(
    [
      { site: 'tw', role: 'primary', reachability: 'ok', database: database('tw', 1, '0-1-100', false, null) },
      { site: 'sg', role: 'dr', reachability: 'ok', database: database('sg', 2, '0-1-97', true, replicationFromTw()) },
      { site: 'hk', role: 'standby', reachability: 'unreachable', error: 'no worker picked up the task within 5000 ms' },
    ],
    [
      { severity: 'critical', code: 'site-unreachable', site: 'hk', message: 'hk did not answer' },
      { severity: 'warning', code: 'file-sync-failing', message: 'the last two syncs failed' },
    ],
  );
  assert.deepEqual(renderPreflight(report).split('\n'), [
    'config trading-prod, objectives RTO 30 s, RPO 300 s, checked 2024-05-01T10:00:00.000Z',
    'site  role     state        server    gtid executed           replication',
    'tw    primary  WRITABLE     #1        0-1-100                 none (source)',
    'sg    dr       read-only    #2        0-1-97                  from mysql-primary.tw.example.internal:3306, IO running, SQL running, lag 3 s',
    'hk    standby  unreachable  -         -                       no worker picked up the task within 5000 ms',
    'flags:',
    '  [critical] site-unreachable (hk): hk did not answer',
    '  [warning] file-sync-failing: the last two syncs failed',
    'verdict: NOT OK',
  ]);
});

test('renderPreflight with no flags says the sites are ready, and shows stopped threads and unknown lag', () => {
  const report = preflightReport(
    [
      { site: 'tw', role: 'primary', reachability: 'ok', database: database('tw', 1, '0-1-100', false, null) },
      {
        site: 'sg',
        role: 'dr',
        reachability: 'ok',
        database: database('sg', 2, '0-1-97', true, replicationFromTw({ ioRunning: false, secondsBehind: null })),
      },
    ],
    [],
  );
  const lines = renderPreflight(report).split('\n');
  assert.equal(
    lines[3],
    'sg    dr       read-only    #2        0-1-97                  from mysql-primary.tw.example.internal:3306, IO STOPPED, SQL running, lag ? s',
  );
  assert.deepEqual(lines.slice(-2), ['flags: none — ready for a switchover', 'verdict: OK']);
});

test('renderPreflight keeps a database-down site apart from the next column', () => {
  const report = preflightReport(
    [{ site: 'sg', role: 'dr', reachability: 'database-down', error: 'connect ECONNREFUSED 10.0.0.2:3306' }],
    [{ severity: 'critical', code: 'database-down', site: 'sg', message: 'the database does not answer' }],
  );
  const row = renderPreflight(report).split('\n')[2]!;
  // Cells: site, role, state, server, gtid executed, then the error text.
  assert.deepEqual(row.split(/\s+/).slice(0, 5), ['sg', 'dr', 'database-down', '-', '-'], row);
});

test('renderPreflight keeps a MySQL GTID set, longer than its column, apart from the replication column', () => {
  const report = preflightReport(
    [{ site: 'tw', role: 'primary', reachability: 'ok', database: database('tw', 1, `${uuid}:1-100`, false, null) }],
    [],
  );
  const row = renderPreflight(report).split('\n')[2]!;
  assert.match(row, new RegExp(`^tw +primary +WRITABLE +#1 +${uuid}:1-100 +none \\(source\\)$`), row);
});

// ── Markdown report ──

const scaleUp = {
  site: 'sg',
  cluster: 'https://k3s-sg.example.internal:6443',
  namespace: 'trading',
  profile: 'production',
  previous: [
    { service: 'matching-engine', deployment: 'matching-engine', replicas: 1, hpa: { name: 'matching-engine', minReplicas: 1, maxReplicas: 20 } },
    { service: 'market-data', deployment: 'market-data', replicas: 0 },
  ],
  applied: [
    { service: 'matching-engine', deployment: 'matching-engine', hpa: 'matching-engine', replicas: 6, minReplicas: 6, maxReplicas: 20 },
    { service: 'market-data', deployment: 'market-data', replicas: 3 },
  ],
  ready: { ready: 2, total: 2, waitedMs: 4800 },
};

/** A report of any runbook: the writer takes whatever fields a runbook recorded. */
type AnyReport = ReportLike & Record<string, unknown>;

const markdownOf = (report: AnyReport): string => renderMarkdown(report);

function failoverReport(): AnyReport {
  return {
    runbook: 'failover',
    workflowId: 'failover-trading-20240501',
    runId: '0f1e2d3c4b5a69788796a5b4c3d2e1f0',
    input: { group: 'trading', from: 'tw', to: 'sg', mode: 'planned' },
    outcome: 'completed',
    startedAt: '2024-05-01T10:00:00.000Z',
    endedAt: '2024-05-01T10:00:09.000Z',
    objectives: { rtoSeconds: 30, rpoSeconds: 300 },
    rtoMs: 8420,
    pointOfNoReturn: { reached: true, at: '2024-05-01T10:00:05.500Z', step: 'promote' },
    rpo: {
      lagSecondsAtPromotion: 2,
      gtidAtPromotion: `${uuid}:1-98`,
      lost: { known: true, count: 2, gtids: [`${uuid}:99-100`], note: "old primary executed set minus the new primary's set at promotion" },
    },
    approval: { decision: 'approved', how: 'timeout', by: 'timer', reason: 'no objection within 2m', lossAccepted: false },
    refusedDecisions: [{ by: 'mallory', reason: 'go', why: 'not an approver', at: '2024-05-01T10:00:01.000Z' }],
    operatorActions: [{ step: 'dns', action: 'skip', by: 'ops-lead', reason: 'records changed by hand', at: '2024-05-01T10:00:04.000Z' }],
    steps: [
      { name: 'fence', state: 'done', startedAt: '2024-05-01T10:00:02.000Z', durationMs: 1200, attempts: 1, detail: { readOnly: true } },
      { name: 'scale', state: 'done', startedAt: '2024-05-01T10:00:03.000Z', durationMs: 5000, attempts: 1, detail: scaleUp },
      { name: 'promote', state: 'failed', startedAt: '2024-05-01T10:00:05.000Z', durationMs: 300, attempts: 3, error: 'replica | not caught up' },
      { name: 'notify', state: 'pending' },
    ],
    notes: ['2024-05-01T10:00:08.000Z standby sizes restored in tw'],
  };
}

const failoverMarkdown = [
  '# failover: failover-trading-20240501',
  '',
  '- **input:** group=trading, from=tw, to=sg, mode=planned',
  '- **outcome:** completed',
  '- **started:** 2024-05-01T10:00:00.000Z',
  '- **ended:** 2024-05-01T10:00:09.000Z',
  '- **RTO:** 8.42 s (objective 30 s: met)',
  '- **point of no return (promote):** passed at 2024-05-01T10:00:05.500Z',
  '- **RPO: lag at promotion:** 2 s (objective 300 s)',
  `- **GTID at promotion:** ${uuid}:1-98`,
  `- **lost transactions:** 2: ${uuid}:99-100 — old primary executed set minus the new primary's set at promotion`,
  '- **approval:** approved (timeout) by timer: no objection within 2m',
  '',
  '## Timeline',
  '',
  '| step | state | started | duration | attempts | detail |',
  '|---|---|---|---|---|---|',
  '| fence | done | 2024-05-01T10:00:02.000Z | 1200 ms | 1 | {"readOnly":true} |',
  '| scale | done | 2024-05-01T10:00:03.000Z | 5000 ms | 1 | sg: 2 services to production size, 2/2 ready after 4800 ms (see Kubernetes) |',
  // The pipe in the error would end the cell: it is escaped.
  '| promote | failed | 2024-05-01T10:00:05.000Z | 300 ms | 3 | error: replica \\| not caught up |',
  '| notify | pending |  |  |  |  |',
  '',
  '## Kubernetes',
  '',
  '| step | site | service | replicas | HPA min–max |',
  '|---|---|---|---|---|',
  '| scale | sg (https://k3s-sg.example.internal:6443, ns trading) | matching-engine | 1 → 6 | 1–20 → 6–20 |',
  '| scale | sg (https://k3s-sg.example.internal:6443, ns trading) | market-data | 0 → 3 |  |',
  '',
  '## Notes',
  '',
  '- 2024-05-01T10:00:08.000Z standby sizes restored in tw',
  '',
  '## Refused decisions',
  '',
  "- 2024-05-01T10:00:01.000Z 'mallory': not an approver",
  '',
  '## Operator actions',
  '',
  "- 2024-05-01T10:00:04.000Z skip 'dns' by ops-lead: records changed by hand",
  '',
];

test('a failover report reads: outcome, RTO against its objective, lost GTIDs, then the timeline step by step', () => {
  assert.deepEqual(renderMarkdown(failoverReport()).split('\n'), failoverMarkdown);
});

/** The value of one `- **key:** value` line of a Markdown report, or undefined when it has none. */
function field(markdown: string, key: string): string | undefined {
  const prefix = `- **${key}:** `;
  return markdown
    .split('\n')
    .find((line) => line.startsWith(prefix))
    ?.slice(prefix.length);
}

test('the RTO is met up to and including the objective, missed past it, and absent without a promotion', () => {
  const at = (rtoMs: number | null) => field(markdownOf({ ...failoverReport(), rtoMs }), 'RTO');
  assert.equal(at(30_000), '30.00 s (objective 30 s: met)');
  assert.equal(at(30_001), '30.00 s (objective 30 s: MISSED)');
  assert.equal(at(31_250), '31.25 s (objective 30 s: MISSED)');
  assert.equal(at(null), 'not reached (no promotion)');
  // Without objectives there is nothing to meet: the time alone.
  const withoutObjectives = failoverReport();
  delete withoutObjectives.objectives;
  assert.equal(field(renderMarkdown(withoutObjectives), 'RTO'), '8.42 s');
  assert.equal(field(renderMarkdown(withoutObjectives), 'RPO: lag at promotion'), '2 s');
});

test('an unreachable old primary makes the lost transactions unknown, not zero', () => {
  const markdown = markdownOf({
    ...failoverReport(),
    pointOfNoReturn: { reached: false, at: null, step: 'promote' },
    rpo: { lagSecondsAtPromotion: null, gtidAtPromotion: null, lost: { known: false, count: null, gtids: [], note: 'old primary unreachable' } },
  });
  assert.equal(field(markdown, 'lost transactions'), 'unknown — old primary unreachable');
  assert.equal(field(markdown, 'RPO: lag at promotion'), 'unknown');
  assert.equal(field(markdown, 'GTID at promotion'), undefined);
  assert.equal(field(markdown, 'point of no return (promote)'), 'not reached: everything before it was undone or never done');
});

test('a report with no rpo section still shows its own lost transactions and its error', () => {
  const markdown = markdownOf({
    runbook: 'fence-on-return',
    workflowId: 'fence-on-return-tw',
    outcome: 'fenced',
    lost: { known: true, count: 0, gtids: [], note: 'executed on tw but not on sg at promotion' },
    error: 'tw answered after 40 s',
  });
  assert.deepEqual(markdown.split('\n'), [
    '# fence-on-return: fence-on-return-tw',
    '',
    '- **outcome:** fenced',
    '- **lost transactions:** 0 — executed on tw but not on sg at promotion',
    '- **error:** tw answered after 40 s',
    '',
  ]);
});

test('a failback report names the errant transactions, their export and decision, the re-seed and the switchover', () => {
  const markdown = markdownOf({
    runbook: 'failback',
    workflowId: 'failback-trading-1',
    input: { group: 'trading', site: 'tw' },
    outcome: 'completed',
    objectives: { rtoSeconds: 30, rpoSeconds: 300 },
    rtoMs: 4100,
    errant: {
      count: 3,
      gtids: ['0-1-98..0-1-100'],
      tables: ['shop.orders', 'shop.payments'],
      export: { file: '/var/dr/errant/failback-trading-1.sql', sha256: '9f86d081884c7d65', bytes: 2048 },
      decision: { decision: 'approved', how: 'signal', by: 'dba-oncall', reason: 'kept in the export', lossAccepted: true },
    },
    reseed: { done: true, why: 'errant transactions discarded', result: { bytes: 1_048_576, tables: 12, durationMs: 3400, gtidPosition: '0-2-150' } },
    reprotect: { start: null, caughtUp: { lagSeconds: 0, waitedMs: 2500 } },
    switchover: {
      workflowId: 'failover-trading-2',
      outcome: 'completed',
      rtoMs: 4100,
      lost: null,
      files: { json: '/var/dr/f.json', markdown: '/var/dr/f.md' },
    },
    approval: null,
    steps: [],
    notes: [],
  });
  assert.deepEqual(markdown.split('\n'), [
    '# failback: failback-trading-1',
    '',
    '- **input:** group=trading, site=tw',
    '- **outcome:** completed',
    '- **RTO:** 4.10 s (objective 30 s: met)',
    '- **errant transactions:** 3: 0-1-98..0-1-100; tables shop.orders, shop.payments',
    '- **errant export:** /var/dr/errant/failback-trading-1.sql (2048 bytes, sha256 9f86d081884c7d65)',
    '- **errant decision:** re-seed by dba-oncall',
    '- **re-seed:** 1048576 bytes, 12 tables in 3400 ms, from GTID position 0-2-150 (errant transactions discarded)',
    '- **reprotect:** caught up to 0 s lag in 2500 ms',
    '- **switchover:** failover-trading-2: completed (report /var/dr/f.md)',
    '',
  ]);
});

test('a failback with nothing errant, a refused re-seed and no switchover says so', () => {
  const markdown = markdownOf({
    runbook: 'failback',
    workflowId: 'failback-trading-2',
    errant: { count: 0, gtids: [], tables: [], export: null, decision: { decision: 'rejected', how: 'signal', by: 'cto', reason: 'look first' } },
    reseed: { done: false, why: 'no errant transactions', result: null },
    reprotect: { start: null, caughtUp: null },
    switchover: null,
  });
  assert.equal(field(markdown, 'errant transactions'), 'none');
  assert.equal(field(markdown, 'errant export'), undefined);
  assert.equal(field(markdown, 'errant decision'), 'abort by cto');
  assert.equal(field(markdown, 're-seed'), 'not done: no errant transactions');
  assert.equal(field(markdown, 'reprotect'), undefined);
  assert.equal(field(markdown, 'switchover'), undefined);
});

test('the Kubernetes table raises an HPA maximum that a new minimum would pass', () => {
  const scale = {
    ...scaleUp,
    previous: [scaleUp.previous[0]],
    applied: [{ service: 'matching-engine', deployment: 'matching-engine', hpa: 'matching-engine', replicas: 25, minReplicas: 25 }],
    ready: { ready: 1, total: 1, waitedMs: 900 },
  };
  const markdown = markdownOf({ runbook: 'failover', workflowId: 'w', steps: [{ name: 'scale', state: 'done', detail: scale }] });
  assert.ok(
    markdown.includes('| scale | sg (https://k3s-sg.example.internal:6443, ns trading) | matching-engine | 1 → 25 | 1–20 → 25–25 |'),
    markdown,
  );
});

test('writeReportFiles writes the Markdown and the JSON, named by workflow id and run id', () => {
  const root = mkdtempSync(join(tmpdir(), 'dr-report-'));
  try {
    const dir = join(root, 'reports', 'failover');
    const files = writeReportFiles(dir, failoverReport());
    assert.deepEqual(files, {
      json: join(dir, 'failover-trading-20240501-0f1e2d3c4b5a69788796a5b4c3d2e1f0.json'),
      markdown: join(dir, 'failover-trading-20240501-0f1e2d3c4b5a69788796a5b4c3d2e1f0.md'),
    });
    assert.deepEqual(readFileSync(files.markdown, 'utf8').split('\n'), failoverMarkdown);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as Record<string, unknown>;
    assert.equal(json.workflowId, 'failover-trading-20240501');
    assert.equal(json.rtoMs, 8420);
    // The JSON says where both files are.
    assert.deepEqual(json.files, files);

    const withoutRun = writeReportFiles(dir, { runbook: 'preflight', workflowId: 'preflight-1' });
    assert.equal(withoutRun.markdown, join(dir, 'preflight-1.md'));
    assert.ok(existsSync(withoutRun.json));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a three-site failover report says which site was promoted and why, and where every other replica replicates from', () => {
  const md = markdownOf({
    ...failoverReport(),
    input: { group: 'trading', from: 'tw', to: 'tw2', mode: 'unplanned' },
    candidate: {
      chosen: 'tw2',
      chosenByRunbook: true,
      reason: 'tw2 holds the most transactions (100)',
      considered: [
        { site: 'tw2', set: `${uuid}:1-100`, count: 100, lacks: null, why: 'most advanced' },
        { site: 'sg', set: null, count: null, lacks: null, why: 'unreachable (its worker did not pick up)' },
      ],
      peersAhead: [],
    },
    replicas: [{ site: 'sg', outcome: 'unreachable', source: null, lagSeconds: null, why: 'unreachable: re-pointed at tw2 when it returns' }],
    semiSync: { note: 'tw would acknowledge for tw2 but none replicates from it now: semi-sync is off until one does' },
  });
  assert.match(md, /^## Candidate\n\ntw2 \(chosen by the runbook\): tw2 holds the most transactions \(100\)$/m);
  assert.match(md, /^\| sg \| {2}\| {2}\| unreachable \(its worker did not pick up\) \|$/m);
  assert.match(md, /^\| sg \| unreachable \| nothing \| {2}\| unreachable: re-pointed at tw2 when it returns \|$/m);
  assert.match(md, /^- \*\*semi-sync:\*\* tw would acknowledge for tw2 but none replicates/m);
});
