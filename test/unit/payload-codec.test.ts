// The AES-256-GCM payload codec: what goes to Temporal holds no plain text, decodes back exactly, names its
// key (so a rotated-out key still decodes old payloads), and refuses a tampered payload or an unknown key.
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec, CodecError, ENCRYPTED, aesGcmCodec } from '../../activities/payload-codec';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const input = { reason: 'planned switchover tw to sg', by: 'ops-lead', gtids: '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-77' };
const payload = defaultPayloadConverter.toPayload(input);

test('encoded payloads hold no plain text and decode back exactly', async () => {
  const codec = new AesGcmCodec('k1', new Map([['k1', k1]]));
  const [enc] = await codec.encode([payload]);
  assert.equal(Buffer.from(enc!.metadata!.encoding!).toString(), ENCRYPTED);
  assert.equal(Buffer.from(enc!.metadata!['encryption-key-id']!).toString(), 'k1');
  const bytes = Buffer.from(enc!.data!).toString('latin1');
  for (const v of Object.values(input)) assert.ok(!bytes.includes(v), `'${v}' in the encoded bytes`);
  const [dec] = await codec.decode([enc!]);
  assert.deepEqual(defaultPayloadConverter.fromPayload(dec!), input);
});

test('after a rotation, payloads of the old key still decode; new ones use the new key', async () => {
  const old = new AesGcmCodec('k1', new Map([['k1', k1]]));
  const rotated = new AesGcmCodec(
    'k2',
    new Map([
      ['k1', k1],
      ['k2', k2],
    ]),
  );
  const [fromOld] = await old.encode([payload]);
  assert.deepEqual(defaultPayloadConverter.fromPayload((await rotated.decode([fromOld!]))[0]!), input);
  const [fromNew] = await rotated.encode([payload]);
  assert.equal(Buffer.from(fromNew!.metadata!['encryption-key-id']!).toString(), 'k2');
  await assert.rejects(old.decode([fromNew!]), /encrypted with key 'k2', which is not configured \(keys: k1\)/);
});

test('a tampered payload, a wrong key or a bad key reference is refused with the key named', async () => {
  const codec = new AesGcmCodec('k1', new Map([['k1', k1]]));
  const [enc] = await codec.encode([payload]);
  const data = Buffer.from(enc!.data!);
  data[20] = data[20]! ^ 1;
  await assert.rejects(codec.decode([{ ...enc!, data }]), CodecError);
  const other = new AesGcmCodec('k1', new Map([['k1', k2]]));
  await assert.rejects(other.decode([enc!]), /key 'k1' does not decrypt/);
  // Plain payloads (histories from before encryption) pass through.
  assert.deepEqual(await codec.decode([payload]), [payload]);
  process.env.DR_TEST_SHORT_KEY = randomBytes(16).toString('base64');
  assert.throws(() => aesGcmCodec({ keyId: 'short', keys: { short: 'env:DR_TEST_SHORT_KEY' } }, '.'), /'short' .* is 16 bytes, not 32/);
});
