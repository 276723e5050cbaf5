// npm run bench:setup [-- --skip-tests]: wall times of the phases of `npm test` on this machine, of `lab up` on a
// ready machine (fresh state, and again with the state kept), and the memory the lab's processes hold. Prints JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load';
import { Lab } from '../lab';
import { ROOT } from '../lab/paths';

/**
 * Every process in the lab's namespaces: resident memory summed (shared pages counted in each process) and
 * proportional (shared pages split between their users, the fair total).
 */
function labMemory(lab: Lab): { processes: number; rssMiB: number; pssMiB: number } | null {
  if (!lab.network.enabled || lab.network.whyNot()) return null;
  let rss = 0;
  let pss = 0;
  let processes = 0;
  for (const site of lab.network.sites) {
    const pids = execFileSync('ip', ['netns', 'pids', lab.network.nsName(site)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
    for (const pid of pids) {
      const kib = (file: string, key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(readOr(`/proc/${pid}/${file}`))?.[1] ?? 0);
      rss += kib('status', 'VmRSS');
      pss += kib('smaps_rollup', 'Pss');
      processes++;
    }
  }
  return { processes, rssMiB: Math.round(rss / 1024), pssMiB: Math.round(pss / 1024) };
}

function readOr(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

async function main(): Promise<void> {
  const skipTests = process.argv.includes('--skip-tests');
  const timed = (cmd: string, args: string[]) => {
    const t0 = Date.now();
    const r = spawnSync(cmd, args, {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    return { ms: Date.now() - t0, status: r.status, out: r.stdout };
  };
  const install = timed('bash', ['scripts/install.sh']);

  const lab = new Lab(loadConfig(join(ROOT, 'config', 'lab-test.yaml')), () => {});
  await lab.destroy();
  let t = Date.now();
  await lab.up();
  const labUpFreshMs = Date.now() - t;
  await new Promise((r) => setTimeout(r, 10_000)); // let start-up settle
  const memory = labMemory(lab);
  await lab.down();
  t = Date.now();
  await lab.up();
  const labUpKeptStateMs = Date.now() - t;
  await lab.down();

  let tests: Record<string, unknown> | null = null;
  if (!skipTests) {
    const r = timed(process.execPath, ['--import', 'tsx', 'scripts/run-tests.ts']);
    const phase = /^\{"phase":"tests".*\}$/m.exec(r.out)?.[0];
    const counts = /^(\d+) passed, (\d+) failed$/m.exec(r.out);
    tests = { wallMs: r.ms, ...(phase ? JSON.parse(phase) : {}), passed: Number(counts?.[1] ?? 0), failed: Number(counts?.[2] ?? 0) };
  }
  console.log(
    JSON.stringify(
      {
        machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
        install: { readyMachineMs: install.ms, status: install.status },
        labUp: { freshStateMs: labUpFreshMs, keptStateMs: labUpKeptStateMs, sites: lab.network.sites.length, memory },
        npmTest: tests,
      },
      null,
      2,
    ),
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
