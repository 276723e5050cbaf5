// npm test: the checks that need no lab first (types, lint, format, the unit tier), so that a type error fails
// within the first minute; then the test lab comes up, every lab test file runs with node's test runner, and
// what was started is stopped. Ends with a plain "N passed, N failed" line.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load';
import { Lab } from '../lab/index';
import { ROOT } from '../lab/paths';

type Counts = { pass: number; fail: number };

const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

/** Each runs without a lab; each counts as one test. */
const CHECKS: Array<[string, string, string[]]> = [
  ['type check (tsc --noEmit)', bin('tsc'), ['--noEmit', '-p', '.']],
  ['lint (eslint)', bin('eslint'), ['--max-warnings=0', '.']],
  ['format (prettier --check)', bin('prettier'), ['--check', '--log-level=warn', '.']],
];

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const total: Counts = { pass: 0, fail: 0 };
  const summary = () => console.log(`${total.pass} passed, ${total.fail} failed`);
  if (only.length === 0) {
    for (const [name, cmd, args] of CHECKS) {
      const t0 = Date.now();
      const code = await run(cmd, args);
      console.log(`[check] ${name}: ${code === 0 ? 'ok' : 'FAILED'} (${Date.now() - t0} ms)`);
      if (code !== 0) return (total.fail++, summary(), 1);
      total.pass++;
    }
    const unit = await runNodeTests(testFiles('unit'), {});
    add(total, unit.counts);
    if (unit.code !== 0 || unit.counts.fail > 0) return (summary(), 1);
  }
  // DR_LAB_CONFIG lets a second checkout on the same machine run its tests on other ports.
  const configFile = process.env.DR_LAB_CONFIG ?? join(ROOT, 'config', 'lab-test.yaml');
  let ok = true;
  for (const engine of engines(only)) {
    const files = only.length ? only : testFiles('lab').filter((f) => engine === 'mysql' || DIALECT_SUITES.some((s) => f.endsWith(s)));
    const result = await labTier(engine, configFile, files);
    add(total, result.counts);
    ok &&= result.code === 0;
  }
  summary();
  return ok && total.fail === 0 && total.pass > 0 ? 0 : 1;
}

/**
 * The dialect matrix: every lab suite on MySQL (the users' engine), then the suites that exercise the
 * database dialect again on MariaDB: preflight, planned and unplanned failover with fence on return and the
 * secrets scan (failover-lab), failback with errant transactions and a re-seed (failback-lab). The gate suites,
 * the faults around a failover (failover-faults) and the three sites with semi-sync (three-sites) drive the same
 * SQL and run on MySQL only; the site failover (site-failover) runs four MariaDB groups beside the MySQL one in
 * the MySQL tier. That keeps `npm test` near 30 minutes.
 * DR_LAB_ENGINE picks one engine; a run of named files takes MySQL unless it is set.
 */
const DIALECT_SUITES = ['preflight.test.ts', 'failover-lab.test.ts', 'failback-lab.test.ts'];

function engines(only: string[]): string[] {
  const pinned = process.env.DR_LAB_ENGINE;
  if (pinned) return [pinned];
  return only.length ? ['mysql'] : ['mysql', 'mariadb'];
}

async function labTier(engine: string, configFile: string, files: string[]): Promise<{ code: number; counts: Counts }> {
  process.env.DR_LAB_ENGINE = engine; // the lab below and every test process take the engine from here
  const lab = new Lab(loadConfig(configFile), (l) => console.log(`[lab ${engine}] ${l}`));
  const t0 = Date.now();
  // A fresh lab every run: leftovers of an interrupted run are stopped and wiped first.
  await lab.destroy();
  await lab.up();
  const labMs = Date.now() - t0;
  const t1 = Date.now();
  let result: { code: number; counts: Counts };
  try {
    // node's runner orders the files itself: the last ones get a run of their own, after the rest.
    const env = { DR_TEST_CONFIG: configFile, DR_LAB_ENGINE: engine };
    const late = files.filter((f) => LAST.some((l) => f.endsWith(l)));
    result = await runNodeTests(
      files.filter((f) => !late.includes(f)),
      env,
    );
    if (late.length) {
      const after = await runNodeTests(late, env);
      result = {
        code: result.code || after.code,
        counts: { pass: result.counts.pass + after.counts.pass, fail: result.counts.fail + after.counts.fail },
      };
    }
  } finally {
    console.log(`[lab ${engine}] stopping the test lab`);
    await lab.down();
  }
  console.log(JSON.stringify({ phase: 'tests', engine, labUpMs: labMs, testsMs: Date.now() - t1, files: files.length, ...result.counts }));
  return result;
}

/**
 * The detection suite runs the lab's workers on a copy of the config with detection on: it runs last, so that
 * no other suite depends on the state it leaves (it renews the lab without detection when it ends, all the same).
 */
const LAST = ['detection.test.ts'];

function testFiles(tier: 'unit' | 'lab'): string[] {
  return readdirSync(join(ROOT, 'test', tier))
    .filter((f) => f.endsWith('.test.ts'))
    .sort()
    .map((f) => join('test', tier, f));
}

function add(total: Counts, counts: Counts): void {
  total.pass += counts.pass;
  total.fail += counts.fail;
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (err) => (console.error(`${cmd}: ${err.message}`), resolve(1)));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

function runNodeTests(files: string[], env: Record<string, string>): Promise<{ code: number; counts: Counts }> {
  return new Promise((resolve) => {
    // A hung test fails after 10 minutes instead of holding CI until its deadline.
    const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', '--test-reporter=spec', ...files];
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      process.stdout.write(d);
      out += d.toString();
    });
    child.on('close', (code) => {
      const num = (label: string) => Number(new RegExp(`^ℹ ${label} (\\d+)`, 'm').exec(out)?.[1] ?? 0);
      resolve({ code: code ?? 1, counts: { pass: num('pass'), fail: num('fail') + num('cancelled') } });
    });
  });
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
