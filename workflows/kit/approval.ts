// Approval: signals `approve` / `reject` (Temporal UI, `temporal workflow signal`), and the Update `decide`
// whose validator refuses unknown approvers synchronously. Unknown approvers on signals are recorded and ignored.
import { condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import type { Progress } from './progress';
import type { Plan } from '../../domain/plan';

export interface Decision {
  by: string;
  reason: string;
  /** Explicitly accepts a loss over the RPO budget. */
  acceptLoss?: boolean;
}

export interface DecideInput extends Decision {
  decision: 'approve' | 'reject';
}

export const approveSignal = defineSignal<[Decision]>('approve');
export const rejectSignal = defineSignal<[Decision]>('reject');
export const decideUpdate = defineUpdate<string, [DecideInput]>('decide');

export interface ApprovalRequest {
  /** What the approver is asked to accept: lag, GTID gap, what will change. */
  summary: string;
  detail: Record<string, unknown>;
  lossOverBudget: boolean;
}

export interface ApprovalOutcome {
  decision: 'approved' | 'rejected';
  how: 'auto' | 'signal' | 'timeout';
  by: string;
  reason: string;
  lossAccepted: boolean;
}

export class ApprovalGate {
  private decided: (Decision & { decision: 'approve' | 'reject'; at: string }) | undefined;
  readonly refused: Array<Decision & { at: string; why: string }> = [];
  private lossOverBudget = false;

  constructor(
    private readonly plan: Plan,
    private readonly progress: Progress,
  ) {
    setHandler(approveSignal, (d) => void this.offer('approve', d));
    setHandler(rejectSignal, (d) => void this.offer('reject', d));
    setHandler(decideUpdate, (d) => this.offer(d.decision, d) ?? `${d.decision} recorded from ${d.by}`, {
      validator: (d) => {
        const why = this.whyRefused(d.decision, d);
        if (why) throw new Error(why);
      },
    });
  }

  isApprover(by: string): boolean {
    return this.plan.approval.approvers.includes(by);
  }

  private whyRefused(decision: 'approve' | 'reject', d: Decision): string | undefined {
    if (!d || typeof d.by !== 'string' || !d.by) return 'a decision needs { by, reason }';
    if (!this.isApprover(d.by)) return `'${d.by}' is not an approver (approvers: ${this.plan.approval.approvers.join(', ') || 'none configured'})`;
    if (decision === 'approve' && this.lossOverBudget && !d.acceptLoss)
      return `the estimated loss exceeds the RPO budget: approve with acceptLoss: true to accept it`;
    return undefined;
  }

  private offer(decision: 'approve' | 'reject', d: Decision): string | undefined {
    const why = this.whyRefused(decision, d);
    const at = new Date().toISOString();
    if (why) {
      this.refused.push({ ...d, at, why });
      this.progress.note(`${decision} from '${d?.by}' ignored: ${why}`);
      return why;
    }
    if (!this.decided) {
      this.decided = { ...d, decision, at };
      this.progress.note(`${decision} by ${d.by}: ${d.reason}`);
    }
    return undefined;
  }

  /**
   * Waits for the policy: auto, manual (a decision), or auto-after (proceed at the timeout unless rejected).
   * A runbook with more than one gate names each gate's step, may insist on a person (policy 'manual'),
   * and calls next() between gates so that one decision never answers two questions. `decided` records a
   * decision already taken elsewhere (a parent runbook's gate) instead of asking again.
   */
  async request(
    req: ApprovalRequest,
    preApproved?: Decision,
    opts: { step?: string; policy?: Plan['approval']['policy']; decided?: ApprovalOutcome } = {},
  ): Promise<ApprovalOutcome> {
    this.lossOverBudget = req.lossOverBudget;
    const policy = opts.policy ?? this.plan.approval.policy;
    const step = this.progress.step(opts.step ?? 'gate');
    step.detail = { ...step.detail, request: req.detail, summary: req.summary, policy };
    if (opts.decided) return opts.decided;
    if (preApproved && !this.whyRefused('approve', preApproved)) {
      return { decision: 'approved', how: 'auto', by: preApproved.by, reason: preApproved.reason, lossAccepted: !!preApproved.acceptLoss };
    }
    if (policy === 'auto' && !req.lossOverBudget)
      return { decision: 'approved', how: 'auto', by: 'policy:auto', reason: 'approval policy is auto', lossAccepted: false };
    if (policy === 'auto' && req.lossOverBudget) {
      // Nobody can accept a loss for an auto policy at run time; the caller must ask for it up front.
      return { decision: 'rejected', how: 'auto', by: 'policy:auto', reason: `refused: ${req.summary}`, lossAccepted: false };
    }
    this.progress.view.status = 'waiting-approval';
    const autoAfter = policy === 'auto-after' && !req.lossOverBudget ? this.plan.approval.afterMs! : undefined;
    const gotDecision = await condition(() => this.decided !== undefined, autoAfter ?? '3650 days');
    this.progress.view.status = 'running';
    if (!gotDecision)
      return { decision: 'approved', how: 'timeout', by: 'policy:auto-after', reason: `no rejection within ${autoAfter} ms`, lossAccepted: false };
    const d = this.decided!;
    return { decision: d.decision === 'approve' ? 'approved' : 'rejected', how: 'signal', by: d.by, reason: d.reason, lossAccepted: !!d.acceptLoss };
  }

  /** Forgets the decision taken at the previous gate. */
  next(): void {
    this.decided = undefined;
    this.lossOverBudget = false;
  }
}
