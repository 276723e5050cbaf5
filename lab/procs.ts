// Daemons the lab starts, tracked by pid files so that `down` stops only what `up` started.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface PidRecord {
  pid: number;
  name: string;
  port?: number;
  command: string;
  startedAt: string;
}

export function readPid(pidsDir: string, name: string): PidRecord | null {
  const f = join(pidsDir, `${name}.json`);
  if (!existsSync(f)) return null;
  try {
    return JSON.parse(readFileSync(f, 'utf8')) as PidRecord;
  } catch {
    return null;
  }
}

/** Alive and still the program we started (a pid can be reused after a crash). */
export function alive(rec: PidRecord | null): rec is PidRecord {
  if (!rec) return false;
  try {
    process.kill(rec.pid, 0);
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    // Empty while the process is inside execve (`ip netns exec` execs the daemon after we spawned it), and for
    // a zombie: only the state tells them apart.
    if (cmdline === '') return !/^\d+ \(.*\) Z /s.test(readFileSync(`/proc/${rec.pid}/stat`, 'utf8'));
    return cmdline.includes(rec.command.split('/').pop()!);
  } catch {
    return false;
  }
}

export function startDaemon(opts: {
  name: string;
  command: string;
  args: string[];
  pidsDir: string;
  logsDir: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** The site's network namespace: `ip netns exec` execs the command in place, so the pid is the daemon's. */
  netns?: string;
}): PidRecord {
  const log = openSync(join(opts.logsDir, `${opts.name}.log`), 'a');
  const [command, args] = opts.netns ? ['ip', ['netns', 'exec', opts.netns, opts.command, ...opts.args]] : [opts.command, opts.args];
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    // Node 20 is what the machine has; the AWS SDK's notice about Node 22 is known and says nothing new.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  child.unref();
  if (!child.pid) throw new Error(`${opts.name}: could not start ${opts.command}`);
  const rec: PidRecord = { pid: child.pid, name: opts.name, port: opts.port, command: opts.command, startedAt: new Date().toISOString() };
  writeFileSync(join(opts.pidsDir, `${opts.name}.json`), JSON.stringify(rec));
  return rec;
}

export async function stopDaemon(
  pidsDir: string,
  name: string,
  signal: NodeJS.Signals = 'SIGTERM',
  graceMs = 15000,
): Promise<'stopped' | 'not running'> {
  const rec = readPid(pidsDir, name);
  const f = join(pidsDir, `${name}.json`);
  if (!alive(rec)) {
    rmSync(f, { force: true });
    return 'not running';
  }
  const leader = rec.pid;
  // Daemons run in their own process group: signal the group so children (tsx → node) go too.
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-rec.pid, sig);
    } catch {
      try {
        process.kill(rec.pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  kill(signal);
  const deadline = Date.now() + graceMs;
  while (alive(rec) && Date.now() < deadline) await sleep(100);
  if (alive(rec)) kill('SIGKILL');
  while (alive(rec)) await sleep(50);
  // A daemon's children (a server under its monitor) may outlive the leader by a moment: wait for them, so
  // that their ports and files are free when this returns.
  for (const until = Date.now() + 10_000; groupMembers(leader).length && Date.now() < until;) await sleep(50);
  rmSync(f, { force: true });
  return 'stopped';
}

/** Live processes of a process group, from /proc: a zombie counts only while its threads still exit. */
export function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // stat: pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so split after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // A zombie leader whose other threads still exit holds the process's files (its listening socket).
      if (Number(pgrp) === pgid && (state !== 'Z' || readdirSync(`/proc/${entry}/task`).length > 1)) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

export function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return accepts({ port, host });
}

/** Whether a Unix socket takes connections (a stale socket file of a killed server does not). */
export function socketOpen(path: string): Promise<boolean> {
  return accepts({ path });
}

function accepts(to: { port: number; host: string } | { path: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(to);
    s.setTimeout(500);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number, logFile?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${logFile ? `\n${tail(logFile)}` : ''}`);
}

export function tail(logFile: string, lines = 20): string {
  if (!existsSync(logFile)) return `(no log at ${logFile})`;
  return `--- last lines of ${logFile} ---\n${readFileSync(logFile, 'utf8').split('\n').slice(-lines).join('\n')}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free loopback port, for a server a test or a benchmark starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
