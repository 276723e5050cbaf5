// The codec server in the lab: in ops beside the control worker, with its token and the encryption keys written
// into the lab's secrets on first start, and its URL handed to the dev server's UI.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';
import type { LabDirs } from './paths';
import { ROOT } from './paths';
import { alive, portOpen, readPid, startDaemon, waitFor } from './procs';
import { placeOf } from './network';

export const CODEC_SERVER = 'codec-server';

/** The token (URL-safe: it is a path segment for the UI) and each 32-byte key, for `file:` references that are missing. */
export function ensureCodecSecrets(loaded: LoadedConfig): void {
  const { codecServer, encryption } = loaded.config.temporal;
  const wanted: [string, () => string][] = [
    ...(codecServer ? [[codecServer.token, () => randomBytes(32).toString('base64url')] as [string, () => string]] : []),
    ...Object.values(encryption?.keys ?? {}).map((ref): [string, () => string] => [ref, () => randomBytes(32).toString('base64')]),
  ];
  for (const [ref, make] of wanted) {
    if (!ref.startsWith('file:')) continue;
    const file = resolve(loaded.baseDir, ref.slice(5));
    if (existsSync(file)) continue;
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, make(), { mode: 0o600 });
  }
}

/**
 * The dev server's `--ui-codec-endpoint`, with the token as the path segment before /decode: the UI sends a bearer
 * token only with OIDC login, which the dev server's UI has not. (It shows in the dev server's command line.)
 */
export function uiCodecArgs(loaded: LoadedConfig): string[] {
  const codec = loaded.config.temporal.codecServer;
  if (!codec) return [];
  const token = resolveSecret(codec.token, loaded.baseDir).trim();
  return ['--ui-codec-endpoint', `http://${codec.host}:${codec.port}/${token}`];
}

export async function startCodecServer(loaded: LoadedConfig, dirs: LabDirs): Promise<'started' | 'running'> {
  const codec = loaded.config.temporal.codecServer!;
  if (alive(readPid(dirs.pids, CODEC_SERVER))) return 'running';
  if (await portOpen(codec.port, codec.host))
    throw new Error(
      `port ${codec.port} for the codec server is busy: something else listens there (change temporal.codecServer.port in ${loaded.file})`,
    );
  const log = join(dirs.logs, `${CODEC_SERVER}.log`);
  const before = existsSync(log) ? readFileSync(log, 'utf8').length : 0;
  startDaemon({
    name: CODEC_SERVER,
    command: process.execPath,
    pidsDir: dirs.pids,
    logsDir: dirs.logs,
    port: codec.port,
    cwd: ROOT,
    netns: placeOf(loaded).netns,
    args: ['--import', 'tsx', join(ROOT, 'workers', 'codec-server.ts'), '--config', loaded.file],
  });
  const rec = readPid(dirs.pids, CODEC_SERVER);
  await waitFor(
    CODEC_SERVER,
    () => {
      if (!alive(rec)) throw new Error(`${CODEC_SERVER} exited during start-up:\n${readFileSync(log, 'utf8').slice(before)}`);
      return readFileSync(log, 'utf8').slice(before).includes('listening');
    },
    60_000,
    log,
  );
  return 'started';
}
