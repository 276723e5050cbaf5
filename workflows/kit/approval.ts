// Approval: signals `approve` / `reject` (Temporal UI, `temporal workflow signal`), and the Update `decide`
// whose validator refuses at once what it can check. A decision is a plain { by, reason } or, where the plan
// requires it, a statement signed with the approver's key (see signatures.ts). A gate may need several distinct
// approvers (the two-person rule); one rejection is enough to stop it. Refused decisions are recorded and ignored.
import { ApplicationFailure, condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import type { ControlDecision } from '../../domain/approval-statement';
import { quorumFor, type Plan, type QuorumKind } from '../../domain/plan';
import type { Progress } from './progress';
import { Signatures, type Accepted, type Expect, type Offered } from './signatures';

export interface Decision extends Offered {
  by: string;
  reason: string;
  /** Explicitly accepts a loss over the RPO budget. */
  acceptLoss?: boolean;
}

export interface DecideInput extends Partial<Decision> {
  /** Optional with a signed statement, which names its own decision. */
  decision?: 'approve' | 'reject';
  signed?: Offered['signed'];
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
  /** Every decision that counted, signed or not, in the order it came. */
  approvals?: Accepted[];
}

export class ApprovalGate {
  readonly signatures: Signatures;
  private approvals: Accepted[] = [];
  private rejection: Accepted | undefined;
  private lossOverBudget = false;
  /** The gate that waits now, and how many distinct approvers it needs. */
  private waiting: { step: string; needed: number } | undefined;

  constructor(
    private readonly plan: Plan,
    private readonly progress: Progress,
  ) {
    this.signatures = new Signatures(plan);
    setHandler(approveSignal, (d) => void this.offer(['approve'], 'approve', d));
    setHandler(rejectSignal, (d) => void this.offer(['reject'], 'reject', d));
    setHandler(
      decideUpdate,
      async (d) => {
        const why = await this.offer(d.decision ? [d.decision] : ['approve', 'reject'], d.decision ?? 'approve', d);
        if (why) throw ApplicationFailure.nonRetryable(why, 'Refused');
        return this.standing();
      },
      {
        validator: (d) => {
          const why = this.whyRefused(d.decision ? [d.decision] : ['approve', 'reject'], d);
          if (why) throw new Error(why);
        },
      },
    );
  }

  get refused() {
    return this.signatures.refused;
  }

  isApprover(by: string): boolean {
    return this.plan.approval.approvers.includes(by);
  }

  private expect(decisions: ControlDecision[]): Expect {
    return { action: 'gate', step: this.waiting?.step, decisions };
  }

  private whyRefused(decisions: ControlDecision[], d: Offered): string | undefined {
    const why = this.signatures.precheck(d, this.expect(decisions));
    if (why || d.signed) return why;
    if (decisions.length === 1 && decisions[0] === 'approve' && this.lossOverBudget && !d.acceptLoss)
      return `the estimated loss exceeds the RPO budget: approve with acceptLoss: true to accept it`;
    return undefined;
  }

  /** Verifies and records a decision; the reason it was refused, if it was. */
  private async offer(decisions: ControlDecision[], plain: ControlDecision, d: Offered): Promise<string | undefined> {
    const loss = !d?.signed && this.whyRefused(decisions, d);
    const verdict = loss ? loss : await this.signatures.accept(d, this.expect(decisions), plain);
    if (typeof verdict === 'string') {
      if (loss) this.signatures.refused.push({ by: d?.by ?? '?', reason: d?.reason ?? '', why: loss, at: new Date().toISOString() });
      this.progress.note(`${plain} from '${d?.signed ? 'a signed statement' : d?.by}' ignored: ${verdict}`);
      return verdict;
    }
    if (verdict.decision === 'approve' && this.lossOverBudget && !verdict.acceptLoss) {
      const why = 'the estimated loss exceeds the RPO budget: approve with acceptLoss: true to accept it';
      this.signatures.refused.push({ by: verdict.by, reason: verdict.reason, why, at: verdict.at });
      this.progress.note(`approve from '${verdict.by}' ignored: ${why}`);
      return why;
    }
    this.take(verdict);
    return undefined;
  }

  private take(a: Accepted): void {
    if (this.rejection || this.enough()) return; // the gate has its answer; a late decision changes nothing
    const signed = a.signature ? ` (signed, key ${a.signature.fingerprint})` : '';
    if (a.decision === 'reject') {
      this.rejection = a;
      this.progress.note(`reject by ${a.by}${signed}: ${a.reason}`);
    } else if (this.approvals.some((x) => x.by === a.by)) {
      this.progress.note(`approve by ${a.by} again: it counts once. ${this.standing()}`);
    } else {
      this.approvals.push(a);
      this.progress.note(`approve by ${a.by}${signed}: ${a.reason}`);
    }
    this.show();
  }

  private needed(): number {
    return this.waiting?.needed ?? 1;
  }

  private enough(): boolean {
    return this.approvals.length >= this.needed();
  }

  private standing(): string {
    const left = this.plan.approval.approvers.filter((n) => !this.approvals.some((a) => a.by === n));
    if (this.rejection) return `rejected by ${this.rejection.by}`;
    if (this.enough()) return `approved by ${this.approvals.map((a) => a.by).join(' and ')}`;
    return `${this.approvals.length} of ${this.needed()} approval(s); still needed: ${this.needed() - this.approvals.length} more of ${left.join(', ')}`;
  }

  /** The gate's step shows who has signed and who is still needed. */
  private show(): void {
    if (!this.waiting) return;
    const s = this.progress.step(this.waiting.step);
    s.detail = {
      ...s.detail,
      needed: this.needed(),
      approvals: this.approvals.map((a) => ({ by: a.by, at: a.at, signed: a.signature?.fingerprint ?? null })),
      standing: this.standing(),
    };
  }

  /**
   * Waits for the policy: auto, manual (enough decisions), or auto-after (proceed at the timeout unless
   * rejected). A runbook with more than one gate names each gate's step, may insist on a person (policy
   * 'manual'), and calls next() between gates so that one decision never answers two questions. `decided`
   * records a decision already taken elsewhere (a parent runbook's gate) instead of asking again. `quorum`
   * names the kinds of decision this is (an unplanned failover, discarding errant transactions, …).
   */
  async request(
    req: ApprovalRequest,
    preApproved?: Decision,
    opts: { step?: string; policy?: Plan['approval']['policy']; decided?: ApprovalOutcome; quorum?: QuorumKind[] } = {},
  ): Promise<ApprovalOutcome> {
    this.lossOverBudget = req.lossOverBudget;
    const policy = opts.policy ?? this.plan.approval.policy;
    const step = opts.step ?? 'gate';
    const needed = quorumFor(this.plan, [...(opts.quorum ?? []), ...(req.lossOverBudget ? (['lossOverBudget'] as const) : [])]);
    this.waiting = { step, needed };
    // Decisions signed for another gate, offered before this one opened, answer nothing here.
    this.approvals = this.approvals.filter((a) => !a.signature || a.signature.step === step);
    const s = this.progress.step(step);
    s.detail = { ...s.detail, request: req.detail, summary: req.summary, policy, ...(needed > 1 ? { needed } : {}) };
    if (opts.decided) return opts.decided;
    if (preApproved && !this.whyRefused(['approve'], preApproved)) {
      if (needed <= 1)
        return { decision: 'approved', how: 'auto', by: preApproved.by, reason: preApproved.reason, lossAccepted: !!preApproved.acceptLoss };
      this.take({
        by: preApproved.by,
        reason: preApproved.reason,
        decision: 'approve',
        acceptLoss: !!preApproved.acceptLoss,
        at: new Date().toISOString(),
      });
    } else if (preApproved)
      this.progress.note(`the up-front approval by ${preApproved.by} does not count: ${this.whyRefused(['approve'], preApproved)}`);
    if (policy === 'auto' && !req.lossOverBudget)
      return { decision: 'approved', how: 'auto', by: 'policy:auto', reason: 'approval policy is auto', lossAccepted: false };
    if (policy === 'auto' && req.lossOverBudget) {
      // Nobody can accept a loss for an auto policy at run time; the caller must ask for it up front.
      return { decision: 'rejected', how: 'auto', by: 'policy:auto', reason: `refused: ${req.summary}`, lossAccepted: false };
    }
    this.progress.view.status = 'waiting-approval';
    this.progress.view.waitingAt = step;
    this.show();
    const autoAfter = policy === 'auto-after' && !req.lossOverBudget ? this.plan.approval.afterMs! : undefined;
    const answered = await condition(() => this.rejection !== undefined || this.enough(), autoAfter ?? '3650 days');
    this.progress.view.status = 'running';
    delete this.progress.view.waitingAt;
    if (!answered)
      return { decision: 'approved', how: 'timeout', by: 'policy:auto-after', reason: `no rejection within ${autoAfter} ms`, lossAccepted: false };
    return this.outcome();
  }

  private outcome(): ApprovalOutcome {
    const r = this.rejection;
    if (r) return { decision: 'rejected', how: 'signal', by: r.by, reason: r.reason, lossAccepted: false, approvals: [...this.approvals, r] };
    const a = this.approvals;
    const many = a.length > 1;
    return {
      decision: 'approved',
      how: 'signal',
      by: a.map((x) => x.by).join(' and '),
      reason: many ? a.map((x) => `${x.by}: ${x.reason}`).join('; ') : a[0]!.reason,
      lossAccepted: a.every((x) => x.acceptLoss),
      ...(many || a.some((x) => x.signature) ? { approvals: a } : {}),
    };
  }

  /** Forgets the decisions taken at the previous gate. */
  next(): void {
    this.approvals = [];
    this.rejection = undefined;
    this.lossOverBudget = false;
    this.waiting = undefined;
  }
}
