// The lab's S3-compatible object store: `rclone serve s3` over <stateDir>/data/s3 on x-lab.s3Port, with the
// access key the sites' rclone sections name. Objects are plain files on disk (bucket = top folder), so
// a test can corrupt one byte of a stored object. It is the rclone the project already pins: no new download.
// The shares (CephFS on the primary, NFS on the DR site) are lab folders named by each site's sharePath.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';
import { venvBin, type LabDirs } from './paths';
import { alive, portOpen, readPid, startDaemon, waitFor } from './procs';
import { placeOf } from './network';
import { requireBinary } from './services';
import { labOf } from './settings';

export const S3 = 's3';

export function s3Dir(dirs: LabDirs): string {
  return join(dirs.data, S3);
}

/** Creates the key files the sites refer to (file: secrets) and every site's share folder. */
export function ensureS3Secrets(loaded: LoadedConfig): void {
  for (const s of loaded.config.sites) {
    const rc = s.rclone;
    if (!rc) continue;
    for (const [ref, gen] of [
      [rc.accessKeyId, () => `drlab${randomBytes(6).toString('hex')}`],
      [rc.secretAccessKey, () => randomBytes(20).toString('hex')],
    ] as const) {
      if (!ref?.startsWith('file:')) continue;
      const f = resolve(loaded.baseDir, ref.slice(5));
      if (!existsSync(f)) {
        mkdirSync(join(f, '..'), { recursive: true });
        writeFileSync(f, gen(), { mode: 0o600 });
      }
    }
    mkdirSync(resolve(loaded.baseDir, rc.sharePath), { recursive: true });
  }
}

function credentials(loaded: LoadedConfig): { key: string; secret: string } {
  const rc = loaded.config.sites.find((s) => s.rclone?.accessKeyId && s.rclone.secretAccessKey)?.rclone;
  if (!rc) throw new Error(`${loaded.file}: x-lab.s3Port is set but no site has rclone accessKeyId/secretAccessKey for the lab's object store`);
  return { key: resolveSecret(rc.accessKeyId!, loaded.baseDir), secret: resolveSecret(rc.secretAccessKey!, loaded.baseDir) };
}

export async function s3Healthy(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    // Unsigned: an S3 XML error (400/403) is the answer of a live server that enforces signatures.
    const res = await fetch(`http://${host}:${port}/`, { signal: AbortSignal.timeout(2_000) });
    const body = await res.text();
    return /<Error><Code>|ListAllMyBucketsResult/.test(body);
  } catch {
    return false;
  }
}

export async function startS3(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  const port = labOf(loaded).s3Port!;
  ensureS3Secrets(loaded);
  if (alive(readPid(dirs.pids, S3))) return 'running';
  const { host, netns } = placeOf(loaded);
  if (await portOpen(port, host))
    throw new Error(`port ${port} for the lab's object store (rclone serve s3) is busy (change x-lab.s3Port in ${loaded.file})`);
  const { key, secret } = credentials(loaded);
  mkdirSync(s3Dir(dirs), { recursive: true });
  startDaemon({
    name: S3,
    command: requireBinary(venvBin('rclone')),
    args: ['serve', 's3', '--addr', `${host}:${port}`, '--use-json-log', s3Dir(dirs)],
    netns,
    // The key pair through the environment (CSV-quoted), so it is not on the process list.
    env: { RCLONE_AUTH_KEY: `"${key},${secret}"`, RCLONE_CONFIG: '/dev/null' },
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port,
  });
  const rec = readPid(dirs.pids, S3);
  const log = join(dirs.logs, `${S3}.log`);
  await waitFor(
    `rclone serve s3 on port ${port}`,
    async () => {
      if (!alive(rec)) throw new Error(`rclone serve s3 exited during start-up (port ${port}); see ${log}`);
      return s3Healthy(port, host);
    },
    30_000,
    log,
  );
  return 'started';
}
