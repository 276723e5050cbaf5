// The codec server's HTTP handler: the remote codec protocol's round trip, its two ways to authenticate, CORS for
// the UI's origin, and the refusals (bad JSON, bad base64, an unknown key id).
import test from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AesGcmCodec, ENCRYPTED } from '../../activities/payload-codec';
import { serveCodec } from '../../workers/codec/codec-http';

const TOKEN = 'c0dec-t0ken-for-the-test';
const UI = 'http://127.0.0.1:8233';
const keys = new Map([['k1', randomBytes(32)]]);

async function serve(t: test.TestContext, codec = new AesGcmCodec('k1', keys)): Promise<string> {
  const server = await serveCodec({ codec, token: () => TOKEN, uiOrigins: [UI], host: '127.0.0.1', port: 0 });
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');
const plain = (value: unknown) => ({ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: json(value) });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const bearer = { authorization: `Bearer ${TOKEN}` };

test('encode then decode gives the payloads back; the encoded ones are encrypted with the key id', async (t) => {
  const url = await serve(t);
  const sent = { payloads: [plain({ note: 'purple elephant' }), plain(42)] };
  const encoded = await post(`${url}/encode`, sent, bearer);
  assert.equal(encoded.status, 200);
  const body = (await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  assert.equal(body.payloads.length, 2);
  for (const p of body.payloads) {
    assert.equal(Buffer.from(p.metadata.encoding!, 'base64').toString(), ENCRYPTED);
    assert.equal(Buffer.from(p.metadata['encryption-key-id']!, 'base64').toString(), 'k1');
    assert.ok(!Buffer.from(p.data, 'base64').toString().includes('purple'));
  }
  // The capability path, as the UI uses it: /<token>/decode, with the query string the UI adds.
  const decoded = await post(`${url}/${TOKEN}/decode?preserveStorageRefs=true`, body);
  assert.equal(decoded.status, 200);
  assert.deepEqual(await decoded.json(), sent);
});

test('no token, a wrong bearer token or a wrong path token: 401', async (t) => {
  const url = await serve(t);
  const body = { payloads: [plain(1)] };
  const none = await post(`${url}/decode`, body);
  assert.equal(none.status, 401);
  assert.match(((await none.json()) as { error: string }).error, /token is required/);
  assert.equal((await post(`${url}/decode`, body, { authorization: 'Bearer nope' })).status, 401);
  assert.equal((await post(`${url}/not-the-token/decode`, body)).status, 401);
  assert.equal((await post(`${url}/encode`, body, { authorization: TOKEN })).status, 401); // no "Bearer"
});

test("CORS: the UI's preflight is answered without credentials; another origin is refused", async (t) => {
  const url = await serve(t);
  const preflight = await fetch(`${url}/${TOKEN}/decode`, {
    method: 'OPTIONS',
    headers: { origin: UI, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
  assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /POST/);
  for (const header of ['content-type', 'x-namespace', 'authorization'])
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', new RegExp(header));
  const answer = await post(`${url}/${TOKEN}/encode`, { payloads: [plain(1)] }, { origin: UI });
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('access-control-allow-origin'), UI);
  const other = await fetch(`${url}/decode`, {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
  });
  assert.equal(other.status, 403);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
});

test('bad JSON, a body of the wrong shape, bad base64: 400 with the reason', async (t) => {
  const url = await serve(t);
  const reason = async (body: unknown) => {
    const res = await post(`${url}/decode`, body, bearer);
    assert.equal(res.status, 400);
    return ((await res.json()) as { error: string }).error;
  };
  assert.match(await reason('{"payloads": ['), /^the body is not JSON/);
  assert.match(await reason({ payloads: 'x' }), /payloads is not an array/);
  assert.match(await reason({ payloads: [{ metadata: { encoding: 'not base64!' } }] }), /payloads\[0\]\.metadata\.encoding is not a base64 string/);
  assert.match(await reason({ payloads: [{ data: 7 }] }), /payloads\[0\]\.data is not a base64 string/);
});

test('a payload under a key id that is not configured: 422 naming the key id', async (t) => {
  const other = new AesGcmCodec('old', new Map([['old', randomBytes(32)]]));
  const [encrypted] = await other.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('1') }]);
  const url = await serve(t);
  const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64');
  const res = await post(
    `${url}/decode`,
    {
      payloads: [
        {
          metadata: { encoding: base64(encrypted!.metadata!.encoding), 'encryption-key-id': base64(encrypted!.metadata!['encryption-key-id']) },
          data: base64(encrypted!.data),
        },
      ],
    },
    bearer,
  );
  assert.equal(res.status, 422);
  assert.match(((await res.json()) as { error: string }).error, /key 'old'/);
});

test('other paths and methods: 404, 405; /download: 400 (no external storage)', async (t) => {
  const url = await serve(t);
  assert.equal((await fetch(`${url}/metrics`, { headers: bearer })).status, 404);
  assert.equal((await fetch(`${url}/decode`, { headers: bearer })).status, 405);
  assert.equal((await post(`${url}/download`, { payloads: [] }, bearer)).status, 400);
});
