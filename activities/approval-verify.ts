// Verifies a signed decision against the approver's configured Ed25519 key. Workflow code cannot use Node's
// crypto, so this activity is where a statement becomes trusted; the workflow tracks nonces (replays) itself.
import { verify } from 'node:crypto';
import type { LoadedConfig } from '../config/load';
import { durationMs } from '../config/schema';
import { parseStatement, SIGNING_PREFIX, type ControlAction, type SignedStatement, type Statement } from '../domain/approval-statement';
import { resolveSecret } from './secrets';
import { parsePublicKey, type PublicKey } from './ssh-keys';

export interface VerifyApprovalInput {
  signed: SignedStatement;
  /** What the run is asking now: a statement for another run, action or step is refused. */
  expect: { workflowId: string; runId: string; action: ControlAction; step?: string };
}

export type ApprovalVerdict = { ok: true; statement: Statement; fingerprint: string } | { ok: false; why: string; by?: string };

/** Statements signed a little in the future are clock skew; more is refused. */
const SKEW_MS = 60_000;

export function approvalVerifier(loaded: LoadedConfig, now: () => number = Date.now) {
  const { approval } = loaded.config;
  const keys = new Map<string, PublicKey>();
  const keyOf = (by: string): PublicKey | undefined => {
    const entry = approval.approvers.find((a) => typeof a !== 'string' && a.name === by);
    if (!entry || typeof entry === 'string') return undefined;
    if (!keys.has(by)) keys.set(by, parsePublicKey(entry.key.startsWith('file:') ? resolveSecret(entry.key, loaded.baseDir) : entry.key));
    return keys.get(by);
  };
  const maxAgeMs = durationMs(approval.maxAge);

  return async function verifyApproval({ signed, expect }: VerifyApprovalInput): Promise<ApprovalVerdict> {
    const s = parseStatement(signed?.statement);
    if (typeof s === 'string') return { ok: false, why: s };
    const refuse = (why: string): ApprovalVerdict => ({ ok: false, why, by: s.by });
    const key = keyOf(s.by);
    if (!key) return refuse(`'${s.by}' is not an approver with a key`);
    const sig = Buffer.from(String(signed.signature), 'base64');
    if (sig.length !== 64 || !verify(null, Buffer.from(SIGNING_PREFIX + signed.statement), key.key, sig))
      return refuse(`the signature does not verify against ${s.by}'s key ${key.fingerprint}: forged, altered, or signed with another key`);
    if (s.workflowId !== expect.workflowId || s.runId !== expect.runId)
      return refuse(`signed for run ${s.workflowId}/${s.runId}, not this one (${expect.workflowId}/${expect.runId})`);
    if (s.action !== expect.action) return refuse(`signed for a ${s.action}, not a ${expect.action}`);
    if (expect.step !== undefined && s.step !== expect.step)
      return refuse(`signed for '${s.step ?? 'no step'}', but the run waits at '${expect.step}'`);
    const age = now() - Date.parse(s.issuedAt);
    if (age > maxAgeMs) return refuse(`stale: signed ${Math.round(age / 1000)} s ago, at ${s.issuedAt}; statements are good for ${approval.maxAge}`);
    if (age < -SKEW_MS) return refuse(`signed in the future (${s.issuedAt}): check the signer's clock`);
    return { ok: true, statement: s, fingerprint: key.fingerprint };
  };
}
