// The test lab (config/lab-test.yaml), brought up by scripts/run-tests.ts before any test file runs.
import type { Client } from '@temporalio/client';
import { connectClient } from '../../activities/temporal-access';
import type mysql from 'mysql2/promise';
import { loadConfig, siteById, type LoadedConfig } from '../../config/load';
import { resolveSecret } from '../../activities/secrets';
import { Lab } from '../../lab';
import { readServers } from '../../activities/proxysql';
import { readRecords } from '../../activities/dns';
import { ROOT } from '../../lab/paths';
import { direct, tickSeqs } from '../../lab/direct';

export { direct, tickSeqs };
export { binlogGtids, dialectOf, executedGtids, replica, replicaDelay, replicaStatus, setWritable, waitForGtids } from '../../lab/direct';
import { join } from 'node:path';

export const TEST_CONFIG = process.env.DR_TEST_CONFIG ?? join(ROOT, 'config', 'lab-test.yaml');

export function testLab(): Lab {
  return new Lab(loadConfig(TEST_CONFIG), () => {});
}

export async function labClient(loaded: LoadedConfig): Promise<{ client: Client; close: () => Promise<void> }> {
  const { client, connection } = await connectClient(loaded);
  return { client, close: () => connection.close() };
}

export async function query1<T = unknown>(conn: mysql.Connection, sql: string): Promise<T> {
  const [r] = await conn.query({ sql, rowsAsArray: true });
  return (r as unknown[][])[0]![0] as T;
}

/** A lab with tw primary and sg replicating again: the only honest reset after a failover is a fresh one. */
export async function freshLab(): Promise<Lab> {
  const lab = testLab();
  await lab.renew();
  return lab;
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not true after ${timeoutMs} ms`);
}

/** The ports of the ONLINE writers in a site's ProxySQL runtime. */
export async function writerOf(loaded: LoadedConfig, site: string): Promise<number[]> {
  const s = siteById(loaded, site);
  const rows = await readServers({ ...s.proxysql!, password: resolveSecret(s.proxysql!.password, loaded.baseDir) }, 'runtime');
  return rows.filter((r) => r.hostgroup_id === s.proxysql!.writerHostgroup && r.status === 'ONLINE').map((r) => r.port);
}

/** Which site each configured DNS record points at now. */
export async function dnsSites(loaded: LoadedConfig): Promise<Array<string | null>> {
  return (await readRecords({ dns: loaded.config.dns!, baseDir: loaded.baseDir })).map((r) => r.site);
}

/**
 * What a failed lab test leaves for the person reading CI's output: a run's state and pending activities, and
 * the tail of the named components' logs (the lab's state is wiped before the next tier).
 */
export async function printEvidence(lab: Lab, client: Client, workflowIds: string[], logs: string[]): Promise<void> {
  const { readFileSync, existsSync } = await import('node:fs');
  const { alive, readPid } = await import('../../lab/procs');
  for (const id of workflowIds) {
    const d = await client.workflow
      .getHandle(id)
      .describe()
      .catch((err: Error) => err);
    if (d instanceof Error) console.log(`[evidence] ${id}: ${d.message}`);
    else
      console.log(
        `[evidence] ${id}: ${d.status.name} since ${d.startTime.toISOString()}; pending ${JSON.stringify(
          (d.raw.pendingActivities ?? []).map((a) => ({
            type: a.activityType?.name,
            state: a.state,
            attempt: a.attempt,
            lastFailure: a.lastFailure?.message,
          })),
        )}`,
      );
  }
  for (const name of logs) {
    const file = join(lab.dirs.logs, `${name}.log`);
    console.log(`[evidence] ${name}: ${alive(readPid(lab.dirs.pids, name)) ? 'running' : 'NOT running'}`);
    if (existsSync(file)) for (const line of readFileSync(file, 'utf8').trimEnd().split('\n').slice(-25)) console.log(`[evidence] ${name}| ${line}`);
  }
}

/** Which server each site's HAProxy sends a new connection to: site id → the MySQL port it reached. */
export async function haproxyRoutes(loaded: LoadedConfig): Promise<Record<string, number | string>> {
  const { default: mysql2 } = await import('mysql2/promise');
  const out: Record<string, number | string> = {};
  for (const s of loaded.config.sites.filter((x) => x.haproxy)) {
    try {
      const c = await mysql2.createConnection({
        ...s.haproxy!.listen,
        user: s.mysql.user,
        password: resolveSecret(s.mysql.password, loaded.baseDir),
        connectTimeout: 1000,
      });
      try {
        out[s.id] = Number(await query1(c, 'SELECT @@port'));
      } finally {
        await c.end();
      }
    } catch (err) {
      out[s.id] = `no server: ${(err as Error).message}`;
    }
  }
  return out;
}

/**
 * Whether the lab is as a fresh one leaves it: tw the only writable server, every other one replicating from
 * it, every site's ProxySQL and HAProxy sending writes to it. A suite that finds it so skips the renew.
 */
export async function labAsNew(loaded: LoadedConfig): Promise<boolean> {
  try {
    const primary = loaded.config.sites.find((s) => s.role === 'primary')!;
    for (const s of loaded.config.sites) {
      const c = await direct(loaded, s.id);
      try {
        const readOnly = Number(await query1(c, 'SELECT @@global.read_only'));
        const { replicaStatus } = await import('../../lab/direct');
        const r = await replicaStatus(c);
        if (s === primary ? readOnly !== 0 || r : readOnly !== 1 || !r?.ioRunning || !r.sqlRunning || r.sourcePort !== primary.mysql.port)
          return false;
      } finally {
        await c.end();
      }
    }
    for (const s of loaded.config.sites.filter((x) => x.proxysql))
      if ((await writerOf(loaded, s.id)).join() !== String(primary.mysql.port)) return false;
    return Object.values(await haproxyRoutes(loaded)).every((port) => port === primary.mysql.port);
  } catch {
    return false;
  }
}
