// Who may decide, and whether to believe them. A plain { by, reason } is taken on its name when the plan does
// not require signatures (and replays exactly as before). A signed statement is checked here for what the
// workflow can see (its run, its action, the step it waits at, a nonce not used before), then verified by the
// control activity against the approver's key; only then is it trusted.
import { workflowInfo } from '@temporalio/workflow';
import { isSigned, parseStatement, type ControlAction, type ControlDecision, type SignedStatement } from '../../domain/approval-statement';
import { signaturesRequired, type Plan } from '../../domain/plan';
import { control } from './sites';

/** What arrives in a signal or an Update. */
export interface Offered {
  by?: string;
  reason?: string;
  acceptLoss?: boolean;
  signed?: SignedStatement;
}

export interface Accepted {
  by: string;
  reason: string;
  decision: ControlDecision;
  acceptLoss: boolean;
  at: string;
  /** For a signed decision: the key it verified against, and the statement's own fields. */
  signature?: { fingerprint: string; issuedAt: string; nonce: string; step?: string };
}

export interface Refused {
  by: string;
  reason: string;
  why: string;
  at: string;
}

export interface Expect {
  action: ControlAction;
  /** The gate or step the run waits at, when it waits at one. */
  step?: string;
  /** The decisions this channel may carry: a signal `approve` carries only an approve. */
  decisions: readonly ControlDecision[];
}

export class Signatures {
  readonly refused: Refused[] = [];
  private readonly nonces = new Set<string>();

  constructor(private readonly plan: Plan) {}

  /** What can be refused at once (an Update validator's check): undefined when it may proceed to verification. */
  precheck(o: Offered, expect: Expect): string | undefined {
    const approvers = this.plan.approval.approvers;
    const notApprover = (by: string) => `'${by}' is not an approver (approvers: ${approvers.join(', ') || 'none configured'})`;
    if (!isSigned(o)) {
      if (signaturesRequired(this.plan))
        return "unsigned: this estate requires decisions signed with the approver's key (drctl signs them; `drctl sign` prints one for the UI or the temporal CLI)";
      if (!o || typeof o.by !== 'string' || !o.by) return 'a decision needs { by, reason }';
      if (!approvers.includes(o.by)) return notApprover(o.by);
      return undefined;
    }
    const s = parseStatement(o.signed.statement);
    if (typeof s === 'string') return s;
    const info = workflowInfo();
    if (s.workflowId !== info.workflowId || s.runId !== info.runId)
      return `signed for run ${s.workflowId}/${s.runId}, not this one (${info.workflowId}/${info.runId})`;
    if (s.action !== expect.action) return `signed for a ${s.action}, not a ${expect.action}`;
    if (!expect.decisions.includes(s.decision)) return `signed a ${s.decision}, sent as ${expect.decisions.join(' or ')}`;
    if (expect.step !== undefined && s.step !== expect.step) return `signed for '${s.step ?? 'no step'}', but the run waits at '${expect.step}'`;
    if (!approvers.includes(s.by)) return notApprover(s.by);
    if (this.nonces.has(s.nonce)) return `replayed: the statement with nonce ${s.nonce} was already used`;
    return undefined;
  }

  /**
   * The decision if it is to be trusted, else why not (recorded). Plain decisions are decided synchronously
   * (no activity, as runs recorded before signatures replay); signed ones wait for the verifying activity.
   */
  accept(o: Offered, expect: Expect, plainDecision: ControlDecision): Accepted | string | Promise<Accepted | string> {
    const why = this.precheck(o, expect);
    if (why) return this.refuse(o, why);
    if (!isSigned(o)) return { by: o.by!, reason: o.reason ?? '', decision: plainDecision, acceptLoss: !!o.acceptLoss, at: new Date().toISOString() };
    return this.verify(o.signed, expect);
  }

  private async verify(signed: SignedStatement, expect: Expect): Promise<Accepted | string> {
    const s = parseStatement(signed.statement);
    if (typeof s === 'string') return this.refuse({}, s);
    this.nonces.add(s.nonce); // reserved while verifying, so a copy sent meanwhile is a replay
    const { workflowId, runId } = workflowInfo();
    const verdict = await control.verifyApproval({ signed, expect: { workflowId, runId, action: expect.action, step: expect.step } });
    if (!verdict.ok) {
      this.nonces.delete(s.nonce); // a forgery must not use up the real statement's nonce
      return this.refuse({ by: s.by, reason: s.reason }, verdict.why);
    }
    const at = new Date().toISOString();
    return {
      by: s.by,
      reason: s.reason,
      decision: s.decision,
      acceptLoss: !!s.acceptLoss,
      at,
      signature: { fingerprint: verdict.fingerprint, issuedAt: s.issuedAt, nonce: s.nonce, step: s.step },
    };
  }

  private refuse(o: Offered, why: string): string {
    const s = isSigned(o) ? parseStatement(o.signed.statement) : undefined;
    const by = (typeof s === 'object' ? s.by : o?.by) ?? '?';
    const reason = (typeof s === 'object' ? s.reason : o?.reason) ?? '';
    this.refused.push({ by, reason, why, at: new Date().toISOString() });
    return why;
  }
}
