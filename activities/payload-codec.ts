// AES-256-GCM on every payload, outside the workflow sandbox (a codec runs in the client and the worker, never in
// workflow code). The metadata names the key, so keys can rotate and old histories still decode.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { resolveSecret } from './secrets';

export const ENCRYPTED = 'binary/encrypted';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class CodecError extends Error {
  override name = 'CodecError';
}

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keyId: string,
    private readonly keys: ReadonlyMap<string, Buffer>,
  ) {
    if (!keys.has(keyId)) throw new CodecError(`encryption key '${keyId}' is not among the keys given`);
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.keyId)!, iv);
      const plain = temporal.api.common.v1.Payload.encode(p).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return { metadata: { encoding: Buffer.from(ENCRYPTED), 'encryption-key-id': Buffer.from(this.keyId) }, data };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => {
      if (Buffer.from(p.metadata?.encoding ?? []).toString() !== ENCRYPTED) return p;
      const id = Buffer.from(p.metadata?.['encryption-key-id'] ?? []).toString();
      const key = this.keys.get(id);
      if (!key) throw new CodecError(`a payload is encrypted with key '${id}', which is not configured (keys: ${[...this.keys.keys()].join(', ')})`);
      const data = Buffer.from(p.data ?? []);
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      try {
        const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
        return temporal.api.common.v1.Payload.decode(plain) as Payload;
      } catch {
        throw new CodecError(`a payload encrypted with key '${id}' does not decrypt: wrong key material or a tampered payload`);
      }
    });
  }
}

/** The codec for `temporal.encryption`: each key is a reference to 32 bytes, base64. */
export function aesGcmCodec(enc: { keyId: string; keys: Record<string, string> }, baseDir: string): AesGcmCodec {
  const keys = new Map<string, Buffer>();
  for (const [id, ref] of Object.entries(enc.keys)) {
    const key = Buffer.from(resolveSecret(ref, baseDir).trim(), 'base64');
    if (key.length !== 32)
      throw new CodecError(`encryption key '${id}' (${ref}) is ${key.length} bytes, not 32: make one with 'openssl rand -base64 32'`);
    keys.set(id, key);
  }
  return new AesGcmCodec(enc.keyId, keys);
}
