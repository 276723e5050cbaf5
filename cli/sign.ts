// drctl's signer: builds the statement a decision is, and signs it with the approver's Ed25519 key, from
// --key / $DRCTL_KEY (a reference to an OpenSSH private key file) or else from ssh-agent ($SSH_AUTH_SOCK).
import { randomBytes, sign } from 'node:crypto';
import type { LoadedConfig } from '../config/load';
import { canonical, SIGNING_PREFIX, type SignedStatement, type Statement } from '../domain/approval-statement';
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
  if (!entry) throw new SignError(`'${by}' is not an approver in ${loaded.file} (approval.approvers)`);
  if (typeof entry === 'string') return undefined;
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
    if (required) throw new SignError(`approval.approvers: '${s.by}' has no key in ${loaded.file}, and signatures are required`);
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
