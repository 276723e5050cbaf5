// Histories of real runs, saved as replay fixtures when DR_SAVE_HISTORIES=1 (see test/replay.test.ts).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Payload, PayloadCodec } from '@temporalio/common';

export const HISTORIES = join(__dirname, '..', 'fixtures', 'histories');

export async function saveHistory(name: string, handle: WorkflowHandle): Promise<void> {
  if (process.env.DR_SAVE_HISTORIES !== '1') return;
  mkdirSync(HISTORIES, { recursive: true });
  const history = await handle.fetchHistory();
  // Binary protobuf: exact, and independent of which protobufjs copy decoded it.
  writeFileSync(join(HISTORIES, `${name}.history.pb`), temporal.api.history.v1.History.encode(history).finish());
  // Histories do not hold their workflow id, and a signed decision is checked against it: replay needs it.
  writeFileSync(join(HISTORIES, `${name}.workflow-id`), `${handle.workflowId}\n`);
}

/**
 * Every history on the lab's server, searched byte for byte for every secret the lab holds (each file under
 * its secrets folder). Workflows carry only references (env:/file:); activities resolve them. Returns the
 * number of histories searched and the offenders as "workflowId: secret file".
 */
export async function secretsInHistories(client: Client, secretsDir: string): Promise<{ searched: number; offenders: string[] }> {
  // With encryption on, the stored bytes are ciphertext: the search reads what the payloads say, decoded.
  const codecs = client.options.loadedDataConverter.payloadCodecs;
  const secrets = readdirSync(secretsDir)
    .map((f) => ({ f, value: readFileSync(join(secretsDir, f), 'utf8').trim() }))
    .filter((s) => s.value.length >= 8);
  if (secrets.length === 0) throw new Error(`no secrets found in ${secretsDir}: nothing to search for`);
  let searched = 0;
  const offenders: string[] = [];
  for await (const wf of client.workflow.list()) {
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    await decodeInPlace(history, codecs);
    const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish());
    if (bytes.includes('binary/encrypted')) throw new Error(`${wf.workflowId}: a payload is still encrypted: the search would be blind`);
    searched++;
    for (const s of secrets) if (bytes.includes(s.value)) offenders.push(`${wf.workflowId}: ${s.f}`);
  }
  return { searched, offenders };
}

/** Fails naming each workflow that holds a secret value; at least `min` histories must have been searched. */
export async function assertNoSecretsInHistories(client: Client, secretsDir: string, min = 1): Promise<void> {
  const { searched, offenders } = await secretsInHistories(client, secretsDir);
  if (searched < min) throw new Error(`only ${searched} workflow histories on the server, expected at least ${min}`);
  if (offenders.length) throw new Error(`secret values found in workflow histories: ${offenders.join('; ')}`);
}

/** Every encoded payload anywhere in a history, decoded where it lies (payloads nest in events, failures, headers). */
async function decodeInPlace(node: unknown, codecs: PayloadCodec[]): Promise<void> {
  if (!node || typeof node !== 'object' || ArrayBuffer.isView(node)) return;
  for (const [k, v] of Object.entries(node)) {
    if (v && typeof v === 'object' && 'metadata' in v && 'data' in v && ArrayBuffer.isView((v as { data: unknown }).data)) {
      let p = v as Payload;
      for (const c of [...codecs].reverse()) p = (await c.decode([p]))[0]!;
      (node as Record<string, unknown>)[k] = p;
    } else await decodeInPlace(v, codecs);
  }
}
