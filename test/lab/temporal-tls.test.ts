// TLS to the test lab's Temporal (config/lab-test.yaml's temporal.tls): the lab's HAProxy on temporal.address
// requires a client certificate signed by the lab's CA. Without one a client is refused, with one it works, and
// drctl, which connects the way every process does (activities/temporal-access.ts), gets through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import '../helpers/quiet';
import { connectionOptions, temporalAccess } from '../../activities/temporal-access';
import { ROOT } from '../../lab/paths';
import { labTlsDir, TEMPORAL_TLS } from '../../lab/temporal-tls';
import { tlsFilesIn } from '../../lab/tls-certs';
import { labClient, testLab } from '../helpers/lab';

const lab = testLab();
const address = lab.loaded.config.temporal.address;
const files = tlsFilesIn(labTlsDir(lab.dirs));
const ca = () => readFileSync(files.ca);

/** `work`, or a rejection naming `what` after `ms`: a refusal must come as an error, not as a hang. */
function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms} ms`)), ms)));
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

test('the lab runs the TLS proxy on temporal.address, and the dev server behind it is healthy', async () => {
  const rows = await lab.status();
  const proxy = rows.find((r) => r.component === TEMPORAL_TLS);
  assert.equal(proxy?.health, 'serving (mTLS, HAProxy)', JSON.stringify(proxy));
  assert.equal(proxy?.port, Number(address.split(':')[1]));
  assert.equal(rows.find((r) => r.component === 'temporal')?.health, 'serving');
});

test("a client without a certificate is refused by the lab's proxy", async () => {
  // The worker's core (rustls) reports the server's alert at once.
  await assert.rejects(
    within(10_000, 'NativeConnection without a certificate', NativeConnection.connect({ address, tls: { serverRootCACertificate: ca() } })),
    // The handshake ends at the missing certificate; how the SDK words it depends on timing: the alert, or the
    // proxy's close seen as a closed connection or (while the client still writes) a broken pipe.
    /CertificateRequired|connection closed|broken pipe/,
  );
  // grpc-js retries the refused handshake until the connect timeout: a short one, and an error when it ends.
  const t0 = Date.now();
  await assert.rejects(
    within(10_000, 'Connection without a certificate', Connection.connect({ address, tls: { serverRootCACertificate: ca() }, connectTimeout: '2s' })),
    /Failed to connect before the deadline/,
  );
  assert.ok(Date.now() - t0 < 5_000, `refused after ${Date.now() - t0} ms`);
  // Plain gRPC to the TLS port is no way round it either.
  await assert.rejects(
    within(10_000, 'Connection without TLS', Connection.connect({ address, connectTimeout: '2s' })),
    /Failed to connect before the deadline/,
  );
});

test("a client and a worker's connection with the lab's certificate, from the config, get through", async () => {
  const { client, close } = await labClient(lab.loaded);
  try {
    const info = await client.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the dev server answered through the proxy');
    await assert.rejects(client.workflow.getHandle('tls-nowhere').describe(), /not found/);
  } finally {
    await close();
  }
  const native = await within(
    10_000,
    'NativeConnection with the certificate',
    NativeConnection.connect(connectionOptions(temporalAccess(lab.loaded))),
  );
  try {
    const { serverVersion } = await native.workflowService.getSystemInfo({});
    assert.ok(serverVersion);
  } finally {
    await native.close();
  }
});

test("drctl status gets through the proxy: Temporal's not-found answer proves the handshake", async () => {
  const r = await new Promise<{ status: number | null; stderr: string; stdout: string }>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'cli/drctl.ts'), '--config', lab.loaded.file, 'status', 'failover-tls-nowhere'],
      {
        cwd: ROOT,
      },
    );
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const out = { stdout: '', stderr: '' };
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out.stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (out.stderr += text));
    child.on('error', reject);
    child.on('close', (status) => (clearTimeout(timer), resolve({ status, ...out })));
  });
  assert.equal(r.status, 3, `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.match(r.stderr, /^no such run: failover-tls-nowhere \(namespace default\)$/m);
});
