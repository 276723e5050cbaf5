// npm test: bring up the test lab, run every test file with node's test runner, stop what was started,
// and end with a plain "N passed, N failed" line.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load';
import { Lab } from '../lab';
import { ROOT } from '../lab/paths';

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const files = (only.length ? only : readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => join('test', f)));
  // DR_LAB_CONFIG lets a second checkout on the same machine run its tests on other ports.
  const configFile = process.env.DR_LAB_CONFIG ?? join(ROOT, 'config', 'lab-test.yaml');
  const lab = new Lab(loadConfig(configFile), (l) => console.log(`[lab] ${l}`));
  const t0 = Date.now();
  // A fresh lab every run: leftovers of an interrupted run are stopped and wiped first.
  await lab.destroy();
  await lab.up();
  const labMs = Date.now() - t0;
  let counts: { pass: number; fail: number };
  let code: number;
  const t1 = Date.now();
  try {
    ({ code, counts } = await runNodeTests(files, configFile));
  } finally {
    console.log('[lab] stopping the test lab');
    await lab.down();
  }
  console.log(JSON.stringify({ phase: 'tests', labUpMs: labMs, testsMs: Date.now() - t1, files: files.length }));
  console.log(`${counts.pass} passed, ${counts.fail} failed`);
  return code === 0 && counts.fail === 0 && counts.pass > 0 ? 0 : 1;
}

function runNodeTests(files: string[], configFile: string): Promise<{ code: number; counts: { pass: number; fail: number } }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, // A hung test fails after 10 minutes instead of holding CI until its deadline.
      ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=600000', '--test-reporter=spec', ...files], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, DR_TEST_CONFIG: configFile },
    });
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
