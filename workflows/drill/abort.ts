// Abort: the Update `abort` { by, reason } or a signed statement. Its validator accepts only approvers (signed
// ones where the plan requires it), and only while the scenario runs; the handler stops the scenario at the
// step it is in, and the drill goes on to its cleanup.
import { ApplicationFailure, CancellationScope, defineUpdate, setHandler } from '@temporalio/workflow';
import type { Progress } from '../kit/progress';
import type { Offered, Signatures } from '../kit/signatures';

export interface AbortRequest extends Offered {
  by: string;
  reason: string;
}

export const abortUpdate = defineUpdate<string, [AbortRequest]>('abort');

const EXPECT = { action: 'abort', decisions: ['abort'] } as const;

export class AbortDesk {
  aborted: { by: string; reason: string; at: string; step: string } | null = null;
  /** The scenario's scope while it runs; null once cleanup has begun. */
  private scenario: CancellationScope | null = null;

  constructor(
    private readonly progress: Progress,
    private readonly signatures: Signatures,
  ) {
    setHandler(abortUpdate, (a) => this.abort(a), {
      validator: (a) => {
        if (!a?.signed && (!a || typeof a.by !== 'string' || !a.by || typeof a.reason !== 'string' || !a.reason))
          throw new Error('abort needs { by, reason }');
        const why = this.signatures.precheck(a, EXPECT) ?? this.whyTooLate();
        if (why) throw new Error(why);
      },
    });
  }

  private whyTooLate(): string | undefined {
    if (this.aborted) return `already aborted by ${this.aborted.by} at ${this.aborted.at}`;
    if (!this.scenario) return 'the scenario is over: the drill is cleaning up or finished, and cleanup cannot be aborted';
    return undefined;
  }

  private async abort(a: AbortRequest): Promise<string> {
    const verdict = await this.signatures.accept(a, EXPECT, 'abort');
    const why = typeof verdict === 'string' ? verdict : this.whyTooLate();
    if (why || typeof verdict === 'string') throw ApplicationFailure.nonRetryable(why!, 'Refused');
    const step = this.progress.view.steps.find((s) => s.state === 'running' || s.state === 'waiting')?.name ?? 'between steps';
    this.aborted = { by: verdict.by, reason: verdict.reason, at: new Date().toISOString(), step };
    this.progress.note(`aborted by ${verdict.by} during '${step}': ${verdict.reason}; going to cleanup`);
    this.scenario?.cancel();
    return `abort accepted from ${verdict.by}: the drill stops at '${step}' and cleans up`;
  }

  /** Runs the scenario in a scope that an abort (or a cancellation of the workflow) cancels. */
  async scenarioScope(fn: () => Promise<void>): Promise<void> {
    const scope = new CancellationScope();
    this.scenario = scope;
    try {
      await scope.run(fn);
    } finally {
      this.scenario = null;
    }
  }
}
