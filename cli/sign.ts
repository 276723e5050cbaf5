// drctl's signer: builds the statement a decision is, and signs it with the approver's Ed25519 key, from
// --key / $DRCTL_KEY (a reference to an OpenSSH private key file) or else from ssh-agent ($SSH_AUTH_SOCK).
import { randomBytes, sign } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { LoadedConfig } from '../config/load';
import {
  canonical,
  SIGNING_PREFIX,
  type ControlAction,
  type ControlDecision,
  type SignedStatement,
  type Statement,
} from '../domain/approval-statement';
import type { ProgressView } from '../domain/steps';
import { resolveSecret } from '../activities/secrets';
import { agentHolds, agentSign } from '../activities/ssh-agent';
import { parsePrivateKey, parsePublicKey, type PublicKey } from '../activities/ssh-keys';

export class SignError extends Error {
  override name = 'SignError';
}

export type Unsigned = Omit<Statement, 'issuedAt' | 'nonce'>;

/** The configured public key of `by`, or undefined when `by` is listed without one. */
export function approverKey(loaded: LoadedConfig, by: string): PublicKey | undefined {
  const entry = loaded.config.approval.approvers.find((a) => (typeof a === 'string' ? a : a.name) === by);
  if (!entry || typeof entry === 'string') return undefined;
  return parsePublicKey(entry.key.startsWith('file:') ? resolveSecret(entry.key, loaded.baseDir) : entry.key);
}

/**
 * The signed statement, or undefined when there is nothing to sign with and the estate does not require it
 * (the decision then goes as a plain { by, reason }, as before signatures).
 */
export async function signDecision(
  loaded: LoadedConfig,
  s: Unsigned,
  keyRef = process.env.DRCTL_KEY,
  agent = process.env.SSH_AUTH_SOCK,
): Promise<SignedStatement | undefined> {
  const configured = approverKey(loaded, s.by);
  const required = loaded.config.approval.requireSignature;
  if (!configured) {
    // Someone the config does not know, without signatures required: the run refuses them in its own words.
    if (required) throw new SignError(`approval.approvers: '${s.by}' is not an approver with a key in ${loaded.file}, and signatures are required`);
    return undefined;
  }
  const inAgent = !keyRef && agent ? await agentHolds(agent, configured).catch(() => false) : false;
  if (!keyRef && !inAgent) {
    if (!required) return undefined;
    throw new SignError(
      `${s.by}'s decision must be signed: give --key file:PATH (an OpenSSH Ed25519 private key), set DRCTL_KEY, or add ${configured.fingerprint} to ssh-agent`,
    );
  }
  const statement = canonical({ ...s, issuedAt: new Date().toISOString(), nonce: randomBytes(16).toString('hex') });
  const data = Buffer.from(SIGNING_PREFIX + statement);
  let signature: Buffer;
  if (keyRef) {
    const { key, publicKey } = parsePrivateKey(resolveSecret(keyRef, process.cwd()));
    if (!publicKey.blob.equals(configured.blob))
      throw new SignError(`the key in ${keyRef} is ${publicKey.fingerprint}, but ${s.by}'s configured key is ${configured.fingerprint}`);
    signature = sign(null, data, key);
  } else signature = await agentSign(agent!, configured, data);
  return { statement, signature: signature.toString('base64') };
}

/** Each operator command: the statement it signs, the Update drctl sends and the signal the UI or CLI sends. */
export const CONTROLS = {
  approve: { action: 'gate', decision: 'approve', update: 'decide', signal: 'approve' },
  reject: { action: 'gate', decision: 'reject', update: 'decide', signal: 'reject' },
  'retry-step': { action: 'step', decision: 'retry', update: 'operate', signal: 'retry-step' },
  'skip-step': { action: 'step', decision: 'skip', update: 'operate', signal: 'skip-step' },
  abort: { action: 'abort', decision: 'abort', update: 'abort', signal: 'abort' },
  acknowledge: { action: 'acknowledge', decision: 'acknowledge', update: 'acknowledge', signal: 'acknowledge' },
} as const satisfies Record<string, { action: ControlAction; decision: ControlDecision; update: string; signal: string }>;

export type ControlVerb = keyof typeof CONTROLS;
export type Plain = { by: string; reason: string; acceptLoss?: boolean };

/** The statement for this run and the step it waits at now, signed; undefined when there is no key and none is required. */
export async function signedControl(loaded: LoadedConfig, handle: WorkflowHandle, verb: ControlVerb, p: Plain, key?: string) {
  const c = CONTROLS[verb];
  const { runId } = await handle.describe();
  const view = await handle.query<ProgressView>('progress').catch(() => undefined);
  const step = c.action === 'gate' || c.action === 'step' ? view?.waitingAt : undefined;
  return signDecision(
    loaded,
    {
      workflowId: handle.workflowId,
      runId,
      action: c.action,
      step,
      decision: c.decision,
      by: p.by,
      reason: p.reason,
      acceptLoss: p.acceptLoss || undefined,
    },
    key ?? process.env.DRCTL_KEY,
  );
}

/** What the Update (or the signal) carries: the signed statement, or a plain { by, reason } where nothing is there to sign with. */
export async function controlArgument(loaded: LoadedConfig, handle: WorkflowHandle, verb: ControlVerb, p: Plain, key?: string): Promise<object> {
  const c = CONTROLS[verb];
  const signed = await signedControl(loaded, handle, verb, p, key);
  const kind = c.action === 'gate' ? { decision: c.decision } : c.action === 'step' ? { action: c.decision } : {};
  return signed
    ? { ...kind, signed }
    : { ...kind, by: p.by, reason: p.reason, ...(c.action === 'gate' ? { acceptLoss: p.acceptLoss === true } : {}) };
}
