// npm run bench:drill -- [--scenario power-loss|isolation[,…]] [--runs N] [--engine mysql|mariadb] [--json FILE]
// Runs the drill runbook on the three-centre lab (config/lab-test.yaml) back to back: each drill cleans up after
// itself, and the next one starts from what it left, which is the drift audit's claim put to use. Per run and as
// p50/p95/max: rto_ms, phases (ms per phase), lost_acked_writes, lost_gtids, split_brain_writes, cleanup_drift,
// drill_ms (the whole drill, cleanup included) and the verdict. tw's files are synced before each drill, as its
// schedule would keep them. Prints JSON (and writes it to FILE).
import { parseArgs } from 'node:util';
import { connectClient } from '../activities/temporal-access';
import { loadConfig } from '../config/load';
import { DRILL_PHASES, type DrillInput } from '../domain/drill';
import { controlTaskQueue, drillWorkflowId } from '../domain/runs';
import type { DrillReport } from '../workflows/drill';
import { Lab } from '../lab';
import { engineOf } from '../lab/database';
import { printResult, runsOf, scenariosOf, stats } from './bench-kit';

const SCENARIOS = ['power-loss', 'isolation'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: SCENARIOS.join(',') },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
    engine: { type: 'string' },
  },
});
if (values.engine) process.env.DR_LAB_ENGINE = values.engine;
const RUNS = runsOf(values.runs!);
const scenarios = scenariosOf(values.scenario!, SCENARIOS);

type Sample = Record<string, number | null>;

function sampleOf(r: DrillReport, drillMs: number): Sample {
  const m = r.measurement;
  return {
    rto_ms: m.rtoMs,
    ...Object.fromEntries(DRILL_PHASES.map((p) => [`phase:${p}`, m.phases[p]])),
    lost_acked_writes: m.lostAckedWrites,
    lost_gtids: m.lostGtids,
    split_brain_writes: m.splitBrainWrites,
    write_unavailable_ms: m.writeUnavailableMs,
    cleanup_drift: r.cleanup.drift.length,
    drill_ms: drillMs,
  };
}

function summarise(runs: Array<{ sample: Sample; verdict: string }>) {
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.sample)))];
  const verdicts: Record<string, number> = {};
  for (const r of runs) verdicts[r.verdict] = (verdicts[r.verdict] ?? 0) + 1;
  const numeric = (k: string) => runs.map((r) => r.sample[k]).filter((v): v is number => typeof v === 'number');
  return { ...Object.fromEntries(keys.map((k) => [k, stats(numeric(k))])), verdicts, runs: runs.map((r) => ({ verdict: r.verdict, ...r.sample })) };
}

async function main(): Promise<void> {
  const loaded = loadConfig(values.config!);
  const lab = new Lab(loaded, () => {});
  await lab.destroy();
  await lab.up();
  const { client, connection } = await connectClient(loaded);
  // A file RPO to measure, as tw's 5-minute schedule would keep it (a fresh lab has never synced).
  const syncFiles = () =>
    client.workflow.execute('fileSync', {
      taskQueue: controlTaskQueue,
      workflowId: `file-sync-bench-${Date.now()}`,
      args: [{ site: 'tw', kind: 'incremental' }],
    });
  const results: Partial<Record<Scenario, Array<{ sample: Sample; verdict: string }>>> = {};
  for (let i = 0; i < RUNS; i++) {
    for (const scenario of scenarios) {
      await syncFiles();
      const input: DrillInput = { group: 'trading', scenario, requestedBy: 'ops-lead', reason: `bench:drill run ${i + 1}` };
      const t0 = Date.now();
      const r = await client.workflow.execute<(i: DrillInput) => Promise<DrillReport>>('drill', {
        taskQueue: controlTaskQueue,
        workflowId: drillWorkflowId('trading'),
        args: [input],
      });
      const sample = sampleOf(r, Date.now() - t0);
      (results[scenario] ??= []).push({ sample, verdict: r.verdict });
      process.stderr.write(
        `${scenario} ${i + 1}/${RUNS}: ${r.verdict}, rto ${sample.rto_ms} ms, lost ${sample.lost_acked_writes}, split brain ${sample.split_brain_writes}, ` +
          `drift ${sample.cleanup_drift}, drill ${sample.drill_ms} ms (${r.files?.html ?? 'no report'})\n`,
      );
      if (r.cleanup.verdict !== 'clean') throw new Error(`cleanup left the lab changed, stopping: ${JSON.stringify(r.cleanup)}`);
    }
  }
  await connection.close();
  await lab.down();
  const out = {
    runs: RUNS,
    config: values.config,
    engine: engineOf(loaded),
    ...Object.fromEntries(Object.entries(results).map(([name, runs]) => [name, summarise(runs)])),
    note:
      'rto_ms: injection (the fault command returned) → the first write the new primary acknowledged to the router client. ' +
      'phases from the failover child: detect (injection → its start), decide (load plan, assess, gate, scale), fence, catch up, dns, promote, route (route + verify). ' +
      'split_brain_writes: writes the cut-off old primary acknowledged to the in-site client after the promotion (no self-fencing yet).',
  };
  printResult(out, values.json);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
