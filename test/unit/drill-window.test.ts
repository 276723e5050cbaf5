// The drill window: read in the drills' time zone (DST included), start inside and end outside, holidays
// refused, and no windows meaning any time.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { DrillPlan } from '../../domain/drill';
import { drillWindow } from '../../domain/drill-window';

/** Drill settings with the given zone, windows and holidays; the rest does not matter here. */
function drills(timezone: string, windows: DrillPlan['windows'], holidays: string[] = []): DrillPlan {
  return {
    timezone,
    windows,
    holidays,
    injector: 'manual',
    stream: { ratePerSecond: 20 },
    settleMs: 2000,
    regressionShare: 0.2,
    cities: {},
  };
}

const at = (iso: string): number => Date.parse(iso);
const saturdayNight = drills('Asia/Taipei', [{ days: ['sat'], start: '01:00', end: '05:00' }], ['2026-02-14']);

test('inside the window: the local time and the window it is in', () => {
  // 18:13 UTC on Friday is 02:13 on Saturday in Taipei (UTC+8).
  assert.deepEqual(drillWindow(at('2026-12-04T18:13:00Z'), saturdayNight), {
    inside: true,
    localTime: 'Sat 2026-12-05 02:13 Asia/Taipei',
    why: 'inside the window sat 01:00-05:00',
  });
});

test('outside every window: each window is listed', () => {
  const two = drills('Asia/Taipei', [
    { days: ['sat'], start: '01:00', end: '05:00' },
    { days: ['sun', 'wed'], start: '22:00', end: '23:30' },
  ]);
  const check = drillWindow(at('2026-12-05T06:00:00Z'), two); // Saturday 14:00 in Taipei
  assert.equal(check.inside, false);
  assert.equal(check.localTime, 'Sat 2026-12-05 14:00 Asia/Taipei');
  assert.equal(check.why, 'outside every window: sat 01:00-05:00; sun,wed 22:00-23:30');
  assert.equal(drillWindow(at('2026-12-06T14:00:00Z'), two).why, 'inside the window sun,wed 22:00-23:30'); // Sunday 22:00
});

test('a window holds its start minute and not its end minute', () => {
  assert.equal(drillWindow(at('2026-12-04T17:00:00Z'), saturdayNight).inside, true); // 01:00
  assert.equal(drillWindow(at('2026-12-04T16:59:59Z'), saturdayNight).inside, false); // 00:59:59
  assert.equal(drillWindow(at('2026-12-04T20:59:59Z'), saturdayNight).inside, true); // 04:59:59
  assert.equal(drillWindow(at('2026-12-04T21:00:00Z'), saturdayNight).inside, false); // 05:00
});

test("the day boundary is the zone's: Friday 17:30 UTC is Saturday 01:30 in Taipei", () => {
  const inTaipei = drillWindow(at('2026-12-04T17:30:00Z'), saturdayNight);
  assert.equal(inTaipei.inside, true);
  assert.equal(inTaipei.localTime, 'Sat 2026-12-05 01:30 Asia/Taipei');
  const inUtc = drillWindow(at('2026-12-04T17:30:00Z'), drills('UTC', saturdayNight.windows));
  assert.equal(inUtc.inside, false);
  assert.equal(inUtc.localTime, 'Fri 2026-12-04 17:30 UTC');
});

test('a holiday is refused even inside a window, by its local date', () => {
  // Saturday 2026-02-14 02:00 in Taipei is still Friday the 13th in UTC.
  const check = drillWindow(at('2026-02-13T18:00:00Z'), saturdayNight);
  assert.equal(check.inside, false);
  assert.equal(check.localTime, 'Sat 2026-02-14 02:00 Asia/Taipei');
  assert.match(check.why, /2026-02-14 is a holiday/);
  // The next Saturday is no holiday.
  assert.equal(drillWindow(at('2026-02-20T18:00:00Z'), saturdayNight).inside, true);
});

test('no windows: any time is inside, but not a holiday', () => {
  const anyTime = drills('Asia/Taipei', [], ['2026-12-25']);
  const check = drillWindow(at('2026-12-02T03:04:00Z'), anyTime);
  assert.equal(check.inside, true);
  assert.match(check.why, /no drill windows/);
  assert.equal(drillWindow(at('2026-12-25T03:04:00Z'), anyTime).inside, false);
});

test("an end of '24:00' holds the day's last minute, and not the next day", () => {
  const evening = drills('UTC', [{ days: ['fri'], start: '20:00', end: '24:00' }]);
  assert.equal(drillWindow(at('2026-12-04T23:59:00Z'), evening).inside, true);
  assert.equal(drillWindow(at('2026-12-04T20:00:00Z'), evening).inside, true);
  assert.equal(drillWindow(at('2026-12-05T00:00:00Z'), evening).inside, false); // Saturday 00:00
});

test('a zone with DST: Europe/London in and around its changes', () => {
  // 29 March 2026: at 01:00 UTC the clocks go from 01:00 GMT to 02:00 BST.
  const spring = drills('Europe/London', [{ days: ['sun'], start: '02:00', end: '03:00' }]);
  assert.equal(drillWindow(at('2026-03-29T00:59:00Z'), spring).localTime, 'Sun 2026-03-29 00:59 Europe/London');
  assert.equal(drillWindow(at('2026-03-29T00:59:00Z'), spring).inside, false);
  assert.equal(drillWindow(at('2026-03-29T01:00:00Z'), spring).localTime, 'Sun 2026-03-29 02:00 Europe/London');
  assert.equal(drillWindow(at('2026-03-29T01:00:00Z'), spring).inside, true);
  assert.equal(drillWindow(at('2026-03-29T01:59:00Z'), spring).inside, true);
  assert.equal(drillWindow(at('2026-03-29T02:00:00Z'), spring).inside, false); // 03:00 BST
  // 25 October 2026: at 01:00 UTC the clocks go back from 02:00 BST to 01:00 GMT, so 01:00-02:00 comes twice.
  const autumn = drills('Europe/London', [{ days: ['sun'], start: '01:00', end: '02:00' }]);
  assert.equal(drillWindow(at('2026-10-24T23:59:00Z'), autumn).inside, false); // 00:59 BST
  assert.equal(drillWindow(at('2026-10-25T00:00:00Z'), autumn).localTime, 'Sun 2026-10-25 01:00 Europe/London');
  assert.equal(drillWindow(at('2026-10-25T00:30:00Z'), autumn).inside, true); // 01:30 BST
  assert.equal(drillWindow(at('2026-10-25T01:30:00Z'), autumn).localTime, 'Sun 2026-10-25 01:30 Europe/London');
  assert.equal(drillWindow(at('2026-10-25T01:30:00Z'), autumn).inside, true); // 01:30 GMT
  assert.equal(drillWindow(at('2026-10-25T02:00:00Z'), autumn).inside, false); // 02:00 GMT
  // In summer the window is an hour earlier in UTC than in winter.
  const summer = drills('Europe/London', [{ days: ['sat'], start: '01:00', end: '05:00' }]);
  assert.equal(drillWindow(at('2026-07-04T00:30:00Z'), summer).inside, true); // 01:30 BST
  assert.equal(drillWindow(at('2026-12-05T00:30:00Z'), summer).inside, false); // 00:30 GMT
});
