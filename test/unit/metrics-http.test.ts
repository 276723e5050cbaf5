// The control worker's small HTTP server: routes by `METHOD path`, JSON errors without stacks, a JSON body
// reader with a size limit, and GET /metrics in Prometheus's content type.
import test from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Gauge, Registry } from 'prom-client';
import { metricsRoute, readJsonBody, sendJson, startHttp } from '../../workers/metrics/http';

async function serve(t: test.TestContext): Promise<string> {
  const registry = new Registry();
  new Gauge({ name: 'dr_test_value', help: 'A value for the test.', registers: [registry] }).set(7);
  const other = new Registry();
  new Gauge({ name: 'dr_other_value', help: 'Another registry.', registers: [other] }).set(3);
  const server = await startHttp({
    host: '127.0.0.1',
    port: 0,
    routes: {
      'GET /metrics': metricsRoute([registry, other]),
      'POST /echo': async (req, res) => sendJson(res, 200, { got: await readJsonBody(req) }),
      'GET /boom': () => {
        throw new Error('the lease store is unreachable');
      },
    },
  });
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('GET /metrics: both registries, in the Prometheus text content type', async (t) => {
  const url = await serve(t);
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  const text = await res.text();
  assert.match(text, /^dr_test_value 7$/m);
  assert.match(text, /^dr_other_value 3$/m);
});

test('an unknown path is a 404, a known path with another method a 405, both in JSON', async (t) => {
  const url = await serve(t);
  const missing = await fetch(`${url}/nothing?x=1`);
  assert.equal(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await missing.json(), { error: 'no route for GET /nothing' });
  const wrongMethod = await fetch(`${url}/metrics`, { method: 'POST', body: '{}' });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get('allow'), 'GET');
});

test('a JSON body reaches the handler; a body that is not JSON is a 400 with the parse error', async (t) => {
  const url = await serve(t);
  const ok = await fetch(`${url}/echo`, { method: 'POST', body: JSON.stringify({ alerts: [{ status: 'firing' }] }) });
  assert.equal(ok.status, 200);
  assert.deepEqual(await ok.json(), { got: { alerts: [{ status: 'firing' }] } });
  const bad = await fetch(`${url}/echo`, { method: 'POST', body: '{"alerts": [' });
  assert.equal(bad.status, 400);
  const { error } = (await bad.json()) as { error: string };
  assert.match(error, /^the body is not JSON: /);
});

test('a body over 1 MB is refused with 413', async (t) => {
  const url = await serve(t);
  const res = await fetch(`${url}/echo`, { method: 'POST', body: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }) });
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { error: 'the body is larger than 1048576 bytes' });
});

test('a chunked body (no content-length) is refused with 413 once it passes 1 MB', async (t) => {
  const url = new URL(`${await serve(t)}/echo`);
  const status = await new Promise<number>((done, fail) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on('error', fail);
    for (let i = 0; i < 20; i++) req.write(Buffer.alloc(64 * 1024, 'x'));
    req.end();
  });
  assert.equal(status, 413);
});

test('a handler that throws: 500 with its message and no stack', async (t) => {
  t.mock.method(console, 'error', () => {}); // the server logs the stack; the client must not see it
  const url = await serve(t);
  const res = await fetch(`${url}/boom`);
  assert.equal(res.status, 500);
  const body = await res.text();
  assert.deepEqual(JSON.parse(body), { error: 'the lease store is unreachable' });
  assert.doesNotMatch(body, /at |\.ts:/);
});
