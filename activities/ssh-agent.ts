// Signing through ssh-agent (SSH_AUTH_SOCK), so an approver's private key never has to be on disk in clear:
// the agent protocol's REQUEST_IDENTITIES and SIGN_REQUEST, enough for an Ed25519 signature.
import { connect } from 'node:net';
import { KeyError, SshReader, sshString, type PublicKey } from './ssh-keys';

const FAILURE = 5;
const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

function request(socket: string, type: number, payload: Buffer): Promise<{ type: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const c = connect(socket);
    const chunks: Buffer[] = [];
    c.setTimeout(5000, () => c.destroy(new KeyError(`ssh-agent at ${socket} did not answer in 5 s`)));
    c.on('error', (err) => reject(new KeyError(`ssh-agent at ${socket}: ${err.message}`)));
    c.on('data', (d) => {
      chunks.push(d);
      const all = Buffer.concat(chunks);
      if (all.length >= 4 && all.length >= 4 + all.readUInt32BE(0)) {
        c.end();
        resolve({ type: all[4]!, body: all.subarray(5, 4 + all.readUInt32BE(0)) });
      }
    });
    const msg = Buffer.concat([Buffer.from([type]), payload]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(msg.length);
    c.write(Buffer.concat([len, msg]));
  });
}

/** Whether the agent holds the key. */
export async function agentHolds(socket: string, key: PublicKey): Promise<boolean> {
  const a = await request(socket, REQUEST_IDENTITIES, Buffer.alloc(0));
  if (a.type !== IDENTITIES_ANSWER) throw new KeyError(`ssh-agent refused to list its keys (answer ${a.type})`);
  const r = new SshReader(a.body);
  for (let n = r.uint32(); n > 0; n--) {
    const blob = r.bytes();
    r.text();
    if (blob.equals(key.blob)) return true;
  }
  return false;
}

/** The agent's Ed25519 signature of `data` with `key` (64 bytes). */
export async function agentSign(socket: string, key: PublicKey, data: Buffer): Promise<Buffer> {
  if (!(await agentHolds(socket, key))) throw new KeyError(`ssh-agent does not hold the key ${key.fingerprint}: ssh-add it`);
  const a = await request(socket, SIGN_REQUEST, Buffer.concat([sshString(key.blob), sshString(data), Buffer.alloc(4)]));
  if (a.type === FAILURE) throw new KeyError(`ssh-agent refused to sign with ${key.fingerprint}`);
  if (a.type !== SIGN_RESPONSE) throw new KeyError(`unexpected ssh-agent answer ${a.type}`);
  const sig = new SshReader(new SshReader(a.body).bytes());
  if (sig.text() !== 'ssh-ed25519') throw new KeyError('ssh-agent signed with another algorithm');
  return sig.bytes();
}
