// Encrypted payloads, read and written by people through the Temporal UI: a dev server of its own whose UI has
// the codec server as its codec endpoint, a worker with the AES-GCM codec, and headless chromium as the operator.
// Temporal stores only ciphertext; the UI shows the input decoded and sends a signal that the worker can read.
// Standalone: nothing of the lab, ports 27233-27237 on 127.0.0.1. Pictures in reports/temporal-ui/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import '../helpers/quiet';
import { AesGcmCodec, ENCRYPTED } from '../../activities/payload-codec';
import { portOpen } from '../../lab/procs';
import { serveCodec } from '../../workers/codec/codec-http';
import { projectBinary } from '../helpers/binaries';
import { historyThroughUi, signalThroughUi } from '../helpers/ui';
import type { awaitUiApproval } from '../workflows/ui-approval';

const HOST = '127.0.0.1';
const PORTS = { frontend: 27233, ui: 27234, codec: 27235, http: 27236, metrics: 27237 };
const UI = `http://${HOST}:${PORTS.ui}`;
const SHOTS = resolve(__dirname, '../../reports/temporal-ui');
const TASK_QUEUE = 'ui-codec-test';
const NOTE = `purple-elephant-${randomBytes(3).toString('hex')}`;
const APPROVAL = { by: 'ops-alice', reason: `approved in the UI ${randomBytes(3).toString('hex')}` };

/** Every byte Temporal holds of the run, read with no codec. */
async function rawHistory(client: Client, workflowId: string, runId: string): Promise<Buffer> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish());
}

test('the Temporal UI decodes and encodes through the codec server: Temporal stores ciphertext only', async (t) => {
  for (const [name, port] of Object.entries(PORTS))
    assert.equal(await portOpen(port, HOST), false, `port ${port} (${name}) on ${HOST} is busy: something else listens there`);
  rmSync(SHOTS, { recursive: true, force: true }); // no picture of an earlier run's failure
  const token = randomBytes(24).toString('base64url');
  const codec = new AesGcmCodec('ui-test', new Map([['ui-test', randomBytes(32)]]));
  const calls: string[] = [];
  const server = await serveCodec({ codec, token: () => token, uiOrigins: [UI], host: HOST, port: PORTS.codec, log: (line) => calls.push(line) });
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: projectBinary('temporal') },
      ip: HOST,
      port: PORTS.frontend,
      ui: true,
      uiPort: PORTS.ui,
      // The UI's codec endpoint carries the token as a path segment: the UI sends no bearer token without OIDC.
      extraArgs: [
        '--ui-codec-endpoint',
        `http://${HOST}:${PORTS.codec}/${token}`,
        '--http-port',
        String(PORTS.http),
        '--metrics-port',
        String(PORTS.metrics),
      ],
    },
  });
  t.after(() => env.teardown());
  const dataConverter = { payloadCodecs: [codec] };
  const client = new Client({ connection: env.connection, dataConverter });
  const bare = new Client({ connection: env.connection });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: TASK_QUEUE,
    dataConverter,
    workflowsPath: require.resolve('../workflows/ui-approval'),
  });

  await worker.runUntil(async () => {
    const workflowId = `ui-codec-${randomBytes(4).toString('hex')}`;
    const handle = await client.workflow.start<typeof awaitUiApproval>('awaitUiApproval', {
      args: [{ note: NOTE }],
      taskQueue: TASK_QUEUE,
      workflowId,
    });
    const runId = handle.firstExecutionRunId;
    const page = { ui: UI, namespace: 'default', workflowId, runId };

    const before = await rawHistory(bare, workflowId, runId);
    assert.ok(before.includes(ENCRYPTED), 'the raw history holds encrypted payloads');
    assert.ok(!before.includes(NOTE), `the raw history holds the input in clear: '${NOTE}'`);

    const sent = await signalThroughUi({ ...page, signal: 'approve', input: APPROVAL, png: join(SHOTS, 'signal-sent.png') });
    assert.deepEqual(await handle.result(), { input: { note: NOTE }, approval: APPROVAL });
    // The UI encoded the signal's input through the codec server before sending it.
    const after = await rawHistory(bare, workflowId, runId);
    assert.ok(!after.includes(APPROVAL.reason), 'the raw history holds the signal input in clear');
    assert.ok(
      calls.some((line) => /^encode 1 payloads for namespace default: 200/.test(line)),
      `the UI did not encode through the codec server: ${calls.join('; ')}`,
    );

    const history = await historyThroughUi({ ...page, png: join(SHOTS, 'history.png') });
    assert.equal(history.codec, 'success', `the UI's codec status is ${history.codec}`);
    assert.ok(history.text.includes(NOTE), `the UI page does not show the decoded input '${NOTE}'`);
    assert.ok(history.text.includes(APPROVAL.reason), 'the UI page does not show the decoded result');
    assert.ok(!calls.some((line) => /: 40[13] /.test(line)), `the codec server refused the UI: ${calls.join('; ')}`);
    console.log(`UI signal and history: ${sent.png}, ${history.png}; codec calls: ${calls.length}`);
  });
});
