// npm run bench:failover -- [--runs N] [--engine mysql|mariadb] [--json FILE]
// Measures the failover runbook on the lab (config/lab-test.yaml), under a 250 writes/s load:
//   planned    switchover tw→sg: rto_ms, write_unavailable_ms, each step; lost_acked_writes (must be 0)
//   unplanned  kill -9 of tw's database and worker: rto_ms, each step, lost_gtids, lost_acked_writes;
//              lost_gtids_matched: runs where the fence-on-return count equals tw's writes missing from sg
//              (the lost acknowledged ones plus at most the one in flight at the kill) and every lost
//              acknowledged write is still on tw
//   raw        the same SQL, Kubernetes and SDK calls up to the probe write, made directly in sequence with
//              no Temporal
// Each run starts from a fresh data plane. Prints JSON (and writes it to FILE).
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config/load';
import { createSiteActivities } from '../activities';
import type { FailoverReport } from '../workflows/failover';
import type { FenceOnReturnReport } from '../workflows/fence-on-return';
import { controlTaskQueue, failoverWorkflowId, fenceOnReturnWorkflowId } from '../domain/runs';
import { Lab } from '../lab';
import { direct, replica, tickSeqs } from '../lab/direct';
import { LoadGenerator } from '../lab/load';
import { dbName, engineOf, startDatabase } from '../lab/database';
import { readPid } from '../lab/procs';
import { workerName } from '../lab/services';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '10' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
    engine: { type: 'string' },
  },
});
if (values.engine) process.env.DR_LAB_ENGINE = values.engine; // the lab and its workers run this engine
const RUNS = Number(values.runs);

type Sample = Record<string, number>;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] ?? null;
  return { p50: q(0.5), p95: q(0.95), max: s.at(-1) ?? null, n: s.length };
}

function summarise(samples: Sample[]) {
  const keys = [...new Set(samples.flatMap((x) => Object.keys(x)))];
  return Object.fromEntries(keys.map((k) => [k, stats(samples.map((x) => x[k]).filter((v): v is number => typeof v === 'number'))]));
}

function stepTimes(r: FailoverReport): Sample {
  return Object.fromEntries(r.steps.filter((s) => s.durationMs !== undefined && s.state === 'done').map((s) => [`step:${s.name}`, s.durationMs!]));
}

async function main(): Promise<void> {
  const loaded = loadConfig(values.config!);
  const lab = new Lab(loaded, () => {});
  await lab.destroy();
  await lab.up();
  const connection = await Connection.connect({ address: loaded.config.temporal.address });
  const client = new Client({ connection, namespace: loaded.config.temporal.namespace });
  const input = (mode: string, i: number) => ({
    group: 'trading',
    from: 'tw',
    to: 'sg',
    mode,
    reason: `bench ${mode} ${i}`,
    requestedBy: 'ops-lead',
  });
  const planned: Sample[] = [];
  const unplanned: Sample[] = [];
  const raw: Sample[] = [];
  let lostAcked = 0;
  let lostMatched = 0;
  const progress = (m: string) => process.stderr.write(`${m}\n`);

  for (let i = 0; i < RUNS; i++) {
    // planned
    await lab.resetDataPlane();
    let load = new LoadGenerator(loaded, { ratePerSecond: 250 });
    load.start();
    await new Promise((r) => setTimeout(r, 1000));
    const r = (await client.workflow.execute('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [input('planned', i)],
    })) as FailoverReport;
    await new Promise((res) => setTimeout(res, 700));
    let s = await load.stop();
    const sgSeqs = await tickSeqs(loaded, 'sg');
    const lost = s.acked.filter((a) => !sgSeqs.has(a.seq)).length;
    lostAcked += lost;
    planned.push({ rto_ms: r.rtoMs ?? NaN, write_unavailable_ms: s.writeUnavailableMs, ...stepTimes(r) });
    progress(`planned ${i + 1}/${RUNS}: ${r.outcome}, rto ${r.rtoMs} ms, writes paused ${s.writeUnavailableMs} ms, lost acked ${lost}`);

    // unplanned
    await lab.resetDataPlane();
    load = new LoadGenerator(loaded, { ratePerSecond: 250 });
    load.start();
    await new Promise((res) => setTimeout(res, 1000));
    const sg = await direct(loaded, 'sg');
    await replica(sg, 'stop io');
    await sg.end();
    await new Promise((res) => setTimeout(res, 300));
    process.kill(-readPid(lab.dirs.pids, dbName(loaded.config.sites[0]!))!.pid, 'SIGKILL'); // the group: server and monitor
    await lab.stopComponent(workerName('tw'), 'SIGKILL');
    s = await load.stop();
    const u = (await client.workflow.execute('failover', {
      taskQueue: controlTaskQueue,
      workflowId: failoverWorkflowId('trading'),
      args: [input('unplanned', i)],
    })) as FailoverReport;
    await startDatabase(loaded, lab.dirs, loaded.config.sites[0]!, 1);
    await lab.startWorker('tw');
    const back = (await client.workflow.getHandle(fenceOnReturnWorkflowId('tw')).result()) as FenceOnReturnReport;
    const sgAfter = await tickSeqs(loaded, 'sg');
    const twAfter = await tickSeqs(loaded, 'tw');
    const lostWrites = s.acked.filter((a) => !sgAfter.has(a.seq)).length;
    // Exactly tw's writes that sg lacks: the acknowledged ones plus, at most, the one in flight at the kill.
    const lostOnTw = [...twAfter].filter((seq) => !sgAfter.has(seq)).length;
    if (back.lost.count === lostOnTw && s.acked.every((a) => sgAfter.has(a.seq) || twAfter.has(a.seq))) lostMatched++;
    unplanned.push({ rto_ms: u.rtoMs ?? NaN, lost_gtids: back.lost.count ?? NaN, lost_acked_writes: lostWrites, ...stepTimes(u) });
    progress(
      `unplanned ${i + 1}/${RUNS}: ${u.outcome}, rto ${u.rtoMs} ms, lost GTIDs ${back.lost.count} vs writes on tw missing from sg ${lostOnTw} (acknowledged ${lostWrites})`,
    );

    // raw: the planned switchover's calls, in sequence, no Temporal
    await lab.resetDataPlane();
    load = new LoadGenerator(loaded, { ratePerSecond: 250 });
    load.start();
    await new Promise((res) => setTimeout(res, 1000));
    const tw = createSiteActivities(loaded, loaded.config.sites[0]!);
    const sgA = createSiteActivities(loaded, loaded.config.sites[1]!);
    const t: Sample = {};
    const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t0 = Date.now();
      const out = await fn();
      t[`step:${name}`] = Date.now() - t0;
      return out;
    };
    const t0 = Date.now();
    await step('assess', () => Promise.all([tw.inspectDatabase(), sgA.inspectDatabase()]));
    await step('scale', () => sgA.scaleServices({ group: 'trading', profile: 'production', timeoutMs: 180_000 }));
    const fence = await step('fence', async () => {
      const f = await tw.fenceDatabase();
      await Promise.all([tw.proxysqlFenceWriter({ primary: 'tw' }), sgA.proxysqlFenceWriter({ primary: 'tw' })]);
      return f;
    });
    await step('catch up', () => sgA.waitForGtids({ gtids: fence.gtidExecuted, timeoutMs: 60_000 }));
    await step('dns', async () => {
      const c = await sgA.dnsPointAt({ site: 'sg' });
      return sgA.dnsWaitInsync({ changeId: c.changeId, timeoutMs: 60_000 });
    });
    await step('promote', () => sgA.promoteDatabase());
    await step('route', () =>
      Promise.all([tw.proxysqlRouteWriter({ newPrimary: 'sg', oldPrimary: 'tw' }), sgA.proxysqlRouteWriter({ newPrimary: 'sg', oldPrimary: 'tw' })]),
    );
    await step('verify', () => sgA.writeProbe({ runbook: 'bench-raw' }));
    t.rto_ms = Date.now() - t0;
    await new Promise((res) => setTimeout(res, 700));
    t.write_unavailable_ms = (await load.stop()).writeUnavailableMs;
    raw.push(t);
    progress(`raw ${i + 1}/${RUNS}: ${t.rto_ms} ms`);
  }
  await connection.close();
  await lab.down();

  const out = {
    runs: RUNS,
    config: values.config,
    engine: engineOf(loaded),
    planned: { ...summarise(planned), lost_acked_writes: lostAcked },
    unplanned: { ...summarise(unplanned), lost_gtids_matched: `${lostMatched}/${RUNS}` },
    raw: summarise(raw),
    ratio_planned_to_raw_rto_p50: (stats(planned.map((x) => x.rto_ms!)).p50 ?? 0) / (stats(raw.map((x) => x.rto_ms!)).p50 || 1),
    note: 'rto_ms: start of the run until the new primary accepted a probe write (moto answers INSYNC at once, so no DNS TTL is included)',
  };
  const json = JSON.stringify(out, null, 2);
  if (values.json) writeFileSync(values.json, json);
  console.log(json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
