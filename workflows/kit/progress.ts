// Step bookkeeping behind the `progress` query, and the timeline a report is written from.
import { defineQuery, setHandler } from '@temporalio/workflow';
import type { ProgressView, StepRecord } from '../../domain/steps';
import { errorText } from '../../domain/errors';

export const progressQuery = defineQuery<ProgressView>('progress');

/** What compensations record themselves as: `undo: <what>`. */
export type UndoStep = `undo: ${string}`;

/**
 * A runbook's steps, named in a union (its `..._STEPS` list), so that a step that is not in the runbook is a
 * type error. Compensations may add `undo: …` steps.
 */
export class Progress<Step extends string = string> {
  readonly view: ProgressView;

  constructor(runbook: string, stepNames: readonly Step[] = []) {
    this.view = { runbook, status: 'running', steps: stepNames.map((name) => ({ name, state: 'pending' })), notes: [] };
    setHandler(progressQuery, () => this.view);
  }

  step(name: Step | UndoStep): StepRecord {
    let s = this.view.steps.find((x) => x.name === name);
    if (!s) {
      s = { name, state: 'pending' };
      this.view.steps.push(s);
    }
    return s;
  }

  /** Runs one step, recording its timing, result detail and failure. */
  async run<T>(name: Step | UndoStep, fn: (s: StepRecord) => Promise<T>, detailOf?: (result: T) => Record<string, unknown>): Promise<T> {
    const s = this.step(name);
    s.state = 'running';
    s.startedAt = new Date().toISOString();
    s.attempts = (s.attempts ?? 0) + 1;
    const t0 = Date.now();
    try {
      const result = await fn(s);
      s.state = 'done';
      if (detailOf) s.detail = { ...s.detail, ...detailOf(result) };
      return result;
    } catch (err) {
      s.state = 'failed';
      s.error = errorText(err);
      throw err;
    } finally {
      s.endedAt = new Date().toISOString();
      s.durationMs = Date.now() - t0;
    }
  }

  skip(name: Step, why: string): void {
    const s = this.step(name);
    s.state = 'skipped';
    s.detail = { ...s.detail, skipped: why };
  }

  note(text: string): void {
    this.view.notes.push(`${new Date().toISOString()} ${text}`);
  }
}
