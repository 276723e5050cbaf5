// The lab's non-database daemons: the Temporal dev server and the workers.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { LabDirs } from './paths';
import { uiCodecArgs } from './codec-server';
import { ROOT, venvBin } from './paths';
import { alive, portOpen, readPid, startDaemon, waitFor } from './procs';
import { labOf } from './settings';
import { placeOf } from './network';
import { devServerAddress, devServerPort } from './temporal-tls';

export function temporalPort(loaded: LoadedConfig): number {
  return Number(loaded.config.temporal.address.split(':').pop());
}

export function requireBinary(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run 'bash scripts/install.sh' (or 'npm test' / 'npm run demo', which call it)`);
  return path;
}

export async function startTemporal(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  const name = 'temporal';
  if (alive(readPid(dirs.pids, name))) return 'running';
  const port = devServerPort(loaded);
  const ui = labOf(loaded).temporalUiPort;
  const { host, netns } = placeOf(loaded);
  for (const [p, field] of [
    [port, 'temporal.address'],
    [ui, 'x-lab.temporalUiPort'],
  ] as const) {
    if (await portOpen(p, host))
      throw new Error(`port ${p} for the Temporal dev server is busy: something else listens there (change ${field} in ${loaded.file})`);
  }
  const bin = requireBinary(venvBin('temporal'));
  startDaemon({
    name,
    command: bin,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port,
    netns,
    // WAL with synchronous=normal: durable across a crash of the server process, and no fsync per commit, which
    // cost about 10 ms per activity round trip on this machine (bench:failover, planned p50 1498 → 1272 ms).
    args: [
      'server',
      'start-dev',
      // In its namespace on every address: the dev server's own services dial each other on 127.0.0.1.
      '--ip',
      netns ? '0.0.0.0' : host,
      '--port',
      String(port),
      '--ui-port',
      String(ui),
      '--db-filename',
      join(dirs.state, 'temporal.db'),
      '--sqlite-pragma',
      'journal_mode=wal',
      '--sqlite-pragma',
      'synchronous=normal',
      '--log-level',
      'warn',
      ...uiCodecArgs(loaded),
    ],
  });
  await waitFor(`Temporal dev server on port ${port}`, () => temporalHealthy(loaded), 60_000, join(dirs.logs, `${name}.log`));
  return 'started';
}

export function temporalHealthy(loaded: LoadedConfig): boolean {
  // The dev server itself, on its own port: the TLS proxy in front of it has its own check (lab/temporal-tls.ts).
  return clusterServing(['--address', devServerAddress(loaded)]);
}

/** `temporal operator cluster health` with these connection flags says SERVING. */
export function clusterServing(connection: string[]): boolean {
  try {
    const out = execFileSync(venvBin('temporal'), ['operator', 'cluster', 'health', ...connection], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    });
    return /SERVING/.test(out);
  } catch {
    return false;
  }
}

export function workerName(site?: string): string {
  return site ? `worker-${site}` : 'worker-control';
}

export async function startWorker(loaded: LoadedConfig, dirs: LabDirs, site?: string): Promise<'started' | 'running'> {
  const name = workerName(site);
  if (alive(readPid(dirs.pids, name))) return 'running';
  const log = join(dirs.logs, `${name}.log`);
  const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
  startDaemon({
    name,
    command: process.execPath,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    cwd: ROOT,
    // A site's worker runs in its site: it reaches Temporal over the WAN, and is cut off with its site.
    netns: placeOf(loaded, site).netns,
    args: ['--import', 'tsx', join(ROOT, 'workers', site ? 'site.ts' : 'control.ts'), '--config', loaded.file, ...(site ? ['--site', site] : [])],
  });
  const rec = readPid(dirs.pids, name);
  await waitFor(
    name,
    () => {
      if (!alive(rec)) throw new Error(`${name} exited during start-up:\n${readFileSync(log, 'utf8').slice(before)}`);
      return readFileSync(log, 'utf8').slice(before).includes('polling');
    },
    120_000,
    log,
  );
  return 'started';
}
