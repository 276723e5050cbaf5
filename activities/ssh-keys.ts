// Ed25519 keys in OpenSSH's formats, read with Node's crypto: an `ssh-ed25519 AAAA… comment` public key line,
// and an unencrypted `-----BEGIN OPENSSH PRIVATE KEY-----` file (an encrypted one belongs in ssh-agent).
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

export class KeyError extends Error {
  override name = 'KeyError';
}

const ED25519 = 'ssh-ed25519';

/** SSH's wire encoding: a uint32 length, then the bytes. */
export class SshReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.buf.length) throw new KeyError('truncated');
    const n = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return n;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (this.at + n > this.buf.length) throw new KeyError('truncated');
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
  text(): string {
    return this.bytes().toString();
  }
}

export function sshString(b: Buffer | string): Buffer {
  const data = Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  return Buffer.concat([len, data]);
}

const b64url = (b: Buffer) => b.toString('base64url');

export interface PublicKey {
  key: KeyObject;
  /** The wire blob (`string "ssh-ed25519", string key`), as ssh-agent names keys. */
  blob: Buffer;
  /** As `ssh-keygen -lf` prints it: SHA256:… */
  fingerprint: string;
}

function publicFromRaw(raw: Buffer): PublicKey {
  if (raw.length !== 32) throw new KeyError(`an Ed25519 public key is 32 bytes, not ${raw.length}`);
  const blob = Buffer.concat([sshString(ED25519), sshString(raw)]);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64url(raw) }, format: 'jwk' });
  return { key, blob, fingerprint: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}` };
}

/** `ssh-ed25519 AAAA… [comment]`. */
export function parsePublicKey(line: string): PublicKey {
  const [type, data] = line.trim().split(/\s+/);
  if (type !== ED25519) throw new KeyError(`not an Ed25519 key in OpenSSH format ('ssh-ed25519 AAAA…'), but '${type ?? ''}'`);
  const r = new SshReader(Buffer.from(data ?? '', 'base64'));
  try {
    if (r.text() !== ED25519) throw new KeyError('the key blob is not ssh-ed25519');
    return publicFromRaw(r.bytes());
  } catch (err) {
    throw new KeyError(`unreadable ssh-ed25519 key: ${(err as Error).message}`);
  }
}

/** An unencrypted OpenSSH private key file's text. */
export function parsePrivateKey(pem: string): { key: KeyObject; publicKey: PublicKey } {
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(pem)?.[1];
  if (!body) throw new KeyError('not an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----)');
  const buf = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = Buffer.from('openssh-key-v1\0');
  if (!buf.subarray(0, magic.length).equals(magic)) throw new KeyError('not an openssh-key-v1 file');
  const r = new SshReader(buf.subarray(magic.length));
  const cipher = r.text();
  if (cipher !== 'none') throw new KeyError(`the key is encrypted (${cipher}): add it to ssh-agent and sign through the agent`);
  r.text(); // kdf name
  r.bytes(); // kdf options
  if (r.uint32() !== 1) throw new KeyError('the file holds more than one key');
  r.bytes(); // public key blob, repeated in the private section
  const p = new SshReader(r.bytes());
  if (p.uint32() !== p.uint32()) throw new KeyError('check integers differ: a corrupt key file');
  if (p.text() !== ED25519) throw new KeyError('not an Ed25519 key');
  const pub = p.bytes();
  const secret = p.bytes(); // seed ‖ public
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(secret.subarray(0, 32)), x: b64url(pub) }, format: 'jwk' });
  return { key, publicKey: publicFromRaw(pub) };
}
