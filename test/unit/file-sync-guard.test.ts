// The deletion guard's arithmetic and the store count the control plane records for it: when a recorded count
// may stand in for a listing of the store, and when the guard must list the store again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { guardVerdict, storeFilesAfter } from '../../activities/file-sync';
import { beginStoreWrite, readRecordedCount, readState, recordOutcome, recordedCount, RECORDED_COUNT_MAX_AGE_MS } from '../../activities/sync-state';
import { fileRpoSeconds, filesWithin } from '../../scripts/bench-kit';

test('the guard refuses a source that lost more than the share of the copy, and an override lets it through', () => {
  assert.deepEqual(guardVerdict(2500, 5000, 0.1), { lossShare: 0.5, maxDelete: 500, refused: true });
  assert.equal(guardVerdict(2500, 5000, 0.5).refused, false, 'maxDeleteShare 0.50 (the override the message names) passes');
  assert.equal(guardVerdict(4500, 5000, 0.1).refused, false, 'exactly the limit passes');
  assert.equal(guardVerdict(4499, 5000, 0.1).refused, true);
  assert.deepEqual(guardVerdict(10, 0, 0.1), { lossShare: 0, maxDelete: 0, refused: false }, 'an empty copy (first sync) has nothing to lose');
  assert.equal(guardVerdict(6000, 5000, 0.1).lossShare, 0, 'a grown source loses nothing');
});

test("the store's files after a sync are its identical, replaced and uploaded files from --combined, not the deleted ones", () => {
  assert.equal(storeFilesAfter({ '=': 4850, '*': 50, '+': 50, '-': 50 }), 4950);
  assert.equal(storeFilesAfter({}), 0);
});

const withState = (fn: (file: string) => void) => {
  const dir = mkdtempSync(join(tmpdir(), 'sync-state-'));
  try {
    fn(join(dir, 'file-sync-state.json'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};
const STORE = ":s3,provider=Other,endpoint='http://127.0.0.1:9000':dr-files/trading";
const ok = (runId: string, files: number, startedAt = new Date().toISOString()) =>
  ({
    site: 'tw',
    path: '.',
    ok: true,
    kind: 'incremental',
    startedAt,
    stats: null,
    checked: false,
    storeWrite: { store: STORE, runId, files, countedBy: runId },
  }) as const;

test('a recorded count: none at first; a sync that wrote alone records its count; the guard may then use it', () => {
  withState((file) => {
    assert.deepEqual(readRecordedCount(file, STORE), { files: null, reason: 'no count of the store is recorded yet' });
    beginStoreWrite(file, { store: STORE, runId: 'r1', at: new Date().toISOString() });
    const during = readRecordedCount(file, STORE);
    assert.equal(during.files, null);
    assert.match((during as { reason: string }).reason, /a sync \(run r1, started .*\) wrote the store and has not recorded its outcome/);
    recordOutcome(file, ok('r1', 5000));
    assert.equal(readRecordedCount(file, STORE).files, 5000);
    assert.deepEqual(readState(file).stores![STORE]!.writing, {});
  });
});

test('a failed sync, a sync that never recorded, and overlapping syncs leave the count unknown: the guard lists the store', () => {
  withState((file) => {
    beginStoreWrite(file, { store: STORE, runId: 'r1', at: new Date().toISOString() });
    recordOutcome(file, ok('r1', 5000));
    // Failed part-way: it may have deleted or uploaded some files.
    beginStoreWrite(file, { store: STORE, runId: 'r2', at: new Date().toISOString() });
    recordOutcome(file, { site: 'tw', path: '.', ok: false, at: new Date().toISOString(), error: 'boom', storeWrite: { store: STORE, runId: 'r2' } });
    assert.deepEqual(readRecordedCount(file, STORE), { files: null, reason: 'the last sync that wrote the store did not finish with a count' });
    // Two syncs overlap (the nightly full beside an incremental): the first to finish may not record.
    beginStoreWrite(file, { store: STORE, runId: 'r3', at: new Date().toISOString() });
    beginStoreWrite(file, { store: STORE, runId: 'r4', at: new Date().toISOString() });
    recordOutcome(file, ok('r3', 5000));
    assert.match((readRecordedCount(file, STORE) as { reason: string }).reason, /run r4/);
    recordOutcome(file, ok('r4', 5001));
    assert.equal(readRecordedCount(file, STORE).files, null, 'r3 finished while r4 wrote: r4 did not write alone either');
    beginStoreWrite(file, { store: STORE, runId: 'r5', at: new Date().toISOString() });
    recordOutcome(file, ok('r5', 5002));
    assert.equal(readRecordedCount(file, STORE).files, 5002);
    // A sync killed with its workflow never records: its entry keeps the count void.
    beginStoreWrite(file, { store: STORE, runId: 'r6', at: new Date().toISOString() });
    assert.equal(readRecordedCount(file, STORE).files, null);
  });
});

test('a run whose guard refused never began writing: its failure leaves the recorded count as it was', () => {
  withState((file) => {
    beginStoreWrite(file, { store: STORE, runId: 'r1', at: new Date().toISOString() });
    recordOutcome(file, ok('r1', 5000));
    recordOutcome(file, {
      site: 'tw',
      path: '.',
      ok: false,
      at: new Date().toISOString(),
      error: 'deletion guard',
      storeWrite: { store: STORE, runId: 'r2' },
    });
    recordOutcome(file, { site: 'tw', path: '.', ok: false, at: new Date().toISOString(), error: 'deletion guard' });
    assert.equal(readRecordedCount(file, STORE).files, 5000);
    assert.equal(readState(file).paths['tw:.']!.consecutiveFailures, 2);
  });
});

test('a recorded count older than a day is not used', () => {
  const now = new Date('2026-12-02T12:00:00Z');
  const rec = { files: 5000, countedAt: '2026-12-01T11:59:00Z', countedBy: 'x', writing: {} };
  assert.match((recordedCount(rec, now) as { reason: string }).reason, /older than 24 h/);
  assert.equal(recordedCount({ ...rec, countedAt: new Date(now.getTime() - RECORDED_COUNT_MAX_AGE_MS + 1000).toISOString() }, now).files, 5000);
  assert.equal(recordedCount({ ...rec, countedAt: 'garbage' }, now).files, null);
});

test('the file RPO of a 5-minute schedule, and where a run stops fitting in it', () => {
  assert.equal(fileRpoSeconds(20, 300), 320);
  assert.equal(fileRpoSeconds(300, 300), 600);
  assert.equal(fileRpoSeconds(301, 300), 901, 'a run over the interval skips a tick');
  assert.deepEqual(filesWithin([{ files: 100_000, seconds: 20 }], 300).files, 1_500_000);
  const two = filesWithin(
    [
      { files: 1_000_000, seconds: 210 },
      { files: 100_000, seconds: 20 },
    ],
    300,
  );
  assert.equal(two.files, 1_426_315);
  assert.match(two.model, /through 100000 and 1000000 files/);
  assert.equal(filesWithin([], 300).files, null);
});
