// Replays the saved histories of real runs against today's workflow code: a change that would break
// running workflows (non-determinism) fails here. Regenerate with DR_SAVE_HISTORIES=1 npm test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import '../helpers/quiet';
import { HISTORIES } from '../helpers/histories';

test('saved failover and preflight histories replay without non-determinism', async () => {
  const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.history.pb'));
  assert.ok(files.length >= 5, `expected the saved histories in ${HISTORIES}, found ${files.length}`);
  const histories = files.map((f) => ({ workflowId: f, history: temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES, f))) }));
  let replayed = 0;
  for await (const r of Worker.runReplayHistories({ workflowsPath: require.resolve('../../workflows') }, histories)) {
    assert.equal(r.error, undefined, `${r.workflowId}: ${r.error?.message}`);
    replayed++;
  }
  assert.equal(replayed, files.length);
});
