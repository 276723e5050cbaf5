// npm run bench:failover -- [--scenario planned|planned-dns10|power-loss|city-loss[,…]] [--runs N] [--to SITE]
//                            [--engine mysql|mariadb] [--busy N] [--json FILE]
// Measures the failover runbook on the three-centre lab (config/lab-test.yaml), under a 250 writes/s load that
// goes through a site's HAProxy as an application's would (so the write pause is the client's), and a 50 ms
// poll of every server's read_only:
//   planned     switchover tw → --to (default sg); the third replica follows. Beside it, `raw`: the same SQL,
//               Kubernetes, router and SDK calls up to the probe write, in the runbook's order, with no Temporal.
//   planned-dns10  the same switchover with the lab's Route 53 answering PENDING for 10 s after each change, as
//               the real one does: the RTO waits for INSYNC, the writers should not.
//   power-loss  `lab power-off tw` (kill -9 of every process in its namespace), then an unplanned failover
//               with `to` omitted: the runbook picks the most advanced replica (tw2, semi-sync).
//   city-loss   tw and tw2 powered off at once; the failover picks sg.
// Per run and as p50/p95/max: rto_ms, write_unavailable_ms, lost_acked_writes, lost_gtids (the fence on return's
// count, once the old primary has power again), repointed, two_writable_moments; and which site was promoted.
// Each run starts from a fresh data plane. Prints JSON (and writes it to FILE).
import { parseArgs } from 'node:util';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Client } from '@temporalio/client';
import { connectClient } from '../activities/temporal-access';
import { loadConfig, type LoadedConfig } from '../config/load';
import { createSiteActivities } from '../activities';
import type { FailoverReport } from '../workflows/failover';
import type { FenceOnReturnReport } from '../workflows/fence-on-return';
import { controlTaskQueue, failoverWorkflowId, fenceOnReturnWorkflowId } from '../domain/runs';
import { Lab } from '../lab';
import { tickSeqs } from '../lab/direct';
import { LoadGenerator, SplitBrainWatch } from '../lab/load';
import { engineOf } from '../lab/database';
import { powerOff, powerOn } from '../lab/faults';
import { setInsyncDelay } from '../lab/moto';
import { printResult, runsOf, scenariosOf, stats } from './bench-kit';

const SCENARIOS = ['planned', 'planned-dns10', 'power-loss', 'city-loss'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: SCENARIOS.join(',') },
    runs: { type: 'string', default: '5' },
    to: { type: 'string', default: 'sg' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
    engine: { type: 'string' },
    /** Processes that keep a core each busy for the whole run: the loaded set. */
    busy: { type: 'string', default: '0' },
  },
});
if (values.engine) process.env.DR_LAB_ENGINE = values.engine; // the lab and its workers run this engine
const RUNS = runsOf(values.runs!);
const scenarios = scenariosOf(values.scenario!, SCENARIOS);

type Sample = Record<string, number>;
interface Run {
  sample: Sample;
  promoted: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const progress = (m: string) => process.stderr.write(`${m}\n`);

function summarise(runs: Run[]) {
  const samples = runs.map((r) => r.sample);
  const keys = [...new Set(samples.flatMap((x) => Object.keys(x)))];
  const promoted: Record<string, number> = {};
  for (const r of runs) promoted[r.promoted] = (promoted[r.promoted] ?? 0) + 1;
  return {
    ...Object.fromEntries(keys.map((k) => [k, stats(samples.map((x) => x[k]).filter((v): v is number => typeof v === 'number'))])),
    promoted,
    runs: runs.map((r) => ({ promoted: r.promoted, ...r.sample })),
  };
}

function stepTimes(r: FailoverReport): Sample {
  return Object.fromEntries(r.steps.filter((s) => s.durationMs !== undefined && s.state === 'done').map((s) => [`step:${s.name}`, s.durationMs!]));
}

/** Load and the split-brain poll around one run; what the clients saw, once it is over. */
async function underLoad<T>(loaded: LoadedConfig, fn: () => Promise<T>) {
  const load = new LoadGenerator(loaded, { ratePerSecond: 250 });
  const watch = new SplitBrainWatch(loaded, 50);
  load.start();
  watch.start();
  await sleep(1000);
  const result = await fn();
  await sleep(700);
  const seen = await load.stop();
  const poll = await watch.stop();
  return { result, seen, twoWritable: poll.violations.length };
}

class Bench {
  constructor(
    private readonly lab: Lab,
    private readonly client: Client,
  ) {}

  private failover(mode: 'planned' | 'unplanned', to: string | undefined, why: string): Promise<FailoverReport> {
    return this.client.workflow.execute('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [{ group: 'trading', from: 'tw', ...(to ? { to } : {}), mode, reason: `bench ${why}`, requestedBy: 'ops-lead' }],
    }) as Promise<FailoverReport>;
  }

  /** A clean lab with tw primary: every site powered, the data plane reset, every worker running. */
  async reset(): Promise<void> {
    await this.lab.resetDataPlane();
    await this.lab.up();
  }

  async planned(i: number): Promise<Run> {
    const loaded = this.lab.loaded;
    const { result: r, seen, twoWritable } = await underLoad(loaded, () => this.failover('planned', values.to, `planned ${i}`));
    const promoted = r.candidate?.chosen ?? values.to!;
    const onNew = await tickSeqs(loaded, promoted);
    const sample: Sample = {
      rto_ms: r.rtoMs ?? NaN,
      write_unavailable_ms: seen.writeUnavailableMs,
      lost_acked_writes: seen.acked.filter((a) => !onNew.has(a.seq)).length,
      lost_gtids: r.rpo.lost.count ?? NaN,
      repointed: repointed(r),
      two_writable_moments: twoWritable,
      ...stepTimes(r),
    };
    return { sample, promoted };
  }

  /** The switchover with the lab's Route 53 PENDING for 10 s after each change. */
  async plannedSlowDns(i: number): Promise<Run> {
    setInsyncDelay(this.lab.dirs, 10);
    try {
      return await this.planned(i);
    } finally {
      setInsyncDelay(this.lab.dirs, 0);
    }
  }

  /** Sites lose power under load; the runbook chooses where to go; the sites come back and are fenced. */
  async lost(sites: string[], i: number): Promise<Run> {
    const loaded = this.lab.loaded;
    const {
      result: r,
      seen,
      twoWritable,
    } = await underLoad(loaded, async () => {
      await Promise.all(sites.map((s) => powerOff(this.lab, s)));
      return this.failover('unplanned', undefined, `${sites.join('+')} lost ${i}`);
    });
    const promoted = r.candidate?.chosen ?? r.input.to ?? 'none';
    for (const s of sites) await powerOn(this.lab, s);
    const back = (await this.client.workflow.getHandle(fenceOnReturnWorkflowId('tw')).result()) as FenceOnReturnReport;
    const onNew = await tickSeqs(loaded, promoted);
    const sample: Sample = {
      rto_ms: r.rtoMs ?? NaN,
      write_unavailable_ms: seen.writeUnavailableMs,
      lost_acked_writes: seen.acked.filter((a) => !onNew.has(a.seq)).length,
      lost_gtids: back.lost.count ?? NaN,
      repointed: repointed(r),
      two_writable_moments: twoWritable,
      ...stepTimes(r),
    };
    return { sample, promoted };
  }

  /** The planned switchover's calls, in sequence, with no Temporal: what the runbook's machinery costs. */
  async raw(): Promise<Run> {
    const loaded = this.lab.loaded;
    const to = values.to!;
    const site = (id: string) =>
      createSiteActivities(
        loaded,
        loaded.config.sites.find((s) => s.id === id)!,
      );
    const [tw, target] = [site('tw'), site(to)];
    const everyone = loaded.config.sites.map((s) => site(s.id));
    const t: Sample = {};
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const out = await fn();
      t[`step:${name}`] = Date.now() - t0;
      return out;
    };
    const { seen } = await underLoad(loaded, async () => {
      const t0 = Date.now();
      await step('assess', () => Promise.all(everyone.map((s) => s.inspectDatabase())));
      const [, change] = await Promise.all([
        step('scale', () => target.scaleServices({ group: 'trading', profile: 'production', timeoutMs: 180_000 })),
        step('dns', () => target.dnsPointAt({ site: to })),
      ]);
      const insync = target.dnsWaitInsync({ changeId: change.changeId, timeoutMs: 60_000 });
      await step('nearly caught up', () => target.waitNearlyCaughtUp({ maxTransactions: 50, maxApplyMs: 200, timeoutMs: 60_000 }));
      const fence = await step('fence', async () => {
        const f = await tw.fenceDatabase();
        await Promise.all(everyone.flatMap((s) => [s.proxysqlFenceWriter({ primary: 'tw' }), s.haproxyFenceWriter({ primary: 'tw' })]));
        return f;
      });
      await step('catch up', () => target.waitForGtids({ gtids: fence.gtidExecuted, timeoutMs: 60_000 }));
      await step('promote', () => target.promoteDatabase());
      await step('route', () =>
        Promise.all(
          everyone.flatMap((s) => [
            s.proxysqlRouteWriter({ newPrimary: to, oldPrimary: 'tw' }),
            s.haproxyRouteWriter({ newPrimary: to, oldPrimary: 'tw' }),
          ]),
        ),
      );
      await step('insync', () => insync);
      await step('verify', () => target.writeProbe({ runbook: 'bench-raw' }));
      t.rto_ms = Date.now() - t0;
    });
    t.write_unavailable_ms = seen.writeUnavailableMs;
    return { sample: t, promoted: to };
  }
}

/** A busy loop per process, each its own OS process: another tenant keeping the cores loaded. */
function keepCoresBusy(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

const repointed = (r: FailoverReport) => (r.replicas ?? []).filter((x) => x.outcome === 'replicates').length;

async function main(): Promise<void> {
  const loaded = loadConfig(values.config!);
  const lab = new Lab(loaded, () => {});
  await lab.destroy();
  await lab.up();
  const busy = keepCoresBusy(Number(values.busy));
  const { client, connection } = await connectClient(loaded);
  const bench = new Bench(lab, client);
  const results: Partial<Record<Scenario | 'raw', Run[]>> = {};
  const record = (name: Scenario | 'raw', i: number, run: Run) => {
    (results[name] ??= []).push(run);
    const s = run.sample;
    progress(
      `${name} ${i + 1}/${RUNS}: promoted ${run.promoted}, rto ${s.rto_ms} ms, writes paused ${s.write_unavailable_ms} ms, ` +
        `lost acked ${s.lost_acked_writes ?? '-'}, lost GTIDs ${s.lost_gtids ?? '-'}, two writable ${s.two_writable_moments ?? '-'}`,
    );
  };
  for (let i = 0; i < RUNS; i++) {
    for (const scenario of scenarios) {
      await bench.reset();
      if (scenario === 'planned') record('planned', i, await bench.planned(i));
      if (scenario === 'planned-dns10') record('planned-dns10', i, await bench.plannedSlowDns(i));
      if (scenario === 'power-loss') record('power-loss', i, await bench.lost(['tw'], i));
      if (scenario === 'city-loss') record('city-loss', i, await bench.lost(['tw', 'tw2'], i));
      if (scenario !== 'planned') continue;
      await bench.reset();
      record('raw', i, await bench.raw());
    }
  }
  await connection.close();
  for (const p of busy) p.kill();
  await lab.down();

  const p50 = (name: Scenario | 'raw') => stats((results[name] ?? []).map((r) => r.sample.rto_ms!)).p50;
  const out = {
    runs: RUNS,
    config: values.config,
    engine: engineOf(loaded),
    busy_processes: busy.length,
    ...Object.fromEntries(Object.entries(results).map(([name, runs]) => [name, summarise(runs)])),
    ...(results.planned ? { ratio_planned_to_raw_rto_p50: (p50('planned') ?? 0) / (p50('raw') || 1) } : {}),
    note:
      "rto_ms: start of the run until DNS is INSYNC and the new primary accepted a probe write through its site's HAProxy " +
      '(moto answers INSYNC at once; planned-dns10 holds it PENDING for 10 s). write_unavailable_ms: the longest gap between ' +
      'two acknowledged writes of the 250/s load, which goes through HAProxy. ' +
      'two_writable_moments: polls (every 50 ms, each server read directly) that saw more than one server writable.',
  };
  printResult(out, values.json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
