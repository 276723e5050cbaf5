// Abort: the Update `abort` { by, reason }. Its validator accepts only approvers, and only while the scenario
// runs; the handler stops the scenario at the step it is in, and the drill goes on to its cleanup.
import { CancellationScope, defineUpdate, setHandler } from '@temporalio/workflow';
import type { Plan } from '../../domain/plan';
import type { Progress } from '../kit/progress';

export interface AbortRequest {
  by: string;
  reason: string;
}

export const abortUpdate = defineUpdate<string, [AbortRequest]>('abort');

export class AbortDesk {
  aborted: (AbortRequest & { at: string; step: string }) | null = null;
  /** The scenario's scope while it runs; null once cleanup has begun. */
  private scenario: CancellationScope | null = null;

  constructor(plan: Plan, progress: Progress) {
    const approvers = plan.approval.approvers;
    setHandler(
      abortUpdate,
      (a) => {
        const step = progress.view.steps.find((s) => s.state === 'running' || s.state === 'waiting')?.name ?? 'between steps';
        this.aborted = { by: a.by, reason: a.reason, at: new Date().toISOString(), step };
        progress.note(`aborted by ${a.by} during '${step}': ${a.reason}; going to cleanup`);
        this.scenario?.cancel();
        return `abort accepted from ${a.by}: the drill stops at '${step}' and cleans up`;
      },
      {
        validator: (a) => {
          if (!a || typeof a.by !== 'string' || !a.by || typeof a.reason !== 'string' || !a.reason) throw new Error('abort needs { by, reason }');
          if (!approvers.includes(a.by)) throw new Error(`'${a.by}' is not an approver (approvers: ${approvers.join(', ') || 'none configured'})`);
          if (this.aborted) throw new Error(`already aborted by ${this.aborted.by} at ${this.aborted.at}`);
          if (!this.scenario) throw new Error('the scenario is over: the drill is cleaning up or finished, and cleanup cannot be aborted');
        },
      },
    );
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
