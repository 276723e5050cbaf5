// npm run bench:sync -- --files 100000 --changed 0.01 [--json FILE] [--keep]
// Measures rclone against a real S3-compatible server (rclone serve s3 on a free loopback port, objects on
// disk under .lab/bench-sync): the initial sync, an incremental sync with `changed` of the files modified
// using the project's flags, the same incremental with bare `rclone sync` default flags in the same run, and
// tuning variants (--fast-list, --checkers, --transfers), each on its own fresh set of changed files.
// Peak memory is rclone's VmHWM (resident high-water mark), read from /proc while it runs.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { rcloneBinary } from '../activities/rclone';
import { ROOT } from '../lab/paths';
import { freePort } from '../lab/procs';

// rclone's own retry defaults for every run: a loopback store under load answers the odd 500.
const COMMON: string[] = [];
const PROJECT = ['--fast-list', '--checkers', '16', '--transfers', '8'];
const VARIANTS: Record<string, string[]> = {
  'default flags (bare rclone sync)': [],
  '--fast-list': ['--fast-list'],
  '--checkers 32 --transfers 16': ['--checkers', '32', '--transfers', '16'],
  '--fast-list --checkers 16 --transfers 8 (tuned candidate)': PROJECT,
  '--fast-list --checkers 32 --transfers 16': ['--fast-list', '--checkers', '32', '--transfers', '16'],
  '--fast-list --checkers 64 --transfers 32': ['--fast-list', '--checkers', '64', '--transfers', '32'],
};

interface Timed {
  flags: string[];
  seconds: number;
  filesPerSecond: number;
  peakRssMiB: number;
  exitCode: number;
}

async function main(): Promise<void> {
  const { values: o } = parseArgs({
    options: {
      files: { type: 'string', default: '100000' },
      changed: { type: 'string', default: '0.01' },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const files = Number(o.files);
  const changed = Number(o.changed);
  if (!Number.isInteger(files) || files < 100) throw new Error(`--files: a whole number of at least 100, not '${o.files}'`);
  if (!(changed > 0 && changed <= 0.5)) throw new Error(`--changed: a share between 0 and 0.5, not '${o.changed}'`);
  const rclone = rcloneBinary();
  if (rclone !== 'rclone' && !existsSync(rclone)) throw new Error(`${rclone} is missing: run 'bash scripts/install.sh'`);

  const dir = join(ROOT, '.lab', 'bench-sync');
  rmSync(dir, { recursive: true, force: true });
  const src = join(dir, 'share');
  const data = join(dir, 's3');
  mkdirSync(data, { recursive: true });
  const key = 'benchkey';
  const secret = randomBytes(16).toString('hex');
  const port = await freePort();
  const server = spawn(rclone, ['serve', 's3', '--addr', `127.0.0.1:${port}`, data], {
    env: { ...process.env, RCLONE_AUTH_KEY: `"${key},${secret}"`, RCLONE_CONFIG: '/dev/null' },
    stdio: 'ignore',
  });
  const env = { ...process.env, RCLONE_CONFIG: '/dev/null', RCLONE_S3_ACCESS_KEY_ID: key, RCLONE_S3_SECRET_ACCESS_KEY: secret };
  const remote = `:s3,provider=Other,endpoint='http://127.0.0.1:${port}':bench/share`;
  try {
    log(`generating ${files} files in ${src}`);
    const names: string[] = [];
    for (let i = 0; i < files; i++) {
      const rel = join(`d${String(Math.floor(i / 500)).padStart(4, '0')}`, `f${i}.dat`);
      if (i % 500 === 0) mkdirSync(join(src, rel, '..'), { recursive: true });
      writeFileSync(join(src, rel), randomBytes(512 + (i % 3584)));
      names.push(rel);
    }
    await new Promise((r) => setTimeout(r, 500));
    const run = (flags: string[]) => timed(rclone, ['sync', src, remote, ...COMMON, ...flags], env, files);

    log('initial sync (project flags)');
    const initial = await run(PROJECT);
    if (initial.exitCode !== 0) throw new Error(`initial sync failed (exit ${initial.exitCode})`);
    let next = 0;
    const perRun = Math.max(1, Math.round(files * changed));
    const change = () => {
      // A fresh slice of files each time, so every variant uploads the same amount.
      for (let k = 0; k < perRun; k++) writeFileSync(join(src, names[(next + k * 97) % files]!), randomBytes(700));
      next += 1;
    };
    const variants: Array<{ name: string } & Timed> = [];
    for (const [name, flags] of Object.entries(VARIANTS)) {
      change();
      log(`incremental: ${name}`);
      const r = await run(flags);
      variants.push({ name, ...r });
    }
    const tuned = variants.find((v) => v.name.endsWith('(tuned candidate)'))!;
    const bare = variants.find((v) => v.name.startsWith('default'))!;
    const best = [...variants].sort((a, b) => a.seconds - b.seconds)[0]!;
    const result = {
      files,
      changed,
      changedFilesPerRun: perRun,
      rclone: await version(rclone),
      initialSync: initial,
      incremental: tuned,
      bareIncremental: bare,
      ratioBareOverTuned: round(bare.seconds / tuned.seconds),
      variants,
      fastest: best.name,
      machine: {
        cpus: cpus().length,
        note: 'loopback S3 (rclone serve s3 on local disk); a WAN store such as B2 adds latency per request, which favours --fast-list and more checkers even more',
      },
    };
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    if (o.json) writeFileSync(o.json, `${text}\n`);
  } finally {
    server.kill('SIGTERM');
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
}

function timed(bin: string, args: string[], env: NodeJS.ProcessEnv, files: number): Promise<Timed> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(bin, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    let peak = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]));
      } catch {
        /* exited */
      }
    }, 50);
    child.on('close', (code) => {
      clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) process.stderr.write(err);
      resolve({
        flags: args.slice(3 + COMMON.length),
        seconds: round(seconds),
        filesPerSecond: Math.round(files / seconds),
        peakRssMiB: round(peak / 1024),
        exitCode: code ?? 1,
      });
    });
  });
}

function version(bin: string): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(bin, ['version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', () => resolve(out.split('\n')[0]!.trim()));
  });
}

const round = (x: number) => Math.round(x * 100) / 100;
const log = (s: string) => process.stderr.write(`[bench:sync] ${s}\n`);

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
