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
import { AesGcmCodec, ENCRYPTED, aesGcmCodec } from '../../activities/payload-codec';
import { portOpen } from '../../lab/procs';
import { serveCodec } from '../../workers/codec/codec-http';
import { projectBinary } from '../helpers/binaries';
import { historyThroughUi, signalThroughUi } from '../helpers/ui';
import type { awaitUiApproval } from '../workflows/ui-approval';
import { temporalAccess } from '../../activities/temporal-access';
import { controlTaskQueue, failoverWorkflowId } from '../../domain/runs';
import type { ProgressView } from '../../domain/steps';
import type { FailoverReport } from '../../workflows/failover';
import { configWith, withWorkers as withLabWorkers } from '../helpers/gate';
import { saveHistory } from '../helpers/histories';
import { freshLab, waitUntil } from '../helpers/lab';
import { signedArgument } from '../helpers/sign';

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

const FAILOVER_PORTS = { frontend: 27243, ui: 27244, codec: 27245, http: 27246, metrics: 27247 };

test('a failover waiting at its gate is approved in the Temporal UI with a statement signed by drctl sign; its stored history holds no plain text', async (t) => {
  await freshLab();
  const ui = `http://${HOST}:${FAILOVER_PORTS.ui}`;
  for (const [name, port] of Object.entries(FAILOVER_PORTS))
    assert.equal(await portOpen(port, HOST), false, `port ${port} (${name}) on ${HOST} is busy: something else listens there`);
  // The test lab's approvers, keys and encryption key, with a gate that waits for one signed approval.
  const base = configWith([]);
  const loaded = configWith([[['approval'], { policy: 'manual', approvers: base.config.approval.approvers, requireSignature: true }]]);
  const { dataConverter } = temporalAccess(loaded);
  const token = randomBytes(24).toString('base64url');
  const codec = aesGcmCodec(loaded.config.temporal.encryption!, loaded.baseDir);
  const server = await serveCodec({ codec, token: () => token, uiOrigins: [ui], host: HOST, port: FAILOVER_PORTS.codec, log: () => undefined });
  t.after(() => new Promise<void>((done) => server.close(() => done())));
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: projectBinary('temporal') },
      ip: HOST,
      port: FAILOVER_PORTS.frontend,
      ui: true,
      uiPort: FAILOVER_PORTS.ui,
      extraArgs: [
        '--ui-codec-endpoint',
        `http://${HOST}:${FAILOVER_PORTS.codec}/${token}`,
        '--http-port',
        String(FAILOVER_PORTS.http),
        '--metrics-port',
        String(FAILOVER_PORTS.metrics),
      ],
    },
  });
  t.after(() => env.teardown());
  const client = new Client({ connection: env.connection, dataConverter });
  const bare = new Client({ connection: env.connection });
  const reason = `ui-approved switchover ${randomBytes(3).toString('hex')}`;
  await withLabWorkers(
    env,
    loaded,
    async () => {
      const handle = await client.workflow.start('failover', {
        taskQueue: controlTaskQueue,
        workflowId: `${failoverWorkflowId('trading')}-ui`,
        args: [{ group: 'trading', from: 'tw', to: 'sg', mode: 'planned', reason, requestedBy: 'ops-lead' }],
      });
      await waitUntil('waiting at the gate', async () => (await handle.query<ProgressView>('progress')).status === 'waiting-approval');
      // What `drctl sign approve <id> --by dba-oncall --reason …` prints, pasted into the UI's signal form.
      const { signed } = (await signedArgument(loaded, handle, 'approve', { by: 'dba-oncall', reason: 'approved in the UI' })) as { signed: object };
      const page = { ui, namespace: 'default', workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      await signalThroughUi({ ...page, signal: 'approve', input: { signed }, png: join(SHOTS, 'failover-approved.png') });
      const r = (await handle.result()) as FailoverReport;
      assert.equal(r.outcome, 'completed', r.error);
      assert.equal(r.approval?.by, 'dba-oncall');
      assert.match(String(r.approval?.approvals?.[0]?.signature?.fingerprint), /^SHA256:/);
      // drctl status (the client with the codec) reads it all decoded; Temporal's bytes hold none of it.
      assert.ok((await handle.query<ProgressView>('progress')).notes.some((n) => /approve by dba-oncall \(signed, key SHA256:/.test(n)));
      assert.match(String(r.rpo.gtidAtPromotion), /^[0-9a-f-]{36}:/, 'a GTID set was recorded');
      const raw = await rawHistory(bare, handle.workflowId, handle.firstExecutionRunId);
      const tw = loaded.config.sites.find((s) => s.id === 'tw')!;
      const fragments = [reason, 'ops-lead', 'dba-oncall', String(r.rpo.gtidAtPromotion).split(':')[0]!, tw.mysql.host];
      for (const f of fragments) assert.ok(!raw.includes(f), `the stored history holds '${f}' in plain text`);
      const history = await historyThroughUi({ ...page, png: join(SHOTS, 'failover-history.png') });
      assert.equal(history.codec, 'success');
      assert.ok(history.text.includes(reason), 'the UI shows the decoded input');
      await saveHistory('failover-encrypted-ui-approved', handle);
    },
    { dataConverter },
  );
});
