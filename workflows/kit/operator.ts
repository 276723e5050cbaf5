// After the point of no return a failing step is not undone: the run waits for an operator to retry or skip
// it: signals `retry-step` / `skip-step` with { by, reason } or a signed statement (a stranger's, or an
// unsigned one where signatures are required, is recorded and ignored), or the Update `operate`, whose
// validator refuses at once what it can check, or a run that waits for no one.
import { ApplicationFailure, condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { errorText } from '../../domain/errors';
import type { Progress } from './progress';
import type { Offered, Signatures } from './signatures';

export interface OperatorAction extends Offered {
  by: string;
  reason: string;
}

export const retryStepSignal = defineSignal<[OperatorAction]>('retry-step');
export const skipStepSignal = defineSignal<[OperatorAction]>('skip-step');
export const operateUpdate = defineUpdate<string, [Partial<OperatorAction> & { action?: 'retry' | 'skip' }]>('operate');

export class OperatorDesk {
  private pending: { action: 'retry' | 'skip'; by: string; reason: string; signed?: string } | undefined;
  /** The step that waits for an operator now, if any. */
  private waitingOn: string | undefined;
  readonly actions: Array<{ step: string; action: 'retry' | 'skip'; by: string; reason: string; at: string; signed?: string }> = [];

  constructor(
    private readonly progress: Progress,
    private readonly signatures: Signatures,
  ) {
    const actions = (a: 'retry' | 'skip' | undefined) => (a ? [a] : (['retry', 'skip'] as const));
    setHandler(
      operateUpdate,
      async (a) => {
        const why = await this.take(actions(a.action), a);
        if (why) throw ApplicationFailure.nonRetryable(why, 'Refused');
        return `${this.pending!.action}-step of '${this.waitingOn}' accepted from ${this.pending!.by}`;
      },
      {
        validator: (a) => {
          if (a?.action !== undefined && a.action !== 'retry' && a.action !== 'skip')
            throw new Error(`action must be 'retry' or 'skip', not '${a.action}'`);
          if (!a?.signed && !a?.action) throw new Error("action must be 'retry' or 'skip'");
          if (!this.waitingOn) throw new Error(`the run is ${progress.view.status}, not waiting for an operator`);
          const why = this.signatures.precheck(a, { action: 'step', step: this.waitingOn, decisions: actions(a.action) });
          if (why) throw new Error(why);
        },
      },
    );
    setHandler(retryStepSignal, (a) => void this.take(['retry'], a));
    setHandler(skipStepSignal, (a) => void this.take(['skip'], a));
  }

  /** Verifies and records an operator's action; the reason it was refused, if it was. */
  private async take(decisions: readonly ('retry' | 'skip')[], a: Offered): Promise<string | undefined> {
    const verdict = await this.signatures.accept(a, { action: 'step', step: this.waitingOn, decisions }, decisions[0]!);
    if (typeof verdict === 'string') {
      this.progress.note(`${decisions.join('/')}-step from '${a?.signed ? 'a signed statement' : a?.by}' ignored: ${verdict}`);
      return verdict;
    }
    this.pending = {
      action: verdict.decision as 'retry' | 'skip',
      by: verdict.by,
      reason: verdict.reason,
      ...(verdict.signature ? { signed: verdict.signature.fingerprint } : {}),
    };
    return undefined;
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
        this.progress.view.waitingAt = name;
        await condition(() => this.pending !== undefined);
        this.waitingOn = undefined;
        delete this.progress.view.waitingAt;
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
