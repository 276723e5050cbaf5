// Runs the rclone CLI with JSON logs and periodic stats, and turns its output into stats and an error
// summary. Credentials go in through the environment (RCLONE_S3_*), never on the command line.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { claim, clearLeftover } from './rclone-owner';

export interface RcloneStats {
  bytes: number;
  totalBytes: number;
  transfers: number;
  totalTransfers: number;
  checks: number;
  totalChecks: number;
  deletes: number;
  errors: number;
  /** Bytes per second. */
  speed: number;
  /** Seconds, or null when rclone cannot tell. */
  eta: number | null;
  elapsedTime: number;
  lastError?: string;
}

export interface RcloneRun {
  code: number;
  stats: RcloneStats | null;
  /** Distinct error messages rclone logged, in order. */
  errors: string[];
  stdout: string;
  /** The pid of a leftover rclone (from a worker that died) stopped before this run started. */
  stoppedLeftover?: number;
}

/** The project's pinned rclone (.venv/bin/rclone), DR_RCLONE, or rclone on PATH. */
export function rcloneBinary(): string {
  if (process.env.DR_RCLONE) return process.env.DR_RCLONE;
  const pinned = join(resolve(__dirname, '..'), '.venv', 'bin', 'rclone');
  return existsSync(pinned) ? pinned : 'rclone';
}

const emptyStats = (): RcloneStats => ({
  bytes: 0,
  totalBytes: 0,
  transfers: 0,
  totalTransfers: 0,
  checks: 0,
  totalChecks: 0,
  deletes: 0,
  errors: 0,
  speed: 0,
  eta: null,
  elapsedTime: 0,
});

export async function runRclone(
  args: string[],
  opts: {
    env?: Record<string, string>;
    onStats?: (s: RcloneStats) => void;
    signal?: AbortSignal;
    statsEvery?: string;
    /** The target this run writes: at most one rclone per owner on this host (see rclone-owner.ts). */
    owner?: string;
    /** Each line of stdout, as it comes; stdout is then not kept (a sync's --combined report has a line per file). */
    onStdoutLine?: (line: string) => void;
  } = {},
): Promise<RcloneRun> {
  const full = [...args, '--use-json-log', '--stats', opts.statsEvery ?? '1s', '--stats-log-level', 'NOTICE'];
  const stoppedLeftover = opts.owner ? await clearLeftover(opts.owner) : undefined;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(rcloneBinary(), full, { env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const release = opts.owner && child.pid ? claim(opts.owner, child.pid, [rcloneBinary(), ...full]) : () => undefined;
    let stats: RcloneStats | null = null;
    const errors: string[] = [];
    let stdout = '';
    let outBuf = '';
    let buf = '';
    const onAbort = () => child.kill('SIGTERM');
    opts.signal?.addEventListener('abort', onAbort);
    const onLine = opts.onStdoutLine;
    child.stdout.on('data', (d: Buffer) => {
      if (!onLine) return void (stdout += d.toString());
      outBuf += d.toString();
      const lines = outBuf.split('\n');
      outBuf = lines.pop()!;
      for (const line of lines) onLine(line);
    });
    child.stderr.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let entry: { level?: string; msg?: string; stats?: Partial<RcloneStats> } | undefined;
        try {
          entry = JSON.parse(line);
        } catch {
          if (!errors.includes(line)) errors.push(line);
          continue;
        }
        if (entry?.stats) {
          stats = { ...emptyStats(), ...entry.stats, eta: entry.stats.eta ?? null };
          opts.onStats?.(stats);
        } else if (entry?.level === 'error' || entry?.level === 'critical' || (entry?.level === 'notice' && /^Failed to /.test(entry.msg ?? ''))) {
          const msg = (entry.msg ?? '').trim();
          if (msg && !errors.includes(msg)) errors.push(msg);
        }
      }
    });
    child.once('error', (err) => {
      release();
      reject(new Error(`cannot run rclone (${rcloneBinary()}): ${err.message}`));
    });
    child.once('close', (code) => {
      release();
      if (onLine && outBuf) onLine(outBuf);
      opts.signal?.removeEventListener('abort', onAbort);
      resolvePromise({ code: code ?? 1, stats, errors, stdout, ...(stoppedLeftover ? { stoppedLeftover } : {}) });
    });
  });
}

/** A short error summary: the last few distinct messages, which is where rclone puts the cause. */
export function errorSummary(run: RcloneRun, max = 5): string {
  const msgs = run.errors.slice(-max);
  if (run.stats?.lastError && !msgs.some((m) => m.includes(run.stats!.lastError!))) msgs.push(run.stats.lastError);
  return msgs.join('\n') || `rclone exited with code ${run.code}`;
}

export type RcloneErrorKind = 'credentials' | 'unreachable' | 'not-found' | 'max-delete' | 'other';

export function classify(text: string): RcloneErrorKind {
  if (/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|StatusCode: 403|401 Unauthorized/i.test(text)) return 'credentials';
  if (/max-delete|--max-delete/i.test(text)) return 'max-delete';
  if (/connection refused|no such host|i\/o timeout|dial tcp|context deadline exceeded|network is unreachable|connection reset/i.test(text))
    return 'unreachable';
  if (/directory not found|no such file or directory/i.test(text)) return 'not-found';
  return 'other';
}
