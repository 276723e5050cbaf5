// The demo's second half: the failback runbook brings the primary home (sg → tw), then a short power-loss drill
// of tw measures RTO and RPO against the objectives, cleans up after itself and writes its HTML report.
import type { Client } from '@temporalio/client';
import { controlTaskQueue, drillWorkflowId, failbackWorkflowId } from '../domain/runs';
import type { DrillInput } from '../domain/drill';
import type { ProgressView } from '../domain/steps';
import type { DrillReport } from '../workflows/drill';
import type { FailbackInput, FailbackReport } from '../workflows/failback';

/** Prints the run's finished steps as they change, until it ends. */
async function followed<R>(client: Client, workflowType: string, workflowId: string, input: unknown): Promise<R> {
  const handle = await client.workflow.start(workflowType, { taskQueue: controlTaskQueue, workflowId, args: [input] });
  let last = '';
  const ticker = setInterval(() => {
    handle.query<ProgressView>('progress').then(
      (p) => {
        const line = `  ${p.status}: ${p.steps
          .filter((x) => x.state === 'done')
          .map((x) => x.name)
          .join(' → ')}`;
        if (line !== last) console.log(line);
        last = line;
      },
      () => undefined,
    );
  }, 300);
  try {
    return (await handle.result()) as R;
  } finally {
    clearInterval(ticker);
  }
}

export async function failBackHome(client: Client): Promise<FailbackReport> {
  const input: FailbackInput = { group: 'trading', returning: 'tw', current: 'sg', requestedBy: 'ops-lead', reason: 'npm run demo: home again' };
  console.log(`\n== failback sg → tw (workflow ${failbackWorkflowId('trading')})`);
  const r = await followed<FailbackReport>(client, 'failback', failbackWorkflowId('trading'), input);
  console.log(`  ${r.outcome}: switchover RTO ${r.rtoMs === null ? '-' : `${(r.rtoMs / 1000).toFixed(2)} s`}; report ${r.files?.markdown}`);
  return r;
}

export async function powerLossDrill(client: Client): Promise<DrillReport> {
  const input: DrillInput = { group: 'trading', scenario: 'power-loss', site: 'tw', requestedBy: 'ops-lead', reason: 'npm run demo: a short drill' };
  console.log(
    `\n== power-loss drill of tw: kill -9 of every process in tw, failover, heal, failback, drift audit (workflow ${drillWorkflowId('trading')})`,
  );
  const r = await followed<DrillReport>(client, 'drill', drillWorkflowId('trading'), input);
  console.log(`  verdict: ${r.verdict}`);
  for (const v of r.verdicts) console.log(`    ${v.verdict.padEnd(12)} ${v.name.padEnd(13)} ${v.measured} (target ${v.target})`);
  console.log(`  drift after cleanup: ${r.cleanup.drift.length ? r.cleanup.drift.map((x) => x.what).join(', ') : 'none'}`);
  console.log(`  HTML report: ${r.files?.html}`);
  return r;
}
