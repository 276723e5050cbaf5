// The project's pinned Temporal binaries, used through @temporalio/testing with existing-path: no download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import '../helpers/quiet';
import { projectBinary } from '../helpers/binaries';

const HOUR = 3_600_000;

test('time-skipping server: a 1-hour timer completes without waiting an hour', async () => {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal-test-server') } },
  });
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'timer',
      workflowsPath: require.resolve('../workflows/timer'),
    });
    const wall0 = process.hrtime.bigint();
    const r = await worker.runUntil(env.client.workflow.execute('sleepFor', { args: [HOUR], taskQueue: 'timer', workflowId: 'sleep-1h' }));
    const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;
    // Workflow time moved a full hour; wall time is printed for the reader, not asserted.
    assert.ok(r.workflowElapsedMs >= HOUR, `workflow clock advanced ${r.workflowElapsedMs} ms`);
    console.log(`1-hour timer: workflow clock +${r.workflowElapsedMs} ms, wall clock ${wallMs.toFixed(0)} ms`);
  } finally {
    await env.teardown();
  }
});

test('local dev server (createLocal with the pinned temporal CLI) runs a workflow', async () => {
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: projectBinary('temporal') }, ip: '127.0.0.1' },
  });
  try {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'timer',
      workflowsPath: require.resolve('../workflows/timer'),
    });
    const r = await worker.runUntil(env.client.workflow.execute('sleepFor', { args: [10], taskQueue: 'timer', workflowId: 'sleep-10ms' }));
    assert.ok(r.workflowElapsedMs >= 10);
  } finally {
    await env.teardown();
  }
});
