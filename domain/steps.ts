// A runbook's steps as the `progress` query shows them and a report is written from.
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'waiting';

export interface StepRecord {
  name: string;
  state: StepState;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  attempts?: number;
  /** What the step did: GTID sets, change ids, previous values. Enough to write a report from history. */
  detail?: Record<string, unknown>;
  error?: string;
}

export interface ProgressView {
  runbook: string;
  status: 'running' | 'waiting-approval' | 'needs-operator' | 'completed' | 'failed' | 'compensated';
  steps: StepRecord[];
  notes: string[];
  /** The gate or failed step that waits for a person now: what a signed decision names as its `step`. */
  waitingAt?: string;
}
