// The drill schedules of a config: one Temporal schedule per drills.schedules entry, on a calendar in the
// drills' time zone, starting the drill runbook of its group with overlap SKIP.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { parseConfig } from '../../config/load';
import type { Config } from '../../config/schema';
import { drillScheduleOptions } from '../../activities/drill-schedules';
import { controlTaskQueue } from '../../domain/runs';

const exampleText = readFileSync(join(__dirname, '..', '..', 'config', 'example.yaml'), 'utf8');

/** The example config with its drill schedules (and time zone, when given) replaced. */
function configWith(schedules: unknown[], timezone?: string): Config {
  const document = parseDocument(exampleText);
  document.setIn(['drills', 'schedules'], schedules);
  document.setIn(['drills', 'windows'], []);
  if (timezone === undefined) document.deleteIn(['drills', 'timezone']);
  else document.setIn(['drills', 'timezone'], timezone);
  return parseConfig(document.toString(), 'drills.yaml').config;
}

const entry = (every: string, extra: Record<string, unknown> = {}) => ({
  id: `${every}-drill`,
  group: 'trading',
  scenario: 'power-loss',
  every,
  day: 'sat',
  at: '02:30',
  ...extra,
});

test('the shipped example: a monthly power loss and a quarterly isolation, both on Saturdays in Taipei', () => {
  const options = drillScheduleOptions(parseConfig(exampleText, 'example.yaml').config);
  assert.deepEqual(
    options.map((o) => [o.scheduleId, o.spec.timezone, o.spec.calendars]),
    [
      ['drill-monthly-power-loss', 'Asia/Taipei', [{ dayOfWeek: 'SATURDAY', hour: 2, minute: 0, dayOfMonth: { start: 1, end: 7 } }]],
      [
        'drill-quarterly-isolation',
        'Asia/Taipei',
        [{ dayOfWeek: 'SATURDAY', hour: 3, minute: 0, dayOfMonth: { start: 1, end: 7 }, month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'] }],
      ],
    ],
  );
});

test('weekly is the weekday at the time; monthly its first one in a month; quarterly in the first month of a quarter', () => {
  const [weekly, monthly, quarterly] = drillScheduleOptions(
    configWith([entry('weekly', { day: 'wed' }), entry('monthly', { day: 'sun' }), entry('quarterly', { day: 'mon', at: '23:59' })]),
  );
  assert.deepEqual(weekly!.spec.calendars, [{ dayOfWeek: 'WEDNESDAY', hour: 2, minute: 30 }]);
  assert.deepEqual(monthly!.spec.calendars, [{ dayOfWeek: 'SUNDAY', hour: 2, minute: 30, dayOfMonth: { start: 1, end: 7 } }]);
  assert.deepEqual(quarterly!.spec.calendars, [
    { dayOfWeek: 'MONDAY', hour: 23, minute: 59, dayOfMonth: { start: 1, end: 7 }, month: ['JANUARY', 'APRIL', 'JULY', 'OCTOBER'] },
  ]);
  for (const options of [weekly, monthly, quarterly]) assert.equal(options!.spec.intervals, undefined);
});

test('each starts the drill runbook of its group on the control queue, overlap SKIP, a missed run dropped after an hour', () => {
  const [options] = drillScheduleOptions(configWith([entry('monthly', { site: 'sg', requestedBy: 'ops-lead' })], 'Europe/London'));
  assert.equal(options!.scheduleId, 'drill-monthly-drill');
  assert.deepEqual(options!.policies, { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: 3_600_000 });
  assert.deepEqual(options!.memo, { drill: 'monthly-drill' });
  assert.equal(options!.spec.timezone, 'Europe/London');
  assert.deepEqual(options!.action, {
    type: 'startWorkflow',
    workflowType: 'drill',
    taskQueue: controlTaskQueue,
    workflowId: 'drill-trading',
    args: [
      {
        group: 'trading',
        scenario: 'power-loss',
        site: 'sg',
        requestedBy: 'ops-lead',
        reason: 'scheduled drill monthly-drill (monthly sat 02:30 Europe/London)',
      },
    ],
  });
});

test('without a site the input names none (the drill takes the primary), and the requester defaults', () => {
  const [options] = drillScheduleOptions(configWith([entry('weekly')]));
  assert.ok(options!.action.type === 'startWorkflow');
  const [input] = options!.action.args as [Record<string, unknown>];
  assert.ok(!('site' in input), JSON.stringify(input));
  assert.equal(input.requestedBy, 'drill-schedule');
  // No drills.timezone: the primary site's, tw's.
  assert.equal(options!.spec.timezone, 'Asia/Taipei');
  assert.equal(input.reason, 'scheduled drill weekly-drill (weekly sat 02:30 Asia/Taipei)');
});

test('no drill schedules, or no drills section: no schedules', () => {
  assert.deepEqual(drillScheduleOptions(configWith([])), []);
  const document = parseDocument(exampleText);
  document.delete('drills');
  assert.deepEqual(drillScheduleOptions(parseConfig(document.toString(), 'drills.yaml').config), []);
});
