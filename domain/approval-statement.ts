// A signed decision: the statement an approver signs with their Ed25519 key, in one canonical form, so that
// drctl, `drctl sign` (for the UI and the temporal CLI) and the verifying activity agree on the bytes.
// Pure: workflow code parses statements here, but trusts one only after the activity has verified it.

/** What a statement answers: the gate (approve|reject), a failed step (retry|skip), a drill (abort), an incident (acknowledge). */
export type ControlAction = 'gate' | 'step' | 'abort' | 'acknowledge';
export type ControlDecision = 'approve' | 'reject' | 'retry' | 'skip' | 'abort' | 'acknowledge';

export const DECISIONS_OF: Record<ControlAction, readonly ControlDecision[]> = {
  gate: ['approve', 'reject'],
  step: ['retry', 'skip'],
  abort: ['abort'],
  acknowledge: ['acknowledge'],
};

export interface Statement {
  workflowId: string;
  runId: string;
  action: ControlAction;
  /** The gate or step it answers (`gate`, `errant gate`, a failed step's name); none for abort and acknowledge. */
  step?: string;
  decision: ControlDecision;
  by: string;
  reason: string;
  /** ISO time of signing: a statement older than `approval.maxAge` is refused. */
  issuedAt: string;
  /** Random, once per statement: a replay of the same statement is refused. */
  nonce: string;
  /** Approves a loss over the RPO budget. */
  acceptLoss?: boolean;
}

/** What is sent in a signal or an Update: the exact statement text that was signed, and the signature. */
export interface SignedStatement {
  statement: string;
  /** Ed25519 signature of `SIGNING_PREFIX + statement`, base64. */
  signature: string;
}

/** Signatures cover this prefix too, so an approver's key signing something else can never make a decision. */
export const SIGNING_PREFIX = 'dr-runbooks approval v1\n';

const FIELDS = ['workflowId', 'runId', 'action', 'step', 'decision', 'by', 'reason', 'issuedAt', 'nonce', 'acceptLoss'] as const;

/** JSON with the fields in one fixed order and no whitespace. */
export function canonical(s: Statement): string {
  const out: Record<string, unknown> = {};
  for (const k of FIELDS) if (s[k] !== undefined) out[k] = s[k];
  return JSON.stringify(out);
}

/** The statement in a signed payload, or why it is not one. Canonical form is required: what was signed is what is read. */
export function parseStatement(text: unknown): Statement | string {
  if (typeof text !== 'string') return 'statement: must be the signed statement text';
  let s: Statement;
  try {
    s = JSON.parse(text) as Statement;
  } catch {
    return 'statement: not JSON';
  }
  if (!s || typeof s !== 'object') return 'statement: not an object';
  for (const k of ['workflowId', 'runId', 'action', 'decision', 'by', 'reason', 'issuedAt', 'nonce'] as const)
    if (typeof s[k] !== 'string' || !s[k]) return `statement.${k}: required`;
  if (!(s.action in DECISIONS_OF)) return `statement.action: '${s.action}' is not one of ${Object.keys(DECISIONS_OF).join(', ')}`;
  if (!DECISIONS_OF[s.action].includes(s.decision)) return `statement.decision: '${s.decision}' does not answer a ${s.action}`;
  if (s.step !== undefined && typeof s.step !== 'string') return 'statement.step: must be text';
  if (s.acceptLoss !== undefined && typeof s.acceptLoss !== 'boolean') return 'statement.acceptLoss: must be true or false';
  if (Number.isNaN(Date.parse(s.issuedAt))) return `statement.issuedAt: '${s.issuedAt}' is not a time`;
  if (canonical(s) !== text) return 'statement: not in canonical form (fields in order, no spaces, nothing else)';
  return s;
}

/** Whether a payload carries a signed statement rather than a plain { by, reason }. */
export function isSigned(x: unknown): x is { signed: SignedStatement } {
  const s = (x as { signed?: SignedStatement } | undefined)?.signed;
  return !!s && typeof s === 'object' && typeof s.statement === 'string' && typeof s.signature === 'string';
}
