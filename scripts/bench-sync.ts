// npm run bench:sync -- --files 100000 [--changed 0.01] [--json FILE] [--fit FILE] [--listed-guard] [--variants]
//   [--seed-on-disk [--seed-record] [--reuse]] [--dir DIR] [--keep]
// Times the fileSync runbook end to end against bare `rclone sync` with the same flags, on the same tree and
// store. The bench brings up everything itself, under .lab/bench-sync (--dir; emptied first): its own Temporal dev server (the pinned
// binary), `rclone serve s3` on a free loopback port (its debug log counts the listing requests), a generated
// config with one site whose rclone section points at that store, and the real control and site workers as
// child processes. Cases: initial, incremental with `changed` of the files modified, incremental with nothing
// changed; each by the runbook (prefix `runbook`) and by bare rclone (prefix `bare`, which starts from a copy
// of the runbook's objects made on disk); the bare initial sync runs last, into an empty prefix of its own.
// Peak memory is rclone's VmHWM (resident high-water mark), read from /proc while it runs. With --json FILE,
// the cases measured so far are written after each one, so a run stopped early still leaves its figures.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { parseDocument } from 'yaml';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { rcloneBinary } from '../activities/rclone';
import { storeOf, syncCommand, type GuardResult, type SyncResult } from '../activities/file-sync';
import { readState } from '../activities/sync-state';
import { loadConfig, ConfigError } from '../config/load';
import { controlTaskQueue } from '../domain/runs';
import type { FileSyncReport } from '../workflows/file-sync';
import { ROOT, venvBin } from '../lab/paths';
import { freePort } from '../lab/procs';
import { fileRpoSeconds, filesWithin, printResult, type SizePoint } from './bench-kit';

const SCHEDULE_S = 300;
const BUCKET = 'bench';
// rclone's own output options, as activities/rclone.ts runs every rclone.
const OUTPUT = ['--use-json-log', '--stats', '1s', '--stats-log-level', 'NOTICE'];
/** Bare flag variants of the 1% incremental (--variants): what would push the 5-minute limit out. */
const VARIANTS: Record<string, string[]> = {
  '--checkers 16 --transfers 8': ['--checkers', '16', '--transfers', '8'],
  '--checkers 32 --transfers 16': ['--checkers', '32', '--transfers', '16'],
  '--fast-list': ['--fast-list'],
};

interface Run {
  seconds: number;
  listingRequests: number;
  peakRssMiB: number;
  stats: Record<string, unknown> | null;
}

interface RunbookRun extends Run {
  siteWorkerRssMiB: number;
  guard: GuardResult;
  sync: SyncResult;
  steps: Record<string, number>;
  notes: string[];
}

class Bench {
  listed = 0;
  private children: ChildProcess[] = [];
  private env?: TestWorkflowEnvironment;
  client!: Client;
  siteWorker!: ChildProcess;
  port = 0;
  n = 0;
  readonly key = 'benchkey';
  readonly secret = randomBytes(16).toString('hex');

  constructor(readonly dir: string) {}

  async start(): Promise<string> {
    mkdirSync(join(this.dir, 'keys'), { recursive: true });
    mkdirSync(join(this.dir, 's3', BUCKET), { recursive: true });
    mkdirSync(join(this.dir, 'share'), { recursive: true });
    writeFileSync(join(this.dir, 'keys', 's3-key'), this.key, { mode: 0o600 });
    writeFileSync(join(this.dir, 'keys', 's3-secret'), this.secret, { mode: 0o600 });
    this.port = await freePort();
    // -vv: the server logs each request; only LIST BUCKET lines are counted, the rest is dropped.
    const server = spawn(rcloneBinary(), ['serve', 's3', '--addr', `127.0.0.1:${this.port}`, '-vv', join(this.dir, 's3')], {
      env: { ...process.env, RCLONE_AUTH_KEY: `"${this.key},${this.secret}"`, RCLONE_CONFIG: '/dev/null' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.children.push(server);
    let tail = '';
    server.stderr!.on('data', (d: Buffer) => {
      const text = tail + d.toString('latin1');
      for (let at = text.indexOf('LIST BUCKET'); at >= 0; at = text.indexOf('LIST BUCKET', at + 1)) this.listed++;
      tail = text.slice(-10);
    });
    const binary = venvBin('temporal');
    if (!existsSync(binary)) throw new Error(`${binary} is missing: run 'bash scripts/install.sh'`);
    this.env = await TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'existing-path', path: binary }, ip: '127.0.0.1' } });
    this.client = this.env.client;
    const config = this.writeConfig(this.env.address);
    const logs = join(this.dir, 'logs');
    mkdirSync(logs, { recursive: true });
    const control = this.worker('control', ['workers/control.ts', '--config', config], /control worker polling/, logs);
    this.siteWorker = this.worker('site-tw', ['workers/site.ts', '--config', config, '--site', 'tw'], /site worker tw .* polling/, logs);
    await Promise.all([control.ready, waitReady(this.siteWorker, /site worker tw .* polling/)]);
    return config;
  }

  /** The project's example config with this bench's Temporal, store and share; no encryption, no detection. */
  private writeConfig(address: string): string {
    const doc = parseDocument(readFileSync(join(ROOT, 'config', 'example.yaml'), 'utf8'));
    doc.setIn(['name'], 'bench-sync');
    doc.setIn(['temporal', 'address'], address);
    doc.setIn(['temporal', 'namespace'], 'default');
    for (const k of ['encryption', 'codecServer', 'tls', 'apiKey', 'ui']) doc.deleteIn(['temporal', k]);
    doc.deleteIn(['detection']);
    doc.setIn(['approval', 'requireSignature'], false);
    doc.setIn(['notifications'], doc.createNode({ webhooks: [], email: [], escalateTo: [] }));
    doc.setIn(['stateDir'], 'state');
    const sites = doc.getIn(['sites']) as { items: unknown[] };
    const tw = sites.items.findIndex((_, i) => doc.getIn(['sites', i, 'id']) === 'tw');
    doc.setIn(
      ['sites', tw, 'rclone'],
      doc.createNode({
        remote: `:s3,provider=Other,endpoint='http://127.0.0.1:${this.port}':`,
        bucket: BUCKET,
        accessKeyId: 'file:keys/s3-key',
        secretAccessKey: 'file:keys/s3-secret',
        sharePath: 'share',
        prefix: 'runbook',
      }),
    );
    const file = join(this.dir, 'bench.yaml');
    writeFileSync(file, doc.toString());
    try {
      loadConfig(file);
    } catch (err) {
      throw new Error(`the generated config ${file} is invalid: ${err instanceof ConfigError ? err.message : String(err)}`);
    }
    return file;
  }

  private worker(name: string, args: string[], ready: RegExp, logs: string): ChildProcess & { ready: Promise<void> } {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: ROOT,
      env: { ...process.env, DR_RCLONE_OWNER_DIR: join(this.dir, 'owners') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log = createWriteStream(join(logs, `${name}.log`));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.children.push(child);
    return Object.assign(child, { ready: waitReady(child, ready) });
  }

  /** The fileSync workflow, end to end: start to result, through the Temporal client. */
  async runbook(kind: 'incremental' | 'full'): Promise<RunbookRun> {
    const listed = this.listed;
    const rss = watchRss(this.siteWorker.pid!);
    const t0 = process.hrtime.bigint();
    const report: FileSyncReport = await this.client.workflow.execute('fileSync', {
      taskQueue: controlTaskQueue,
      workflowId: `bench-file-sync-${Date.now()}-${this.n++}`,
      args: [{ site: 'tw', kind }],
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const peak = rss.stop();
    const p = report.paths[0]!;
    return {
      seconds: round(seconds),
      listingRequests: this.listed - listed,
      peakRssMiB: peak.rclone,
      siteWorkerRssMiB: peak.worker,
      stats: p.sync!.stats as unknown as Record<string, unknown>,
      guard: p.guard!,
      sync: p.sync!,
      steps: Object.fromEntries(report.steps.map((s) => [s.name, round((s.durationMs ?? 0) / 1000)])),
      notes: report.notes,
    };
  }

  /** Bare rclone sync with the flags the runbook's sync just used, into the `bare` prefix and its own backup dir. */
  bare(flags: string[], prefix = 'bare'): Promise<Run> {
    const remote = `:s3,provider=Other,endpoint='http://127.0.0.1:${this.port}':${BUCKET}/${prefix}`;
    const own = flags.map((f) => f.replace(/\.dr-trash\/([^/]+)\/runbook$/, `.dr-trash/$1-${prefix}/${prefix}`));
    const env = { ...process.env, RCLONE_S3_ACCESS_KEY_ID: this.key, RCLONE_S3_SECRET_ACCESS_KEY: this.secret };
    return this.timed([...syncCommand(join(this.dir, 'share'), remote, own), ...OUTPUT], env);
  }

  private timed(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
    const listed = this.listed;
    return new Promise((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const child = spawn(rcloneBinary(), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      let stats: Record<string, unknown> | null = null;
      child.stderr.on('data', (d: Buffer) => {
        err = (err + d.toString()).slice(-20_000);
        for (const line of err.split('\n')) if (line.includes('"stats"')) stats = lastStats(line) ?? stats;
      });
      let peak = 0;
      const poll = setInterval(() => (peak = Math.max(peak, hwmKiB(child.pid!))), 100);
      child.on('close', (code) => {
        clearInterval(poll);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        if (code !== 0) return reject(new Error(`bare rclone sync failed (exit ${code}): ${err.slice(-2000)}`));
        resolve({ seconds: round(seconds), listingRequests: this.listed - listed, peakRssMiB: round(peak / 1024), stats });
      });
    });
  }

  async stop(): Promise<void> {
    for (const c of this.children.reverse()) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(this.children.map((c) => exited(c, 10_000)));
    await this.env?.teardown();
  }
}

function lastStats(line: string): Record<string, unknown> | null {
  try {
    return (JSON.parse(line) as { stats?: Record<string, unknown> }).stats ?? null;
  } catch {
    return null;
  }
}

function waitReady(child: ChildProcess, ready: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`a worker did not start within 180 s: ${out.slice(-2000)}`)), 180_000);
    const on = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`a worker exited with code ${code} before it polled: ${out.slice(-2000)}`)));
  });
}

/**
 * --seed-record: what a sync into the seeded copy would have recorded for the guard (the store holds the share's
 * `files`), written to the control plane's state file as the runbook writes it, so the first timed run uses it.
 */
function seedRecord(configFile: string, files: number): void {
  const loaded = loadConfig(configFile);
  const site = loaded.config.sites.find((s) => s.id === 'tw')!;
  const file = join(loaded.baseDir, loaded.config.stateDir, 'file-sync-state.json');
  const state = readState(file);
  const store = storeOf({ site, baseDir: loaded.baseDir }, '.');
  const at = new Date().toISOString();
  state.stores = { ...state.stores, [store]: { files, countedAt: at, countedBy: 'bench:sync --seed-record (copy made on disk)', writing: {} } };
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

function copyTree(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cp = spawn('cp', ['-a', from, to], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    cp.stderr.on('data', (d: Buffer) => (err += d.toString()));
    cp.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`cp -a ${from} ${to} failed: ${err}`))));
  });
}

function exited(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function hwmKiB(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0; // exited
  }
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Peak resident memory of the site worker's rclone children (VmHWM) and of the worker itself, sampled every 100 ms. */
function watchRss(worker: number): { stop: () => { rclone: number; worker: number } } {
  let rclone = 0;
  let own = 0;
  const poll = setInterval(() => {
    own = Math.max(own, rssKiB(worker));
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === worker && stat.includes('(rclone)')) rclone = Math.max(rclone, hwmKiB(Number(pid)));
      } catch {
        /* gone */
      }
    }
  }, 100);
  return {
    stop: () => {
      clearInterval(poll);
      return { rclone: round(rclone / 1024), worker: round(own / 1024) };
    },
  };
}

const nameOf = (i: number) => join(`d${String(Math.floor(i / 500)).padStart(4, '0')}`, `f${i}.dat`);
const namesOf = (files: number) => Array.from({ length: files }, (_, i) => nameOf(i));

function generate(share: string, files: number): string[] {
  for (let i = 0; i < files; i++) {
    if (i % 500 === 0) mkdirSync(join(share, nameOf(i), '..'), { recursive: true });
    writeFileSync(join(share, nameOf(i)), randomBytes(512 + (i % 3584)));
  }
  return namesOf(files);
}

interface Case {
  case: string;
  files: number;
  changed_files: number;
  runbook_s: number;
  bare_s: number;
  ratio_runbook_over_bare: number;
  /** The runbook's own cost: its time outside the rclone sync step (plan, guard, record, workflow tasks). */
  runbook_outside_sync_s: number;
  listing_requests: { runbook: number; bare: number };
  peak_rss_mib: { runbook_rclone: number; bare_rclone: number; site_worker: number };
  /** Worst-case file RPO of a 5-minute schedule (overlap SKIP) whose every run takes runbook_s. */
  file_rpo_5min_s: number;
  fits_5min: boolean;
  guard: { store_count_from: GuardResult['destCountedFrom']; source_files: number; store_files: number };
  runbook_steps_s: Record<string, number>;
  rclone_stats: { runbook: Record<string, unknown> | null; bare: Record<string, unknown> | null };
  notes: string[];
}

function caseOf(name: string, files: number, changed: number, rb: RunbookRun, bare: Run): Case {
  return {
    case: name,
    files,
    changed_files: changed,
    runbook_s: rb.seconds,
    bare_s: bare.seconds,
    ratio_runbook_over_bare: round(rb.seconds / bare.seconds),
    runbook_outside_sync_s: round(rb.seconds - (rb.steps['sync .'] ?? 0)),
    listing_requests: { runbook: rb.listingRequests, bare: bare.listingRequests },
    peak_rss_mib: { runbook_rclone: rb.peakRssMiB, bare_rclone: bare.peakRssMiB, site_worker: rb.siteWorkerRssMiB },
    file_rpo_5min_s: round(fileRpoSeconds(rb.seconds, SCHEDULE_S)),
    fits_5min: rb.seconds <= SCHEDULE_S,
    guard: { store_count_from: rb.guard.destCountedFrom, source_files: rb.guard.sourceFiles, store_files: rb.guard.destFiles },
    runbook_steps_s: rb.steps,
    rclone_stats: { runbook: pick(rb.stats), bare: pick(bare.stats) },
    notes: rb.notes,
  };
}

const pick = (s: Record<string, unknown> | null) =>
  s && Object.fromEntries(['listed', 'checks', 'transfers', 'deletes', 'renames', 'serverSideCopies', 'elapsedTime'].map((k) => [k, s[k]]));

interface Options {
  files: number;
  changed: number;
  json?: string;
  fit?: SizePoint[];
  listedGuard: boolean;
  seedOnDisk: boolean;
  seedRecord: boolean;
  reuse: boolean;
  dir: string;
  variants: boolean;
  keep: boolean;
}

function options(): Options {
  const { values: o } = parseArgs({
    options: {
      files: { type: 'string', default: '100000' },
      changed: { type: 'string', default: '0.01' },
      json: { type: 'string' },
      fit: { type: 'string' },
      'listed-guard': { type: 'boolean', default: false },
      'seed-on-disk': { type: 'boolean', default: false },
      'seed-record': { type: 'boolean', default: false },
      reuse: { type: 'boolean', default: false },
      dir: { type: 'string', default: join(ROOT, '.lab', 'bench-sync') },
      variants: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const files = Number(o.files);
  const changed = Number(o.changed);
  if (!Number.isInteger(files) || files < 100) throw new BadInput(`--files: a whole number of at least 100, not '${o.files}'`);
  if (!(changed > 0 && changed <= 0.5)) throw new BadInput(`--changed: a share between 0 and 0.5, not '${o.changed}'`);
  if (o['seed-record'] && !o['seed-on-disk']) throw new BadInput('--seed-record: only with --seed-on-disk');
  if (o.reuse && !o['seed-on-disk']) throw new BadInput('--reuse: only with --seed-on-disk (the copies it reuses were seeded on disk)');
  return {
    files,
    changed,
    json: o.json,
    fit: o.fit ? fitPoints(o.fit) : undefined,
    listedGuard: o['listed-guard'],
    seedOnDisk: o['seed-on-disk'],
    seedRecord: o['seed-record'],
    reuse: o.reuse,
    dir: resolve(o.dir),
    variants: o.variants,
    keep: o.keep,
  };
}

/** The 1% incremental of an earlier bench:sync JSON, for the two-point fit. */
function fitPoints(file: string): SizePoint[] {
  let doc: { cases?: Case[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8')) as { cases?: Case[] };
  } catch (err) {
    throw new BadInput(`--fit: cannot read ${file} as JSON: ${(err as Error).message}`);
  }
  const c = doc.cases?.find((x) => x.case === 'incremental-changed');
  if (!c) throw new BadInput(`--fit: ${file} is not a bench:sync result with an 'incremental-changed' case`);
  return [{ files: c.files, seconds: c.runbook_s }];
}

class BadInput extends Error {}

async function main(): Promise<void> {
  const o = options();
  const rclone = rcloneBinary();
  if (rclone !== 'rclone' && !existsSync(rclone)) throw new Error(`${rclone} is missing: run 'bash scripts/install.sh'`);
  const dir = o.dir;
  // --reuse keeps the share and the store of an earlier --seed-on-disk run (stopped or --keep), not its state.
  for (const part of o.reuse ? ['state', 'logs', 'owners', 'bench.yaml'] : ['']) rmSync(join(dir, part), { recursive: true, force: true });
  const bench = new Bench(dir);
  const stop = () => void bench.stop().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const t0 = Date.now();
  try {
    const config = await bench.start();
    log(o.reuse ? `reusing the ${o.files} files and both copies in ${dir}` : `generating ${o.files} files`);
    const names = o.reuse ? namesOf(o.files) : generate(join(dir, 'share'), o.files);
    const cases: Case[] = [];
    const partial = (extra: Record<string, unknown> = {}) => {
      // What is measured so far, should a long run be stopped before the end.
      if (o.json) writeFileSync(o.json, `${JSON.stringify({ files: o.files, partial: true, ...extra, cases }, null, 2)}\n`);
    };
    const both = async (name: string, changed: number) => {
      log(`${name}: runbook`);
      const rb = await bench.runbook('incremental');
      log(`${name}: runbook ${rb.seconds} s; bare rclone sync`);
      const bare = await bench.bare(rb.sync.flags);
      log(`${name}: bare ${bare.seconds} s`);
      cases.push(caseOf(name, o.files, changed, rb, bare));
      partial();
      return rb;
    };
    const share = join(dir, 'share');
    let initial: RunbookRun | null = null;
    if (o.seedOnDisk) {
      // No timed initial sync: the store's objects are plain files, so both copies are made on disk (cp -a
      // keeps the mtimes that rclone compares). The runbook's first run then has no recorded count.
      if (!o.reuse) {
        log('seeding both copies on disk (not timed)');
        await copyTree(share, join(dir, 's3', BUCKET, 'runbook'));
        await copyTree(share, join(dir, 's3', BUCKET, 'bare'));
      }
      if (o.seedRecord) seedRecord(config, o.files);
    } else {
      log('initial: runbook');
      initial = await bench.runbook('incremental');
      log(`initial: runbook ${initial.seconds} s; its copy copied on disk to the bare prefix (not timed)`);
      partial({ initial_runbook_s: initial.seconds });
      // The bare runs start from the same copy: the stored objects are plain files, mtimes kept (cp -a). The
      // bare initial sync is timed last, into an empty prefix of its own.
      await copyTree(join(dir, 's3', BUCKET, 'runbook'), join(dir, 's3', BUCKET, 'bare'));
    }
    const perRun = Math.max(1, Math.round(o.files * o.changed));
    let slice = 0;
    const change = () => {
      // A fresh slice each time, so every run uploads the same amount.
      for (let k = 0; k < perRun; k++) writeFileSync(join(dir, 'share', names[(slice + k * 97) % o.files]!), randomBytes(700));
      slice++;
    };
    if (o.seedOnDisk && !o.seedRecord) {
      // The guard as it was before issue 17 (the store listed for its count): nothing is recorded yet.
      change();
      await both('incremental-changed-store-listed', perRun);
    }
    change();
    const changedRun = await both('incremental-changed', perRun);
    await both('incremental-unchanged', 0);
    const extra: Record<string, unknown> = {};
    if (o.listedGuard && !o.seedOnDisk) {
      // The guard as it was: the store listed for its count before every sync (no recorded count).
      change();
      const state = join(dir, 'state', 'file-sync-state.json');
      const s = readState(state);
      writeFileSync(state, JSON.stringify({ ...s, stores: {} }));
      log('incremental-changed with the store listed by the guard');
      const rb = await bench.runbook('incremental');
      const bare = await bench.bare(rb.sync.flags);
      cases.push(caseOf('incremental-changed-store-listed', o.files, perRun, rb, bare));
    }
    if (o.variants) {
      const variants: Record<string, Run> = {};
      // The runbook's flags without its tuning, plus each variant's; bare only (the runbook's prefix lags behind).
      const tuning = ['--checkers', '--transfers'];
      const base = changedRun.sync.flags.filter((f, i, all) => !tuning.includes(f) && !tuning.includes(all[i - 1]!) && f !== '--fast-list');
      for (const [name, flags] of Object.entries(VARIANTS)) {
        change();
        log(`variant ${name}`);
        variants[name] = await bench.bare([...flags, ...base]);
      }
      extra.variants_bare_incremental_changed = variants;
    }
    if (initial) {
      log('initial: bare rclone sync into an empty prefix');
      const bareInitial = await bench.bare(initial.sync.flags, 'bare-initial');
      log(`initial: bare ${bareInitial.seconds} s`);
      cases.unshift(caseOf('initial', o.files, o.files, initial, bareInitial));
    }
    const inc = cases.find((c) => c.case === 'incremental-changed')!;
    const points = [...(o.fit ?? []), { files: o.files, seconds: inc.runbook_s }];
    const result = {
      files: o.files,
      changed: o.changed,
      rclone: await version(rclone),
      flags: changedRun.sync.flags,
      cases,
      five_minute_schedule: {
        interval_s: SCHEDULE_S,
        incremental_changed_runbook_s: inc.runbook_s,
        fits: inc.fits_5min,
        file_rpo_s: inc.file_rpo_5min_s,
        files_at_which_it_stops_fitting: filesWithin(points, SCHEDULE_S),
        fitted_on: points,
      },
      ...extra,
      total_s: round((Date.now() - t0) / 1000),
      machine: {
        cpus: cpus().length,
        note: 'loopback S3 (rclone serve s3 -vv on local disk, its log counting LIST requests); the runbook and the workers on the same 2 cores',
      },
    };
    printResult(result, o.json);
  } finally {
    await bench.stop();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
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
const log = (s: string) => process.stderr.write(`[bench:sync ${new Date().toISOString().slice(11, 19)}] ${s}\n`);

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(err instanceof BadInput ? 2 : 1);
});
