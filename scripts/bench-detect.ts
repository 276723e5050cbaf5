// npm run bench:detect -- [--scenario db-kill|power-loss|isolation[,…]] [--runs N] [--json FILE]
// From a fault to the first write acknowledged by the new primary, with nobody in the loop: the site agents,
// the incident's quorum, the failover, on the three-centre lab with detection on (a copy of config/lab-test.yaml).
// Per scenario, p50/p95/max of detect_ms (fault → first report), decide_ms (→ quorum confirmed), failover_ms
// (→ first write on the new primary) and rto_ms (fault → that write); lost_acked_writes; split_brain_writes
// (writes an in-site client got acknowledged by the old primary after the new one took its first). A blip
// (tw's database stalled for 1 s) is run too: false_failovers. The raw floor is the confirmation window plus
// the raw promote and route calls after the same kill -9, with no Temporal; `ratio` is rto_ms p50 over it.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import { connectClient } from '../activities/temporal-access';
import { parseDocument } from 'yaml';
import { loadConfig, siteById, type LoadedConfig } from '../config/load';
import { planOf } from '../config/plan';
import { resolveSecret } from '../activities/secrets';
import { promoteDatabase } from '../activities/promote';
import { routeWriter } from '../activities/proxysql';
import { failoverWorkflowId, incidentWorkflowId } from '../domain/runs';
import type { IncidentReport } from '../workflows/incident';
import type { FailoverReport } from '../workflows/failover';
import { Lab } from '../lab';
import { dbName } from '../lab/database';
import { powerOff } from '../lab/faults';
import { LoadGenerator, type Ack } from '../lab/load';
import { readPid } from '../lab/procs';
import { tickSeqs } from '../lab/direct';
import { printResult, runsOf, scenariosOf, stats } from './bench-kit';

const SCENARIOS = ['db-kill', 'power-loss', 'isolation'] as const;
type Scenario = (typeof SCENARIOS)[number];

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: SCENARIOS.join(',') },
    runs: { type: 'string', default: '5' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
  },
});
const RUNS = runsOf(values.runs!);
const scenarios = scenariosOf(values.scenario!, SCENARIOS);

/** The test lab's config with detection on, beside it (its relative paths hold). */
function detectionConfig(base: string): string {
  const doc = parseDocument(readFileSync(base, 'utf8'));
  doc.setIn(['detection', 'enabled'], true);
  const file = base.replace(/([^/]+)$/, '.bench-detect-$1');
  writeFileSync(file, doc.toString());
  return file;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (line: string) => console.error(`[bench:detect] ${line}`);

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await check().catch(() => undefined);
    if (r !== undefined) return r;
    await sleep(50);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms`);
}

type Sample = Record<string, number | null>;

async function run(lab: Lab, client: Client, scenario: Scenario | 'blip'): Promise<Sample> {
  await lab.renew();
  const { loaded } = lab;
  const tw = siteById(loaded, 'tw');
  const router = new LoadGenerator(loaded, { ratePerSecond: 200, writer: 'bench-router' });
  const inSite = new LoadGenerator(loaded, {
    ratePerSecond: 200,
    writer: 'bench-in-tw',
    startSeq: 10_000_000,
    pinned: { host: tw.mysql.host, port: tw.mysql.port },
  });
  router.start();
  inSite.start();
  await until('writes flow', async () => (router.acked.length > 100 ? true : undefined));
  const t0 = Date.now();
  await inject(lab, scenario);
  const firstNew =
    scenario === 'blip'
      ? null
      : await until('a write on the new primary', async () => router.acked.find((a) => a.at >= t0 && a.port !== tw.mysql.port));
  await sleep(scenario === 'blip' ? 6000 : 1000);
  const [routed, local] = [await router.stop(), await inSite.stop()];
  const incident = await incidentOf(client, lab, t0);
  const failovers = await failoversSince(client, t0);
  if (scenario === 'isolation') lab.network.heal();
  if (!firstNew || !incident) return { false_failovers: failovers, incidents: incident ? 1 : 0 };
  const newSite = loaded.config.sites.find((s) => s.mysql.port === firstNew.port)!.id;
  const seen = Date.parse(incident.signals[0]!.kind === 'agent' ? incident.signals[0]!.at : incident.signals[0]!.startsAt);
  const confirmed = Date.parse(incident.steps.find((s) => s.name === 'confirm')!.endedAt!);
  const held = await tickSeqs(loaded, newSite);
  const steps = failoverSteps(lab, incident);
  const lost = (acks: Ack[]) => acks.filter((a) => a.at < firstNew.at && !held.has(a.seq)).length;
  return {
    detect_ms: seen - t0,
    decide_ms: confirmed - seen,
    failover_ms: firstNew.at - confirmed,
    rto_ms: firstNew.at - t0,
    lost_acked_writes: lost(routed.acked) + (scenario === 'db-kill' || scenario === 'power-loss' ? 0 : lost(local.acked)),
    split_brain_writes: local.acked.filter((a) => a.at >= firstNew.at && a.port === tw.mysql.port).length,
    false_failovers: 0,
    ...steps,
  };
}

/** Where the failover's time went: each step on the way to the first write, in ms (`step:<name>`). */
function failoverSteps(lab: Lab, incident: IncidentReport): Sample {
  if (!incident.failover) return {};
  const file = `${lab.dirs.state}/reports/${incident.failover.workflowId}-${incident.failover.runId}.json`;
  const report = JSON.parse(readFileSync(file, 'utf8')) as FailoverReport;
  const critical = ['load plan', 'assess', 'gate', 'scale', 'fence', 'catch up', 'dns', 'lease', 'promote', 'route', 'verify'];
  return Object.fromEntries(report.steps.filter((x) => critical.includes(x.name)).map((x) => [`step:${x.name}`, x.durationMs ?? null]));
}

async function inject(lab: Lab, scenario: Scenario | 'blip'): Promise<void> {
  const pid = readPid(lab.dirs.pids, dbName(siteById(lab.loaded, 'tw')))!.pid;
  if (scenario === 'db-kill') process.kill(-pid, 'SIGKILL');
  else if (scenario === 'power-loss') await powerOff(lab, 'tw');
  else if (scenario === 'isolation') lab.network.isolate('tw');
  else {
    process.kill(-pid, 'SIGSTOP');
    await sleep(1000);
    process.kill(-pid, 'SIGCONT');
  }
}

/** The incident that began after t0, once its report is written (before its block, when it failed over). */
async function incidentOf(client: Client, lab: Lab, t0: number): Promise<IncidentReport | null> {
  const handle = client.workflow.getHandle(incidentWorkflowId('trading'));
  return until(
    'the incident report',
    async () => {
      const d = await handle.describe().catch(() => null);
      if (!d || d.startTime.getTime() < t0) return null;
      try {
        return JSON.parse(readFileSync(`${lab.dirs.state}/reports/${incidentWorkflowId('trading')}-${d.runId}.json`, 'utf8')) as IncidentReport;
      } catch {
        return undefined;
      }
    },
    30_000,
  ).catch(() => null);
}

async function failoversSince(client: Client, t0: number): Promise<number> {
  let n = 0;
  for await (const w of client.workflow.list({ query: `WorkflowId = '${failoverWorkflowId('trading')}'` })) if (w.startTime.getTime() >= t0) n++;
  return n;
}

/** The floor: a kill -9 of tw, then tw2 promoted and every ProxySQL routed by the adapters themselves. */
async function floor(lab: Lab, windowMs: number): Promise<number> {
  await lab.renew();
  const { loaded } = lab;
  const db = (id: string) => ({ site: siteById(loaded, id), baseDir: loaded.baseDir });
  process.kill(-readPid(lab.dirs.pids, dbName(siteById(loaded, 'tw')))!.pid, 'SIGKILL');
  const t0 = Date.now();
  await promoteDatabase(db('tw2'));
  await Promise.all(loaded.config.sites.filter((s) => s.proxysql).map((s) => routeWriter(endpoint(loaded, s.id), spec(loaded))));
  return windowMs + (Date.now() - t0);
}

const endpoint = (loaded: LoadedConfig, id: string) => {
  const p = siteById(loaded, id).proxysql!;
  return { ...p, password: resolveSecret(p.password, loaded.baseDir) };
};
const spec = (loaded: LoadedConfig) => {
  const [tw, tw2] = [siteById(loaded, 'tw'), siteById(loaded, 'tw2')];
  return {
    writerHostgroup: tw.proxysql!.writerHostgroup,
    readerHostgroup: tw.proxysql!.readerHostgroup,
    newPrimary: { host: tw2.mysql.host, port: tw2.mysql.port },
    oldPrimary: { host: tw.mysql.host, port: tw.mysql.port },
  };
};

function summarise(samples: Sample[]) {
  const keys = [...new Set(samples.flatMap((s) => Object.keys(s)))];
  return Object.fromEntries(keys.map((k) => [k, stats(samples.map((s) => s[k]).filter((v): v is number => v !== null && v !== undefined))]));
}

async function main(): Promise<void> {
  const lab = new Lab(loadConfig(detectionConfig(values.config!)), log);
  const base = new Lab(loadConfig(values.config!), () => {});
  const detection = planOf(lab.loaded).detection!;
  await lab.renew();
  const { client, connection } = await connectClient(lab.loaded);
  const out: Record<string, unknown> = { settings: detection, runs: RUNS, scenarios: {} };
  try {
    for (const scenario of scenarios) {
      const samples: Sample[] = [];
      for (let i = 1; i <= RUNS; i++) {
        const s = await run(lab, client, scenario);
        log(`${scenario} #${i}: ${JSON.stringify(s)}`);
        samples.push(s);
      }
      (out.scenarios as Record<string, unknown>)[scenario] = { samples, ...summarise(samples) };
    }
    const blips: Sample[] = [];
    for (let i = 1; i <= RUNS; i++) blips.push(await run(lab, client, 'blip'));
    out.blip = { false_failovers: blips.reduce((n, b) => n + (b.false_failovers ?? 0), 0), runs: RUNS };
    const floors: number[] = [];
    for (let i = 1; i <= RUNS; i++) floors.push(await floor(base, detection.confirmWindowMs));
    const f = stats(floors);
    out.floor = { note: 'confirmation window + raw promote and route, no Temporal', samples: floors, ...f };
    const dbKill = (out.scenarios as Record<string, { rto_ms?: { p50: number | null } }>)['db-kill'];
    if (dbKill?.rto_ms?.p50 && f.p50) out.ratio_rto_over_floor = Number((dbKill.rto_ms.p50 / f.p50).toFixed(2));
  } finally {
    await connection.close();
    await base.renew(); // the lab as the tests expect it: detection off
  }
  printResult(out, values.json);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
