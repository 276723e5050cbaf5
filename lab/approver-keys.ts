// The lab's approvers sign their decisions: each one listed with `key: file:….pub` gets an Ed25519 key pair made
// by ssh-keygen, the private key beside the public one (drctl --key file:… in the lab; ssh-agent elsewhere).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';

/** The private key file of a lab approver, as a reference drctl takes with --key. */
export function approverPrivateKey(loaded: LoadedConfig, name: string): string {
  const entry = loaded.config.approval.approvers.find((a) => typeof a !== 'string' && a.name === name);
  if (!entry || typeof entry === 'string' || !entry.key.startsWith('file:') || !entry.key.endsWith('.pub'))
    throw new Error(`${loaded.file}: approval.approvers: '${name}' has no key file (file:….pub) the lab can make`);
  return `file:${resolve(loaded.baseDir, entry.key.slice(5, -4))}`;
}

export function ensureApproverKeys(loaded: LoadedConfig): void {
  for (const a of loaded.config.approval.approvers) {
    if (typeof a === 'string' || !a.key.startsWith('file:') || !a.key.endsWith('.pub')) continue;
    const pub = resolve(loaded.baseDir, a.key.slice(5));
    if (existsSync(pub)) continue;
    mkdirSync(dirname(pub), { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${a.name}@${loaded.config.name}`, '-f', pub.slice(0, -4)]);
  }
}
