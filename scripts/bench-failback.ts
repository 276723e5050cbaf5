// npm run bench:failback -- [--size-mb 200] [--runs 1] [--engine mysql|mariadb] [--reseed auto|clone|dump] [--json FILE] [--config FILE]
// Measures the failback runbook on the lab (config/lab-test.yaml) with a database of about --size-mb:
//   an unplanned failover tw→sg in which tw takes writes sg never gets, tw returns (fenced on return), then
//   failback under a 250 writes/s load, the errant transactions exported and discarded by a re-seed:
//   reseed_ms / reseed_bytes   the copy of sg into tw: MySQL's clone plugin, or a dump (--reseed; MariaDB dumps)
//   catch_up_ms                reprotect: start of replication until tw's lag is under failback.maxLagSeconds
//   switchover_catch_up_ms     the switchover's exact catch-up (tw has every transaction of the fenced sg)
//   write_unavailable_ms       longest gap between two acknowledged writes (the switchover's)
//   lost_acked_writes          acknowledged writes of the failback's load missing on tw afterwards (must be 0)
// Each run starts from a fresh lab. Prints JSON (and writes it to FILE).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { parseArgs } from 'node:util';
import { connectClient } from '../activities/temporal-access';
import { loadConfig, type LoadedConfig } from '../config/load';
import type { FailoverReport } from '../workflows/failover';
import type { FailbackReport } from '../workflows/failback';
import { controlTaskQueue, failbackWorkflowId, failoverWorkflowId, fenceOnReturnWorkflowId } from '../domain/runs';
import { Lab } from '../lab';
import { binlogGtids, dialectOf, direct, one, replica, tickSeqs, waitForGtids } from '../lab/direct';
import { LoadGenerator } from '../lab/load';
import { dbName, engineOf, startDatabase } from '../lab/database';
import { readPid } from '../lab/procs';
import { workerName } from '../lab/services';
import { printResult } from './bench-kit';
import type { WorkflowHandle } from '@temporalio/client';
import { controlArgument } from '../cli/sign';
import { approverPrivateKey } from '../lab/approver-keys';
import type { ProgressView } from '../domain/steps';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    'size-mb': { type: 'string', default: '200' },
    json: { type: 'string' },
    config: { type: 'string', default: 'config/lab-test.yaml' },
    engine: { type: 'string' },
    reseed: { type: 'string', default: 'auto' },
  },
});
if (values.engine) process.env.DR_LAB_ENGINE = values.engine; // the lab and its workers run this engine
const RUNS = Number(values.runs);
const SIZE_MB = Number(values['size-mb']);
const progress = (m: string) => process.stderr.write(`${m}\n`);

/** About `mb` MB of rows of ~1 KB in trading.bench_fill on tw, in 10 MB transactions; sg replicates them. */
async function fill(loaded: LoadedConfig, mb: number): Promise<{ bytes: number; fillMs: number }> {
  const t0 = Date.now();
  const tw = await direct(loaded, 'tw');
  const sg = await direct(loaded, 'sg');
  try {
    await tw.query('CREATE TABLE IF NOT EXISTS trading.bench_fill (id BIGINT PRIMARY KEY, pad VARCHAR(1100) NOT NULL)');
    await tw.query(`SET SESSION ${(await dialectOf(tw)) === 'mysql' ? 'cte_max_recursion_depth' : 'max_recursive_iterations'} = 100000`);
    const rowsPerChunk = 10_000;
    for (let off = 0; off < mb * 1000; off += rowsPerChunk) {
      await tw.query(
        // SHA2, not MD5: MySQL 9 has no MD5 or SHA1 any more.
        `INSERT INTO trading.bench_fill (id, pad) SELECT n + ${off}, CONCAT(${Array.from({ length: 16 }, (_, i) => `SHA2(n * ${i + 7} + ${off}, 256)`).join(', ')}) ` +
          `FROM (WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${rowsPerChunk}) SELECT n FROM s) AS s`,
      );
    }
    await waitForGtids(sg, await binlogGtids(tw), 600);
    await tw.query('ANALYZE TABLE trading.bench_fill');
    const bytes = Number(await one(tw, "SELECT SUM(data_length + index_length) FROM information_schema.tables WHERE table_schema = 'trading'"));
    return { bytes, fillMs: Date.now() - t0 };
  } finally {
    await tw.end();
    await sg.end();
  }
}

const stepMs = (steps: Array<{ name: string; durationMs?: number; state: string }>, name: string) =>
  steps.find((s) => s.name === name && s.state === 'done')?.durationMs ?? null;

/** The config with failback.reseedMethod set, beside the original so that its relative paths still hold. */
function withReseedMethod(file: string, method: string): string {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['failback', 'reseedMethod'], method);
  const out = join(dirname(file), `.bench-failback-${method}.yaml`);
  writeFileSync(out, doc.toString());
  process.on('exit', () => rmSync(out, { force: true }));
  return out;
}

async function main(): Promise<void> {
  const loaded = loadConfig(withReseedMethod(values.config!, values.reseed!));
  const lab = new Lab(loaded, () => {});
  const twPort = loaded.config.sites.find((s) => s.id === 'tw')!.mysql.port;
  const runs: Array<Record<string, unknown>> = [];
  for (let i = 0; i < RUNS; i++) {
    await lab.destroy();
    await lab.up();
    const { client, connection } = await connectClient(loaded);
    try {
      const filled = await fill(loaded, SIZE_MB);
      progress(`run ${i + 1}: ${(filled.bytes / 1e6).toFixed(0)} MB in trading, filled and replicated in ${filled.fillMs} ms`);

      // Unplanned failover; tw takes writes sg never gets, then loses power.
      let load = new LoadGenerator(loaded, { ratePerSecond: 250 });
      load.start();
      await new Promise((r) => setTimeout(r, 1000));
      const sg = await direct(loaded, 'sg');
      await replica(sg, 'stop io');
      await sg.end();
      await new Promise((r) => setTimeout(r, 500));
      await load.stop();
      process.kill(-readPid(lab.dirs.pids, dbName(loaded.config.sites[0]!))!.pid, 'SIGKILL'); // the group: server and monitor
      await lab.stopComponent(workerName('tw'), 'SIGKILL');
      const fo = (await client.workflow.execute('failover', {
        taskQueue: controlTaskQueue,
        workflowId: failoverWorkflowId('trading'),
        args: [{ group: 'trading', from: 'tw', to: 'sg', mode: 'unplanned', reason: `bench ${i}`, requestedBy: 'ops-lead' }],
      })) as FailoverReport;
      await startDatabase(loaded, lab.dirs, loaded.config.sites[0]!, 1);
      await lab.startWorker('tw');
      await client.workflow.getHandle(fenceOnReturnWorkflowId('tw')).result();
      progress(`run ${i + 1}: failover ${fo.outcome}; tw back and fenced`);

      // Failback under load, the re-seed decided up front by an approver.
      load = new LoadGenerator(loaded, { ratePerSecond: 250, startSeq: 10_000_000 });
      load.start();
      await new Promise((r) => setTimeout(r, 1000));
      const h = await client.workflow.start('failback', {
        taskQueue: controlTaskQueue,
        workflowId: failbackWorkflowId('trading'),
        args: [{ group: 'trading', returning: 'tw', current: 'sg', requestedBy: 'ops-lead', reason: `bench ${i}`, discardErrant: true }],
      });
      await approveErrantGate(loaded, h);
      const r = (await h.result()) as FailbackReport;
      const seen = load.acked.length;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(load.acked.length >= seen + 100 && load.acked.at(-1)!.port === twPort))
        await new Promise((res) => setTimeout(res, 100));
      const s = await load.stop();
      const onTw = await tickSeqs(loaded, 'tw');
      const child = r.switchover?.files ? (JSON.parse(readFileSync(r.switchover.files.json, 'utf8')) as FailoverReport) : null;
      const run = {
        outcome: r.outcome,
        error: r.error ?? null,
        db_bytes: filled.bytes,
        errant_transactions: r.errant.count,
        export_bytes: r.errant.export?.bytes ?? null,
        reseed_method: r.reseed.result?.method ?? null,
        reseed_ms: r.reseed.result?.durationMs ?? null,
        reseed_bytes: r.reseed.result?.bytes ?? null,
        reseed_tables: r.reseed.result?.tables ?? null,
        reseed_mb_per_s: r.reseed.result ? Number((r.reseed.result.bytes / 1e6 / (r.reseed.result.durationMs / 1000)).toFixed(1)) : null,
        catch_up_ms: stepMs(r.steps, 'catch up'),
        catch_up_lag_s: r.reprotect.caughtUp?.lagSeconds ?? null,
        switchover_catch_up_ms: child ? stepMs(child.steps, 'catch up') : null,
        switchover_rto_ms: r.rtoMs,
        write_unavailable_ms: s.writeUnavailableMs,
        acked_writes: s.acked.length,
        lost_acked_writes: s.acked.filter((a) => !onTw.has(a.seq)).length,
        failback_total_ms: Date.parse(r.endedAt) - Date.parse(r.startedAt),
        steps: Object.fromEntries(r.steps.filter((x) => x.state === 'done' && x.durationMs !== undefined).map((x) => [x.name, x.durationMs])),
      };
      runs.push(run);
      progress(
        `run ${i + 1}: failback ${r.outcome}: re-seed ${run.reseed_ms} ms for ${run.reseed_bytes} bytes, catch-up ${run.catch_up_ms} ms, writes paused ${run.write_unavailable_ms} ms, lost acked ${run.lost_acked_writes}`,
      );
    } finally {
      await connection.close();
    }
  }
  await lab.down();
  const out = {
    runs: RUNS,
    config: values.config,
    engine: engineOf(loaded),
    reseed_method_asked: values.reseed,
    size_mb: SIZE_MB,
    load_writes_per_s: 250,
    results: runs,
    note: 'reseed_bytes counts the dump stream (SQL text); db_bytes is InnoDB data+index of the trading schema. moto answers INSYNC at once, so no DNS TTL is included in the switchover.',
  };
  printResult(out, values.json);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/** Where the lab requires signed decisions, the up-front discardErrant does not count: ops-lead signs at the errant gate. */
async function approveErrantGate(loaded: LoadedConfig, h: WorkflowHandle): Promise<void> {
  if (!loaded.config.approval.requireSignature) return;
  for (let t = Date.now(); (await h.query<ProgressView>('progress')).waitingAt !== 'errant gate';) {
    if (Date.now() - t > 300_000) throw new Error('the failback never reached its errant gate');
    await new Promise((res) => setTimeout(res, 200));
  }
  const arg = (await controlArgument(
    loaded,
    h,
    'approve',
    { by: 'ops-lead', reason: 'bench: errant export reviewed' },
    approverPrivateKey(loaded, 'ops-lead'),
  )) as Record<string, unknown>;
  delete arg.decision;
  await h.signal('approve', arg);
}
