// Replays the saved histories of real runs against today's workflow code: a change that would break
// running workflows (non-determinism) fails here. Regenerate with DR_SAVE_HISTORIES=1 npm test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import '../helpers/quiet';
import { HISTORIES } from '../helpers/histories';
import { TEST_CONFIG } from '../helpers/lab';
import { loadConfig } from '../../config/load';
import { ENCRYPTED } from '../../activities/payload-codec';
import { temporalAccess } from '../../activities/temporal-access';

test('saved failover and preflight histories replay without non-determinism', async () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.history.pb'));
  assert.ok(files.length >= 5, `expected the saved histories in ${HISTORIES}, found ${files.length}`);
  const idOf = (f: string) => {
    const file = join(HISTORIES, f.replace(/\.history\.pb$/, '.workflow-id'));
    return existsSync(file) ? readFileSync(file, 'utf8').trim() : f;
  };
  const histories = files.map((f) => ({ workflowId: idOf(f), history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES, f))) }));
  // Histories saved from the test lab since encryption is on hold ciphertext: the lab's key (committed for this) reads them.
  const { dataConverter } = temporalAccess(loadConfig(TEST_CONFIG));
  const encrypted = files.filter((f) => readFileSync(join(HISTORIES, f)).includes(ENCRYPTED));
  assert.ok(encrypted.length >= 1, 'at least one saved history was recorded with encryption on');
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows'), dataConverter }, histories)) {
    assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
    replayed++;
  }
  assert.equal(replayed, files.length);
});
