// npm run bench:k8s -- [--deployments 50] [--runs 3] [--concurrency 8] [--json FILE] [--keep]
// Scales N Deployments (each with an HPA) from standby to production size with the scale activity and waits
// until every one is Ready, first with bounded parallelism, then sequentially (concurrency 1). Each run
// starts from standby. Runs on its own control plane (cluster dr-bench under .lab/bench), deleted afterwards
// unless --keep. Prints JSON (and writes it to FILE).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Service, Site } from '../config/schema';
import { restoreScale, scaleServices, type KubeContext } from '../activities/kubernetes';
import { deploymentFor } from '../lab/kubernetes';
import { ROOT } from '../lab/paths';

const { values } = parseArgs({
  options: {
    deployments: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    port: { type: 'string', default: '16643' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const N = Number(values.deployments);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const STATE = join(ROOT, '.lab', 'bench', 'k8s');
const NAMESPACE = 'bench';
const log = (m: string) => process.stderr.write(`${m}\n`);

function k8sLab(args: string[]): void {
  const r = spawnSync('bash', [join(ROOT, 'lab', 'k8s-lab.sh'), ...args], { env: { ...process.env, K8S_LAB_DIR: STATE }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`k8s-lab.sh ${args.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  log(r.stdout.trim());
}

const services: Service[] = Array.from({ length: N }, (_, i) => {
  const name = `svc-${String(i).padStart(3, '0')}`;
  return {
    name,
    deployment: name,
    hpa: name,
    production: { replicas: 4, minReplicas: 4, maxReplicas: 8 },
    standby: { replicas: 1, minReplicas: 1, maxReplicas: 8 },
  };
});

function context(concurrency: number): KubeContext {
  const site = { id: 'bench', kubernetes: { kubeconfig: join(STATE, 'bench.kubeconfig'), namespace: NAMESPACE, concurrency } } as unknown as Site;
  return { site, baseDir: ROOT, services };
}

async function createWorkloads(): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(join(STATE, 'bench.kubeconfig'));
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const hpas = kc.makeApiClient(AutoscalingV2Api);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } }).catch(() => undefined);
  for (const s of services) {
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: deploymentFor(s.deployment, 1) }).catch(() => undefined);
    await hpas
      .createNamespacedHorizontalPodAutoscaler({
        namespace: NAMESPACE,
        body: {
          metadata: { name: s.hpa! },
          spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: s.deployment }, minReplicas: 1, maxReplicas: 8 },
        },
      })
      .catch(() => undefined);
  }
}

async function measure(concurrency: number): Promise<{ walls: number[]; patch: number[] }> {
  const walls: number[] = [];
  const patch: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = Date.now();
    const r = await scaleServices(context(concurrency), { profile: 'production', timeoutMs: 600_000 });
    const ms = Date.now() - t0;
    walls.push(ms);
    patch.push(ms - r.ready.waitedMs); // reading and patching every object, before the wait for readiness
    log(
      `concurrency ${concurrency} run ${i + 1}/${RUNS}: ${r.ready.ready}/${r.ready.total} ready in ${ms} ms (read+patch ${ms - r.ready.waitedMs} ms)`,
    );
    await restoreScale(context(concurrency), { previous: r.previous, timeoutMs: 600_000 });
  }
  return { walls, patch };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  mkdirSync(STATE, { recursive: true });
  k8sLab(['up', 'bench', values.port!]);
  try {
    await createWorkloads();
    // Every Deployment at standby size and Ready before the first measurement.
    await restoreScale(context(CONCURRENCY), {
      previous: services.map((s) => ({
        service: s.name,
        deployment: s.deployment,
        replicas: 1,
        hpa: { name: s.hpa!, minReplicas: 1, maxReplicas: 8 },
      })),
      timeoutMs: 600_000,
    });
    const parallel = await measure(CONCURRENCY);
    const sequential = await measure(1);
    const out = {
      bench: 'k8s-scale',
      deployments: N,
      pods_added_per_run: N * 3,
      runs: RUNS,
      parallel: {
        concurrency: CONCURRENCY,
        wall_ms: parallel.walls,
        median_ms: median(parallel.walls),
        read_patch_median_ms: median(parallel.patch),
      },
      sequential: { concurrency: 1, wall_ms: sequential.walls, median_ms: median(sequential.walls), read_patch_median_ms: median(sequential.patch) },
      sequential_over_parallel: Number((median(sequential.walls) / median(parallel.walls)).toFixed(2)),
      read_patch_sequential_over_parallel: Number((median(sequential.patch) / median(parallel.patch)).toFixed(2)),
      machine: { cpus: (await import('node:os')).cpus().length },
    };
    const text = JSON.stringify(out, null, 2);
    console.log(text);
    if (values.json) writeFileSync(values.json, `${text}\n`);
  } finally {
    if (!values.keep) k8sLab(['down', 'bench']);
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
