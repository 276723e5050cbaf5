// npm run bench:site -- --groups 1,4,8,16 [--runs 1] [--rate 20] [--json FILE] [--config config/lab-test.yaml]
//
// How the site failover's cost grows with the number of groups. For each size N the test lab comes up with the
// lab's own group and N − 1 more (lab groups: a MariaDB per site each), every group under a load of --rate
// writes/s through its routers, and a planned site switchover tw → sg runs. Per size: the site run's RTO and
// wall time, each group's RTO (from the site run's start) and longest write pause (p50/p95 over the groups),
// the peak CPU and memory of the control worker, the site workers and Temporal, and the parent history's event
// count and size. Target: the RTO for 16 groups at most 1.5 × the RTO for 1.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectClient } from '../activities/temporal-access';
import { groupView, loadConfig, siteById, type LoadedConfig } from '../config/load';
import { controlTaskQueue, siteFailoverWorkflowId } from '../domain/runs';
import type { SiteFailoverReport } from '../workflows/site-failover';
import type { FailoverReport } from '../workflows/failover';
import { Lab } from '../lab';
import { groupsConfigFile } from '../lab/groups';
import { LoadGenerator } from '../lab/load';
import { alive, readPid } from '../lab/procs';
import { dbName, groupServers } from '../lab/database';
import { workerName } from '../lab/services';
import { printResult, runsOf, stats } from './bench-kit';

const { values } = parseArgs({
  options: {
    groups: { type: 'string', default: '1,4,8,16' },
    runs: { type: 'string', default: '1' },
    rate: { type: 'string', default: '20' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
  },
});

const sizes = values.groups!.split(',').map(Number);
if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 64)) {
  console.error(`--groups: whole numbers from 1 to 64, comma-separated, not '${values.groups}'`);
  process.exit(2);
}
const RUNS = runsOf(values.runs!);
const RATE = Number(values.rate);
if (!(RATE > 0 && RATE <= 200)) {
  console.error(`--rate: writes per second per group, more than 0 and at most 200, not '${values.rate}'`);
  process.exit(2);
}
/** A child's steps on the write path, whose growth the table explains. */
const CHILD_STEPS = ['load plan', 'assess', 'gate', 'nearly caught up', 'fence', 'catch up', 'promote', 'route', 'verify'];
const progress = (line: string) => process.stderr.write(`[bench:site] ${line}\n`);

type Usage = { peak_cpu_percent: number; peak_rss_mib: number; cpu_seconds: number };

/** Peak CPU (share of one core, over each 500 ms) and resident memory of the lab's own processes. */
class Sampler {
  private peaks = new Map<string, { cpu: number; rssMiB: number; cpuSeconds: number }>();
  private last = new Map<string, { ticks: number; at: number }>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly procs: Record<string, number>) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 500);
  }

  /** Each process's peaks; the database servers summed as `databases` (their peaks added: an upper bound). */
  stop(): Record<string, Usage> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, Usage> = {};
    const databases: Usage = { peak_cpu_percent: 0, peak_rss_mib: 0, cpu_seconds: 0 };
    for (const [name, p] of this.peaks) {
      const row = { peak_cpu_percent: Math.round(p.cpu), peak_rss_mib: Math.round(p.rssMiB), cpu_seconds: round(p.cpuSeconds) };
      if (!name.startsWith('db:')) out[name] = row;
      else {
        databases.peak_cpu_percent += row.peak_cpu_percent;
        databases.peak_rss_mib += row.peak_rss_mib;
        databases.cpu_seconds = round(databases.cpu_seconds + row.cpu_seconds);
      }
    }
    return { ...out, databases };
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.procs)) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        const ticks = Number(stat[11]) + Number(stat[12]); // utime + stime, in clock ticks (100 per second)
        const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
        const now = Date.now();
        const before = this.last.get(name);
        const peak = this.peaks.get(name) ?? { cpu: 0, rssMiB: 0, cpuSeconds: 0 };
        if (before) {
          peak.cpu = Math.max(peak.cpu, ((ticks - before.ticks) / 100 / ((now - before.at) / 1000)) * 100);
          peak.cpuSeconds += (ticks - before.ticks) / 100;
        }
        peak.rssMiB = Math.max(peak.rssMiB, rss);
        this.peaks.set(name, peak);
        this.last.set(name, { ticks, at: now });
      } catch {
        /* the process is gone */
      }
    }
  }
}

/** The lab's MySQL runs under a monitor (mysqld_safe-like) whose child is the server; MariaDB runs bare. */
function serverPid(pid: number): number {
  try {
    const child = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return child ? Number(child) : pid;
  } catch {
    return pid;
  }
}

async function oneRun(lab: Lab, loaded: LoadedConfig, size: number, run: number): Promise<Record<string, unknown>> {
  await lab.renew();
  const ids = loaded.config.groups.map((g) => g.id);
  const loads = ids.map((g) => new LoadGenerator(groupView(loaded, g), { ratePerSecond: RATE, writer: `bench-${g}` }));
  const pid = (name: string) => readPid(lab.dirs.pids, name);
  const procs: Record<string, number> = {};
  for (const name of ['temporal', workerName(), ...loaded.config.sites.map((s) => workerName(s.id))]) {
    const rec = pid(name);
    if (rec && alive(rec)) procs[name] = rec.pid;
  }
  // Every database server, summed: the database work.
  const servers = [...loaded.config.sites.map((s) => dbName(s)), ...groupServers(loaded).map((x) => dbName(x.site, x.group))];
  for (const name of servers) {
    const rec = pid(name);
    if (rec && alive(rec)) procs[`db:${name}`] = serverPid(rec.pid);
  }
  const sampler = new Sampler(procs);
  const { client, connection } = await connectClient(loaded);
  try {
    for (const l of loads) l.start();
    await until(() => loads.every((l) => l.acked.length >= RATE));
    sampler.start();
    const t0 = Date.now();
    const workflowId = siteFailoverWorkflowId('tw');
    const report: SiteFailoverReport = await client.workflow.execute('siteFailover', {
      taskQueue: controlTaskQueue,
      workflowId,
      args: [{ site: 'tw', to: 'sg', mode: 'planned', reason: `bench:site ${size} groups`, requestedBy: 'ops-lead' }],
    });
    const wallMs = Date.now() - t0;
    const seen = loads.map((l) => l.acked.length);
    await until(() =>
      loads.every((l, i) => l.acked.length >= seen[i]! + 5 && l.acked.at(-1)!.port === siteById(groupView(loaded, ids[i]!), 'sg').mysql.port),
    );
    const summaries = await Promise.all(loads.map((l) => l.stop()));
    const processes = sampler.stop();
    const d = await client.workflow.getHandle(workflowId).describe();
    if (report.outcome !== 'completed') throw new Error(`the site failover ended ${report.outcome}: ${report.error}`);
    const start = Date.parse(report.startedAt);
    const groupRto = report.groups.map((g) => Date.parse(g.startedAt!) + g.rtoMs! - start);
    const pauses = summaries.map((s) => s.writeUnavailableMs);
    const lost = summaries.reduce((n, s) => n + s.acked.length, 0) - (await ackedOnSg(loaded, ids, summaries)).found;
    const step = (name: string) => report.steps.find((s) => s.name === name)?.durationMs ?? null;
    // Where each group's time went: its own steps, p50/p95 over the groups (from the children's reports).
    const children = report.groups.map((g) => JSON.parse(readFileSync(g.files!.json, 'utf8')) as FailoverReport);
    const childSteps = Object.fromEntries(
      CHILD_STEPS.map((name) => [name, stats(children.map((c) => c.steps.find((x) => x.name === name)?.durationMs ?? 0))]),
    );
    const startLag = stats(report.groups.map((g) => Date.parse(g.startedAt!) - start));
    const sample = {
      groups: ids.length,
      run: run + 1,
      rto_ms: report.rtoMs,
      wall_ms: wallMs,
      group_rto_ms: stats(groupRto),
      write_unavailable_ms: stats(pauses),
      lost_acked_writes: lost,
      steps_ms: {
        assess: step('assess'),
        gate: step('gate'),
        scale: step('scale'),
        dns: step('dns'),
        groups: step('groups'),
        standby: step('standby'),
      },
      child_start_after_ms: startLag,
      child_steps_ms: childSteps,
      processes,
      parent_history: { events: d.historyLength, bytes: Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0) },
    };
    progress(
      `${ids.length} group(s), run ${run + 1}: rto ${sample.rto_ms} ms, wall ${wallMs} ms, history ${sample.parent_history.events} events / ${sample.parent_history.bytes} bytes`,
    );
    return sample;
  } finally {
    sampler.stop();
    await Promise.all(loads.map((l) => l.stop()));
    await connection.close();
  }
}

/** Every acknowledged write of every group, looked for on the group's server in sg. */
async function ackedOnSg(loaded: LoadedConfig, ids: string[], summaries: Array<{ acked: Array<{ seq: number }> }>): Promise<{ found: number }> {
  const { tickSeqs } = await import('../lab/direct');
  let found = 0;
  for (const [i, g] of ids.entries()) {
    const onSg = await tickSeqs(groupView(loaded, g), 'sg');
    found += summaries[i]!.acked.filter((a) => onSg.has(a.seq)).length;
  }
  return { found };
}

async function until(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !check();) {
    if (Date.now() > deadline) throw new Error(`not true after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  const samples: Array<Record<string, unknown>> = [];
  let last: Lab | undefined;
  for (const size of sizes) {
    const file = size === 1 ? values.config! : groupsConfigFile(values.config!, size - 1);
    const loaded = loadConfig(file);
    if (last) await last.stopGroupServers();
    last = new Lab(loaded, () => {});
    for (let run = 0; run < RUNS; run++) samples.push(await oneRun(last, loaded, size, run));
  }
  await last?.stopGroupServers();
  await new Lab(loadConfig(values.config!), () => {}).renew();
  const rtoOf = (n: number) => stats(samples.filter((s) => s.groups === n).map((s) => s.rto_ms as number)).p50;
  const [smallest, largest] = [Math.min(...sizes), Math.max(...sizes)];
  const ratio = (rtoOf(largest) ?? 0) / (rtoOf(smallest) || 1);
  printResult(
    {
      runs: RUNS,
      rate_per_group: RATE,
      config: values.config,
      concurrency: loadConfig(values.config!).config.siteFailover.concurrency,
      samples,
      [`ratio_rto_${largest}_over_${smallest}`]: round(ratio),
      target: `rto(${largest}) <= 1.5 × rto(${smallest})`,
      target_met: ratio <= 1.5,
      note:
        "rto_ms: the site run's start until its last group's new primary took a probe write (each child's RTO, from the site run's " +
        'start). write_unavailable_ms: per group, the longest gap between two acknowledged writes of its load. processes: the lab’s ' +
        'control worker, site workers and Temporal dev server, sampled every 500 ms during the site run. parent_history: the ' +
        'site-failover workflow’s own history (each group is a child with a history of its own).',
      machine: `${join('/proc', 'cpuinfo')}: ${
        readFileSync('/proc/cpuinfo', 'utf8')
          .split('\n')
          .filter((l) => l.startsWith('processor')).length
      } cores`,
    },
    values.json,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
