// After the point of no return a failing step is not undone: the run waits for an operator to retry or skip
// it: signals `retry-step` / `skip-step` with { by, reason } (a stranger's is recorded and ignored), or the
// Update `operate`, whose validator refuses a stranger, or a run that waits for no one, at once.
import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { errorText } from '../../domain/errors';
import type { Progress } from './progress';
import type { Plan } from '../../domain/plan';

export interface OperatorAction {
  by: string;
  reason: string;
}

export const retryStepSignal = defineSignal<[OperatorAction]>('retry-step');
export const skipStepSignal = defineSignal<[OperatorAction]>('skip-step');
export const operateUpdate = defineUpdate<string, [OperatorAction & { action: 'retry' | 'skip' }]>('operate');

export class OperatorDesk {
  private pending: { action: 'retry' | 'skip'; by: string; reason: string } | undefined;
  /** The step that waits for an operator now, if any. */
  private waitingOn: string | undefined;
  readonly actions: Array<{ step: string; action: 'retry' | 'skip'; by: string; reason: string; at: string }> = [];

  constructor(
    private readonly plan: Plan,
    private readonly progress: Progress,
  ) {
    const take = (action: 'retry' | 'skip') => (a: OperatorAction) => {
      if (!a?.by || !plan.approval.approvers.includes(a.by)) {
        progress.note(`${action}-step from '${a?.by}' ignored: not an approver`);
        return;
      }
      this.pending = { action, by: a.by, reason: a.reason };
    };
    setHandler(operateUpdate, (a) => (take(a.action)(a), `${a.action}-step of '${this.waitingOn}' accepted from ${a.by}`), {
      validator: (a) => {
        if (a?.action !== 'retry' && a?.action !== 'skip') throw new Error(`action must be 'retry' or 'skip', not '${a?.action}'`);
        if (!a.by || !plan.approval.approvers.includes(a.by)) {
          throw new Error(`'${a.by}' is not an approver (approvers: ${plan.approval.approvers.join(', ') || 'none configured'})`);
        }
        if (!this.waitingOn) throw new Error(`the run is ${progress.view.status}, not waiting for an operator`);
      },
    });
    setHandler(retryStepSignal, take('retry'));
    setHandler(skipStepSignal, take('skip'));
  }

  /** Runs a roll-forward step until it succeeds or an operator skips it. */
  async rollForward<T>(name: string, fn: () => Promise<T>, detailOf?: (r: T) => Record<string, unknown>): Promise<T | undefined> {
    for (;;) {
      try {
        return await this.progress.run(name, fn, detailOf);
      } catch (err) {
        this.progress.view.status = 'needs-operator';
        this.progress.note(`step '${name}' failed after the point of no return: ${errorText(err)}. Waiting for retry-step or skip-step.`);
        this.pending = undefined;
        this.waitingOn = name;
        await condition(() => this.pending !== undefined);
        this.waitingOn = undefined;
        const p = this.pending!;
        this.actions.push({ step: name, ...p, at: new Date().toISOString() });
        this.progress.view.status = 'running';
        if (p.action === 'skip') {
          this.progress.skip(name, `skipped by ${p.by}: ${p.reason}`);
          return undefined;
        }
        this.progress.note(`retrying '${name}' (${p.by}: ${p.reason})`);
      }
    }
  }
}
