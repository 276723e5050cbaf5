// TLS to the lab's Temporal without Temporal: the lab's certificates from a real openssl, and its HAProxy TLS
// proxy (Debian's 2.6) in front of a tiny HTTP/2 server that stands in for the dev server's gRPC port. A client
// with the lab's certificate gets through; one without is refused in the handshake.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type ClientHttp2Session, type Http2Server } from 'node:http2';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig, parseConfig, type LoadedConfig } from '../../config/load';
import { checkHaproxyConfig, HAPROXY_BIN } from '../../lab/haproxy';
import { portProblems } from '../../lab/ports';
import { freePort, stopDaemon } from '../../lab/procs';
import {
  devServerAddress,
  devServerPort,
  labTlsDir,
  labTlsRefProblems,
  startTlsProxy,
  temporalCliArgs,
  tlsProxyConfigText,
  type TlsProxySpec,
} from '../../lab/temporal-tls';
import { ensureTlsCerts, extensionsText, OPENSSL_BIN, subjectAltNames, tlsFilesIn, tlsFilesProblem, type TlsFiles } from '../../lab/tls-certs';

for (const bin of [HAPROXY_BIN, OPENSSL_BIN])
  if (!existsSync(bin)) throw new Error(`${bin} is missing: install Debian's ${bin.split('/').pop()}; this test needs a real one`);

const HOST = '127.0.0.1';
const configDir = join(__dirname, '..', '..', 'config');
const work = mkdtempSync(join(tmpdir(), 'dr-temporal-tls-'));
const dirs = { state: work, pids: join(work, 'pids'), logs: join(work, 'logs') };
const PROXY = 'temporal-tls-unit';
let files: TlsFiles;
let backend: Http2Server;
let spec: TlsProxySpec;

before(async () => {
  for (const dir of [dirs.pids, dirs.logs]) mkdirSync(dir, { recursive: true });
  files = ensureTlsCerts(join(work, 'tls'), [HOST, 'localhost']).files;
  // The dev server's stand-in: plain HTTP/2 (h2c), as the proxy's `proto h2` backend speaks it.
  backend = createServer((request, response) => response.end(`dev server saw ${request.method} ${request.url}`));
  const backendPort = await freePort();
  await new Promise<void>((done) => backend.listen(backendPort, HOST, done));
  spec = { listen: { host: HOST, port: await freePort() }, server: { host: HOST, port: backendPort }, serverPem: files.serverPem, ca: files.ca };
  assert.equal(await startTlsProxy({ name: PROXY, spec, dirs }), 'started');
});

after(async () => {
  await stopDaemon(dirs.pids, PROXY, 'SIGTERM', 5000);
  await new Promise<void>((done) => backend.close(() => done()));
  rmSync(work, { recursive: true, force: true });
});

/** One HTTP/2 request over TLS to the proxy: the body, or the error that ended it. */
function request(tls: { cert?: Buffer; key?: Buffer }): Promise<string> {
  return new Promise((resolve, reject) => {
    const session: ClientHttp2Session = connect(`https://${HOST}:${spec.listen.port}`, { ca: readFileSync(files.ca), ...tls });
    session.once('error', (err) => (session.destroy(), reject(err)));
    const stream = session.request({ ':method': 'POST', ':path': '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.once('error', (err) => (session.destroy(), reject(err)));
    stream.once('end', () => (session.close(), resolve(body)));
    stream.end();
  });
}

test('SANs: an address as IP, a name as DNS, each once', () => {
  assert.equal(subjectAltNames(['198.18.1.4', '127.0.0.1', 'localhost', '127.0.0.1']), 'IP:198.18.1.4,IP:127.0.0.1,DNS:localhost');
  assert.equal(subjectAltNames(['::1']), 'IP:::1');
  const ext = extensionsText('IP:127.0.0.1');
  assert.match(ext, /\[server\][^[]*extendedKeyUsage = serverAuth[^[]*subjectAltName = IP:127\.0\.0\.1/);
  assert.match(ext, /\[client\][^[]*extendedKeyUsage = clientAuth/);
  assert.match(ext, /\[ca\][^[]*CA:TRUE/);
});

test('the certificates: signed by the lab CA, the server for its names, the client for client auth', () => {
  const ca = new X509Certificate(readFileSync(files.ca));
  const server = new X509Certificate(readFileSync(files.serverPem));
  const client = new X509Certificate(readFileSync(files.clientCert));
  assert.ok(ca.ca, 'the CA is a CA');
  for (const cert of [server, client]) assert.ok(cert.checkIssued(ca) && cert.verify(ca.publicKey));
  assert.equal(server.subjectAltName, 'IP Address:127.0.0.1, DNS:localhost');
  assert.ok(server.checkIP(HOST));
  assert.deepEqual(client.keyUsage, ['1.3.6.1.5.5.7.3.2']); // clientAuth
  assert.deepEqual(server.keyUsage, ['1.3.6.1.5.5.7.3.1']); // serverAuth
  assert.match(readFileSync(files.serverPem, 'utf8'), /-----BEGIN PRIVATE KEY-----/, "the server's key beside its certificate, for HAProxy");
  assert.equal(statSync(files.clientKey).mode & 0o077, 0, 'keys are for their owner only');
});

test('idempotent: files that will do are kept; a new name, or a foreign certificate, makes the set anew', () => {
  const dir = join(work, 'again');
  const first = ensureTlsCerts(dir, [HOST]);
  const ca = readFileSync(first.files.ca, 'utf8');
  assert.equal(first.made, true);
  assert.equal(ensureTlsCerts(dir, [HOST]).made, false);
  assert.equal(readFileSync(first.files.ca, 'utf8'), ca, 'the CA is kept');
  assert.match(tlsFilesProblem(dir, [HOST, '198.18.1.4']) ?? '', /lacks IP Address:198\.18\.1\.4/);
  assert.equal(ensureTlsCerts(dir, [HOST, '198.18.1.4']).made, true);
  writeFileSync(first.files.clientCert, readFileSync(files.clientCert)); // another CA's
  assert.match(tlsFilesProblem(dir, [HOST, '198.18.1.4']) ?? '', /client\.pem is not signed by/);
});

test("the proxy's config: TLS with a required client certificate and h2 on the listener, h2 to the dev server", () => {
  const text = tlsProxyConfigText({
    listen: { host: '198.18.1.4', port: 17233 },
    server: { host: HOST, port: 17243 },
    serverPem: '/s/server.pem',
    ca: '/s/ca.pem',
  });
  assert.match(text, /^ {2}mode http$/m);
  assert.match(text, /^ {2}bind 198\.18\.1\.4:17233 ssl crt \/s\/server\.pem ca-file \/s\/ca\.pem verify required alpn h2$/m);
  assert.match(text, /^ {2}server dev 127\.0\.0\.1:17243 proto h2$/m);
  assert.match(text, /^ {2}http-error status 503 hdr grpc-status 14 /m);
  const file = join(work, 'check.cfg');
  writeFileSync(file, tlsProxyConfigText(spec));
  checkHaproxyConfig(file); // HAProxy itself accepts it
});

test("a client with the lab's certificate reaches the dev server through the proxy", async () => {
  const body = await request({ cert: readFileSync(files.clientCert), key: readFileSync(files.clientKey) });
  assert.equal(body, 'dev server saw POST /temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo');
});

test('with the dev server down, the proxy answers as gRPC does: UNAVAILABLE, which clients retry', async () => {
  const down = { ...spec, listen: { host: HOST, port: await freePort() }, server: { host: HOST, port: await freePort() } };
  assert.equal(await startTlsProxy({ name: `${PROXY}-down`, spec: down, dirs }), 'started');
  try {
    const session = connect(`https://${HOST}:${down.listen.port}`, {
      ca: readFileSync(files.ca),
      cert: readFileSync(files.clientCert),
      key: readFileSync(files.clientKey),
    });
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      session.once('error', reject);
      const stream = session.request({ ':method': 'POST', ':path': '/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo' });
      stream.once('response', resolve);
      stream.once('error', reject);
      stream.end();
    });
    session.destroy();
    // Trailers-only: grpc-js and the worker's core (tonic) both read it as UNAVAILABLE.
    assert.deepEqual([headers[':status'], headers['grpc-status'], headers['grpc-message']], [503, '14', 'the Temporal dev server is down']);
  } finally {
    await stopDaemon(dirs.pids, `${PROXY}-down`, 'SIGTERM', 5000);
  }
});

test('a client without a certificate is refused in the handshake', async () => {
  await assert.rejects(request({}), (err: NodeJS.ErrnoException) => {
    // TLS 1.3: the refusal is the server's alert 116 after the client's half of the handshake.
    assert.equal(err.code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', err.message);
    return true;
  });
});

/** A lab config as its file says, with `change` applied to the YAML document. */
function labConfig(name: string, change: (doc: ReturnType<typeof parseDocument>) => void = () => {}): LoadedConfig {
  const doc = parseDocument(readFileSync(join(configDir, name), 'utf8'));
  change(doc);
  return parseConfig(doc.toString(), join(configDir, name));
}

test("the lab configs: TLS on, naming the lab's files; the dev server on the address's port + 10, clashing with nothing", () => {
  for (const name of ['lab.yaml', 'lab-test.yaml']) {
    const loaded = loadConfig(join(configDir, name));
    const state = { state: resolve(loaded.baseDir, loaded.config.stateDir) };
    assert.deepEqual(labTlsRefProblems(loaded, tlsFilesIn(labTlsDir(state))), [], name);
    assert.equal(devServerPort(loaded), Number(loaded.config.temporal.address.split(':')[1]) + 10, name);
    assert.deepEqual(portProblems(loaded, [60000, 61000]), [], name);
    assert.deepEqual(temporalCliArgs(loaded, state).slice(2, 4), ['--tls-ca-path', join(labTlsDir(state), 'ca.pem')]);
  }
  const test = loadConfig(join(configDir, 'lab-test.yaml'));
  assert.equal(devServerAddress(test), '198.18.1.4:17243');
});

test("a lab config whose temporal.tls names other files is refused by field; without tls, the dev server keeps the address's port", () => {
  const other = labConfig('lab-test.yaml', (doc) => doc.setIn(['temporal', 'tls', 'ca'], 'file:/etc/ssl/certs/ca.pem'));
  const state = { state: resolve(other.baseDir, other.config.stateDir) };
  const problems = labTlsRefProblems(other, tlsFilesIn(labTlsDir(state)));
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /lab-test\.yaml: temporal\.tls\.ca: must be file:.*\/\.lab\/test\/tls\/ca\.pem/);
  const plain = labConfig('lab-test.yaml', (doc) => doc.deleteIn(['temporal', 'tls']));
  assert.equal(devServerPort(plain), 17233);
  assert.deepEqual(temporalCliArgs(plain, state), ['--address', '198.18.1.4:17233']);
  assert.deepEqual(portProblems(plain, [60000, 61000]), []);
});
