// npm run demo: bring the two-site lab up, run preflight through Temporal, print what it found.
// The lab is left running so the UI and the `temporal` CLI can be used on it.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/load';
import { Lab } from './lab/index';
import type { PreflightReport } from '../workflows/preflight';
import { controlTaskQueue } from '../workflows/types';
import { renderPreflight } from './render';

async function main(): Promise<void> {
  const file = process.env.DR_CONFIG ?? 'config/lab.yaml';
  const loaded = loadConfig(file);
  const lab = new Lab(loaded, (l) => console.log(`  ${l}`));
  console.log(`== lab up (${file})`);
  await lab.up();

  const connection = await Connection.connect({ address: loaded.config.temporal.address });
  const client = new Client({ connection, namespace: loaded.config.temporal.namespace });
  const workflowId = `preflight-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  console.log(`\n== preflight (workflow ${workflowId})`);
  const report = await client.workflow.execute<(i: object) => Promise<PreflightReport>>('preflight', { taskQueue: controlTaskQueue, workflowId, args: [{}] });
  console.log(renderPreflight(report));
  await connection.close();

  const ui = `http://127.0.0.1:${loaded.config.lab!.temporalUiPort}`;
  console.log(`\nTemporal UI: ${ui}/namespaces/${loaded.config.temporal.namespace}/workflows/${workflowId}`);
  console.log(`Again from the CLI: .venv/bin/temporal workflow execute --address ${loaded.config.temporal.address} --task-queue ${controlTaskQueue} --type preflight --input '{}'`);
  console.log('The lab keeps running: npm run lab -- status | npm run lab -- down');
  if (!report.ok) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
