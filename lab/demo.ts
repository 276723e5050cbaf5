// npm run demo: bring the three-centre lab up (tw, tw2 and sg, each a network namespace, and ops with the control
// plane), show who replicates from whom and who reaches whom, sync the primary's files to the object store, run
// preflight, then a real planned switchover tw → sg under a trading load, in which tw2 follows the new primary,
// and print the report; then fail back home to tw and end with a short power-loss drill of tw, whose HTML report
// it names. The lab is left running for the UI.
import type { Client } from '@temporalio/client';
import { connectClient } from '../activities/temporal-access';
import { temporalCliArgs } from './temporal-tls';
import { loadConfig } from '../config/load';
import { Lab } from '.';
import { engineOf } from './database';
import type { PreflightReport } from '../workflows/preflight';
import { controlTaskQueue } from '../domain/runs';
import { renderPreflight } from '../cli/render';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { FileSyncReport } from '../workflows/file-sync';
import type { FailoverReport } from '../workflows/failover';
import { failoverWorkflowId } from '../domain/runs';
import type { ProgressView } from '../domain/steps';
import { LoadGenerator } from './load';
import { readNotices } from './notice-sink';
import { labOf } from './settings';
import { formatReachability } from './network';
import { formatTopology, topology } from './topology';
import { failBackHome, powerLossDrill } from './demo-drill';

/**
 * The primary's share goes to the object store first, as its 5-minute schedule would do: preflight checks the
 * file RPO too. An empty share gets a small sample tree, so there is something to sync.
 */
async function syncFiles(client: Client, loaded: LoadedConfig): Promise<void> {
  const site = loaded.config.sites.find((s) => s.role === 'primary' && s.rclone);
  if (!site) return;
  const share = resolve(loaded.baseDir, site.rclone!.sharePath);
  if (!existsSync(share) || readdirSync(share).length === 0) {
    for (let day = 1; day <= 4; day++) {
      const dir = join(share, 'reports', `2026-11-0${day}`);
      mkdirSync(dir, { recursive: true });
      for (let n = 1; n <= 50; n++)
        writeFileSync(
          join(dir, `trades-${n}.csv`),
          `seq,symbol,qty\n${Array.from({ length: 100 }, (_, i) => `${i},TWSE:${2330 + n},${day * i}`).join('\n')}\n`,
        );
    }
  }
  const workflowId = `file-sync-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  console.log(`\n== file sync: ${site.id}'s share to the object store (workflow ${workflowId})`);
  const r = await client.workflow.execute<(i: object) => Promise<FileSyncReport>>('fileSync', {
    taskQueue: controlTaskQueue,
    workflowId,
    args: [{ site: site.id, kind: 'incremental' }],
  });
  for (const p of r.paths) {
    console.log(
      `  ${p.path}: ${p.guard?.sourceFiles} file(s) in the share; uploaded ${p.sync?.uploadedFiles} (${p.sync?.uploadedBytes} bytes); file RPO point ${p.sync?.startedAt}`,
    );
  }
}

/** The three centres: where each site lives, who replicates from whom, and who reaches whom. */
async function showLayout(lab: Lab): Promise<void> {
  const net = lab.network;
  console.log('\n== the sites');
  for (const site of net.sites) {
    const where = net.place(site);
    const role =
      site === net.controlSite
        ? 'control plane: Temporal, the control worker, Route 53 (moto), the object store, notices'
        : 'database, ProxySQL, Kubernetes, site worker';
    console.log(`  ${site.padEnd(5)} ${where.host.padEnd(12)} ${where.netns ? `namespace ${where.netns}` : 'loopback'}: ${role}`);
  }
  console.log(`\n== replication\n${formatTopology(await topology(lab.loaded, lab.dirs)).join('\n')}`);
  if (net.enabled && !net.whyNot())
    console.log(`\n== reachability (row reaches column; try: npm run lab -- isolate tw)\n${formatReachability(await net.reachability())}`);
}

async function main(): Promise<void> {
  const file = process.env.DR_CONFIG ?? 'config/lab.yaml';
  const loaded = loadConfig(file);
  let lab = new Lab(loaded, (l) => console.log(`  ${l}`));
  console.log(`== lab up (${file}; databases: ${engineOf(loaded) === 'mysql' ? 'MySQL (the project tree)' : 'MariaDB'})`);
  await lab.up();
  if ((await lab.status()).find((r) => r.component === 'db-tw')?.health !== 'writable') {
    // A previous demo already switched over; the switch back is the failback runbook's job, so start afresh.
    console.log('== tw is not the primary any more (an earlier demo switched over): starting a fresh lab');
    await lab.destroy();
    lab = new Lab(loaded, (l) => console.log(`  ${l}`));
    await lab.up();
  }

  await showLayout(lab);
  const { client, connection } = await connectClient(loaded);
  await syncFiles(client, loaded);
  const workflowId = `preflight-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  console.log(`\n== preflight (workflow ${workflowId})`);
  const report = await client.workflow.execute<(i: object) => Promise<PreflightReport>>('preflight', {
    taskQueue: controlTaskQueue,
    workflowId,
    args: [{}],
  });
  console.log(renderPreflight(report));
  if (!report.ok) {
    throw new Error(
      'preflight is not OK: no switchover. Mend what the flags above name, or start over from a clean lab with ' +
        '`npm run lab -- destroy` and `npm run demo`.',
    );
  }

  console.log(`\n== planned switchover tw → sg under a 250 writes/s load (workflow ${failoverWorkflowId('trading')})`);
  const since = new Date().toISOString();
  const load = new LoadGenerator(loaded, { ratePerSecond: 250, writer: 'demo' });
  load.start();
  await new Promise((r) => setTimeout(r, 1500));
  const handle = await client.workflow.start('failover', {
    taskQueue: controlTaskQueue,
    workflowId: failoverWorkflowId('trading'),
    args: [{ group: 'trading', from: 'tw', to: 'sg', mode: 'planned', reason: 'npm run demo', requestedBy: 'ops-lead' }],
  });
  let last = '';
  const ticker = setInterval(() => {
    handle.query<ProgressView>('progress').then(
      (p) => {
        const done = p.steps.filter((x) => x.state === 'done' || x.state === 'skipped').map((x) => x.name);
        const line = `  ${p.status}: ${done.join(' → ')}`;
        if (line !== last) console.log(line);
        last = line;
      },
      () => undefined,
    );
  }, 200);
  const result = (await handle.result()) as FailoverReport;
  clearInterval(ticker);
  await new Promise((r) => setTimeout(r, 1000));
  const summary = await load.stop();
  console.log(readFileSync(result.files!.markdown, 'utf8'));
  console.log(`== replication after the switchover\n${formatTopology(await topology(loaded, lab.dirs)).join('\n')}`);
  console.log(
    `load: ${summary.acked.length} writes acknowledged (${Math.round(summary.ratePerSecond)}/s); longest write pause ${summary.writeUnavailableMs} ms`,
  );
  const notices = readNotices(lab.dirs).filter((n) => n.at >= since);
  console.log(`\n== notices received by the lab's sink (${notices.length}; all in ${lab.dirs.state}/notices.jsonl)`);
  for (const n of notices) console.log(`  ${n.via.padEnd(7)} → ${n.target}: ${n.title}`);

  if (result.outcome !== 'completed') {
    await connection.close();
    process.exitCode = 1;
    return;
  }

  const back = await failBackHome(client);
  const drill = back.outcome === 'completed' ? await powerLossDrill(client) : undefined;
  await connection.close();
  const ui = `http://${lab.network.place().host}:${labOf(loaded).temporalUiPort}`;
  console.log(`\nTemporal UI: ${ui}/namespaces/${loaded.config.temporal.namespace}/workflows (failover, failback and drill of trading)`);
  console.log(
    `Again from the CLI: .venv/bin/temporal workflow execute ${temporalCliArgs(loaded, lab.dirs).join(' ')} --task-queue ${controlTaskQueue} --type preflight --input '{}'`,
  );
  console.log('The lab keeps running: npm run lab -- status | npm run lab -- down');
  if (back.outcome !== 'completed' || drill?.cleanup.verdict !== 'clean') process.exitCode = 1;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
