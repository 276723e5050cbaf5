// Step names are a typed union per runbook: the lists are what `progress` shows before a run starts, and a
// step that is not in the list does not compile (checked by the type check that npm test runs first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAILOVER_STEPS, type FailoverStep } from '../../workflows/failover';
import { FAILBACK_STEPS, type FailbackStep } from '../../workflows/failback';
import type { Progress } from '../../workflows/kit/progress';

test('failover lists its steps in the order of its diagram, re-point, semi-sync and pause file sync included', () => {
  assert.deepEqual(
    [...FAILOVER_STEPS],
    [
      'load plan',
      'assess',
      'gate',
      'scale',
      'dns',
      'nearly caught up',
      'fence',
      'catch up',
      'lease',
      'promote',
      'route',
      'verify',
      'one writer',
      'repoint',
      'semi-sync',
      'pause file sync',
      'standby',
      'notify',
      'report',
    ],
  );
});

test('failback lists its steps in the order of its diagram', () => {
  assert.deepEqual(
    [...FAILBACK_STEPS],
    [
      'load plan',
      'assess',
      'errant',
      'errant gate',
      're-seed',
      'reprotect',
      'catch up',
      'gate',
      'switchover',
      'restore protection',
      'semi-sync',
      'resume file sync',
      'notify',
      'report',
    ],
  );
});

// Never called: tsc proves that each misnamed step is refused. If one compiled, its @ts-expect-error would fail.
export function misnamedStepsDoNotCompile(failover: Progress<FailoverStep>, failback: Progress<FailbackStep>): void {
  // Progress.skip marks a runbook step skipped; it has nothing to do with skipping tests.
  const skipFailoverStep = failover.skip.bind(failover);
  const skipFailbackStep = failback.skip.bind(failback);
  // @ts-expect-error 'promotion' is not a failover step
  void failover.run('promotion', async () => 1);
  // @ts-expect-error 're-seed' is a failback step, not a failover step
  skipFailoverStep('re-seed', 'why');
  // @ts-expect-error compensations record themselves with run, never skip
  skipFailoverStep('undo: scale sg back', 'why');
  // @ts-expect-error 'pause file sync' belongs to failover; failback resumes
  skipFailbackStep('pause file sync', 'why');
  void failover.run('undo: scale sg back', async () => 1);
}
