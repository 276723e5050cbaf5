// Detection's rules without a lab: the quorum, the lease arithmetic, the config's refusals and Alertmanager's
// payload check.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { leaseLetsPromote, tally, vantagePointsOf, type Ballot, type Vote } from '../../domain/detection';
import { LeaseTable } from '../../domain/lease';
import { ConfigError, parseConfig } from '../../config/load';
import { alertmanagerPayload, payloadProblems } from '../../workers/intake/alertmanager-payload';

const vote = (vantage: string, database: 'up' | 'down'): Vote => ({ vantage, database, router: 'none', detail: '', lease: null, at: '' });

test('a majority of all vantage points must say down; a primary only ops cannot reach is a partition of ops', () => {
  const points = vantagePointsOf(['tw', 'tw2', 'sg'], 'tw', 'ops');
  assert.deepEqual(points, ['tw2', 'sg', 'ops']);
  assert.equal(tally(points, [vote('tw2', 'down'), vote('sg', 'down')]).verdict, 'confirmed');
  assert.equal(tally(points, [vote('ops', 'down'), vote('tw2', 'up'), vote('sg', 'up')]).verdict, 'refuted');
  assert.equal(tally(points, [vote('ops', 'down'), vote('tw2', 'up')]).verdict, 'undecided');
  const abstained: Ballot[] = [vote('ops', 'down'), { vantage: 'tw2', abstained: 'timeout' }, { vantage: 'sg', abstained: 'timeout' }];
  const t = tally(points, abstained);
  assert.equal(t.verdict, 'undecided', 'the two that did not answer may yet say down: another round');
  assert.deepEqual(t.abstained, ['tw2', 'sg']);
});

test('the lease: granted to one holder at a time; another may take it when released or after promoteAfter', () => {
  let now = 0;
  const t = new LeaseTable(3000, () => now);
  assert.deepEqual(t.renew('trading', 'tw'), { granted: true });
  now = 1000;
  assert.deepEqual(t.renew('trading', 'tw2'), { granted: false, holder: 'tw', ageMs: 1000 });
  assert.equal(leaseLetsPromote(t.view('trading'), 'tw', 3000), false);
  now = 4000;
  assert.equal(leaseLetsPromote(t.view('trading'), 'tw', 3000), true, 'not renewed for promoteAfter');
  assert.deepEqual(t.renew('trading', 'tw2'), { granted: true });
  assert.equal(t.release('trading', 'tw'), false, 'only the holder releases');
  assert.equal(t.release('trading', 'tw2'), true);
  assert.equal(leaseLetsPromote(t.view('trading'), 'tw2', 3000), true, 'released');
});

test('a vantage point that restarted says nothing about the lease until promoteAfter has passed', () => {
  let now = 0;
  const t = new LeaseTable(3000, () => now);
  assert.equal(leaseLetsPromote(t.view('trading'), 'tw', 3000), false);
  now = 3000;
  assert.equal(leaseLetsPromote(t.view('trading'), 'tw', 3000), true);
  assert.equal(leaseLetsPromote(null, 'tw', 3000), false, 'no answer lets nothing');
});

const example = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, 'bad.yaml');
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('the config was accepted');
}

test('the config refuses promoteAfter ≤ fenceAfter, naming the field, and a group site without an agent', () => {
  const lease = example.replace(
    'lease: { renewEvery: 1s, fenceAfter: 2s, promoteAfter: 3s }',
    'lease: { renewEvery: 1s, fenceAfter: 2s, promoteAfter: 2s }',
  );
  assert.notEqual(lease, example);
  const problems = problemsOf(lease);
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0]!, /^bad\.yaml: detection\.lease\.promoteAfter: must be longer than fenceAfter \(2s\).*\(line \d+\)$/);
  const noAgent = example.replace(/\n {4}agent: \{ host: dr-worker\.sg[^\n]*/, '');
  assert.match(problemsOf(noAgent).join('\n'), /sites\[1\]\.agent: is needed while detection is enabled/);
});

const payload = {
  version: '4',
  status: 'firing',
  receiver: 'dr-intake',
  groupKey: '{}:{group="trading"}',
  groupLabels: { group: 'trading' },
  commonLabels: {},
  alerts: [
    {
      status: 'firing',
      labels: { alertname: 'DrPrimaryDown', group: 'trading', site: 'tw', dr_action: 'failover' },
      startsAt: '2026-12-01T04:00:00Z',
      fingerprint: 'abc',
    },
  ],
};

test("Alertmanager's webhook: version 4 passes; a bad one is refused with what is wrong and where", () => {
  assert.equal(alertmanagerPayload.safeParse(payload).success, true);
  const bad = alertmanagerPayload.safeParse({
    ...payload,
    version: '3',
    alerts: [{ ...payload.alerts[0], status: 'pending', startsAt: 'yesterday' }],
  });
  assert.equal(bad.success, false);
  const problems = payloadProblems(bad.error!);
  assert.deepEqual(
    problems.map((p) => p.split(':')[0]),
    ['version', 'alerts[0].status', 'alerts[0].startsAt'],
  );
  assert.match(problems[0]!, /must be '4'/);
});
