// The drills section in the plan: always there (defaults when the config has no section), in milliseconds,
// and without what stays on the worker: commands, their folder, the stream's credentials.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import { parseConfig } from '../../config/load';
import { planOf } from '../../config/plan';

const exampleText = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

function planWith(change: (document: Document) => void) {
  const document = parseDocument(exampleText);
  change(document);
  return planOf(parseConfig(document.toString(), 'plan.yaml'));
}

test('the example: its windows, holidays and cities, the injector by kind only, durations in ms', () => {
  const plan = planWith(() => undefined);
  assert.deepEqual(plan.drills, {
    timezone: 'Asia/Taipei',
    windows: [{ days: ['sat'], start: '01:00', end: '05:00' }],
    holidays: ['2026-02-14', '2026-02-21', '2026-10-10', '2027-02-06', '2027-02-13'],
    injector: 'command',
    stream: { ratePerSecond: 20 },
    settleMs: 2000,
    regressionShare: 0.2,
    cities: { taipei: ['tw'] },
  });
});

test('no drills section: the defaults, in the time zone of the primary site', () => {
  const plan = planWith((document) => {
    document.delete('drills');
    document.setIn(['sites', 0, 'timezone'], 'Asia/Tokyo');
  });
  assert.deepEqual(plan.drills, {
    timezone: 'Asia/Tokyo',
    windows: [],
    holidays: [],
    injector: 'manual',
    stream: { ratePerSecond: 20 },
    settleMs: 2000,
    regressionShare: 0.2,
    cities: {},
  });
});

test('the primary site need not be the first site', () => {
  const plan = planWith((document) => {
    document.deleteIn(['drills', 'timezone']);
    document.setIn(['sites', 0, 'role'], 'dr');
    document.setIn(['sites', 1, 'role'], 'primary');
  });
  assert.equal(plan.drills?.timezone, 'Asia/Singapore');
});

test('no fault command, command folder or stream credential reaches the plan', () => {
  const plan = JSON.stringify(
    planWith((document) => {
      document.setIn(['drills', 'stream', 'user'], 'trading_app');
      document.setIn(['drills', 'stream', 'password'], 'env:DR_APP_PASSWORD');
      document.setIn(['drills', 'settle'], '1500ms');
    }),
  );
  assert.match(plan, /"settleMs":1500/);
  for (const text of ['ipmitool', 'nft', '{site}', '/etc/dr/drill', 'trading_app', 'DR_APP_PASSWORD', '"cwd"', '"timeout"', '"schedules"']) {
    assert.ok(!plan.includes(text), `the plan holds ${text}`);
  }
});
