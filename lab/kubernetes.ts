// The lab's Kubernetes control planes (one per site, lab/k8s-lab.sh) and the sample app on them:
// every group's Deployments and HPAs, at production size on the primary and standby size elsewhere.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, KubeConfig, type V1Deployment, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { LoadedConfig } from '../config/load';
import type { Service, Site } from '../config/schema';
import { targetsFor } from '../activities/kubernetes';
import type { LabDirs } from './paths';
import { ROOT } from './paths';
import type { Placement } from './network';

export const k8sName = (s: Site): string => `k8s-${s.id}`;
export const k8sStateDir = (dirs: LabDirs): string => join(dirs.state, 'k8s');

type K8sLabResult = { code: number; out: string; err: string };

function k8sLabCommand(dirs: LabDirs, args: string[], where?: Placement) {
  const script = ['bash', join(ROOT, 'lab', 'k8s-lab.sh'), ...args];
  // In the site's namespace: the components kwokctl starts stay there, and go with a power-off of the site.
  const [command, ...rest] = where?.netns ? ['ip', 'netns', 'exec', where.netns, ...script] : script;
  const env = { ...process.env, K8S_LAB_DIR: k8sStateDir(dirs), K8S_LAB_HOST: where?.host ?? '127.0.0.1' };
  return { command: command!, rest, env };
}

function k8sLab(dirs: LabDirs, args: string[], where?: Placement): K8sLabResult {
  const { command, rest, env } = k8sLabCommand(dirs, args, where);
  const r = spawnSync(command, rest, { env, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? 1, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

/** The same, without blocking: the sites' clusters start and stop side by side. */
function k8sLabAsync(dirs: LabDirs, args: string[], where?: Placement): Promise<K8sLabResult> {
  const { command, rest, env } = k8sLabCommand(dirs, args, where);
  return new Promise((resolve) => {
    const child = spawn(command, rest, { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out: out.trim(), err: err.trim() }));
  });
}

export async function startCluster(dirs: LabDirs, site: Site, port: number, where?: Placement): Promise<string> {
  const r = await k8sLabAsync(dirs, ['up', site.id, String(port)], where);
  if (r.code !== 0) throw new Error(`kubernetes control plane for site ${site.id} did not start:\n${r.err || r.out}`);
  return r.out
    .split('\n')
    .pop()!
    .replace(/ kubeconfig=\S+/, '');
}

export async function stopCluster(dirs: LabDirs, site: Site, where?: Placement): Promise<string> {
  const r = await k8sLabAsync(dirs, ['down', site.id], where && { host: where.host, site: where.site });
  return r.code === 0 ? r.out.split('\n').pop()! : `failed: ${r.err || r.out}`;
}

export function clusterStatus(dirs: LabDirs, site: Site, where?: Placement): { up: boolean; line: string } {
  const r = k8sLab(dirs, ['status', site.id], where && { host: where.host, site: where.site });
  return { up: r.code === 0, line: r.out || r.err };
}

function clients(loaded: LoadedConfig, site: Site) {
  const k = site.kubernetes!;
  const kc = new KubeConfig();
  kc.loadFromFile(join(loaded.baseDir, k.kubeconfig));
  if (k.context) kc.setCurrentContext(k.context);
  return { core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api), hpas: kc.makeApiClient(AutoscalingV2Api), namespace: k.namespace };
}

const notFound = (err: unknown) => (err as { code?: number }).code === 404;

function servicesOn(loaded: LoadedConfig, site: Site): Service[] {
  return loaded.config.groups.filter((g) => g.sites.includes(site.id)).flatMap((g) => g.services);
}

/**
 * Creates what is missing: namespace, Deployments and HPAs, sized for the site's role. With `reset`, also
 * puts existing ones back to that size (the benchmark's reset between runs).
 */
export async function applyWorkloads(
  loaded: LoadedConfig,
  site: Site,
  profile: 'production' | 'standby',
  opts: { reset?: boolean } = {},
): Promise<string> {
  const { core, apps, hpas, namespace } = clients(loaded, site);
  try {
    await core.readNamespace({ name: namespace });
  } catch (err) {
    if (!notFound(err)) throw err;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  }
  const services = servicesOn(loaded, site);
  let created = 0;
  for (const t of targetsFor(services, profile)) {
    const deployment = deploymentFor(t.deployment, t.replicas);
    try {
      await apps.readNamespacedDeployment({ name: t.deployment, namespace });
      if (opts.reset) await apps.replaceNamespacedDeployment({ name: t.deployment, namespace, body: deployment });
    } catch (err) {
      if (!notFound(err)) throw err;
      await apps.createNamespacedDeployment({ namespace, body: deployment });
      created++;
    }
    if (!t.hpa) continue;
    const hpa = hpaFor(t.hpa, t.deployment, t.minReplicas ?? Math.max(1, t.replicas), t.maxReplicas ?? Math.max(1, t.replicas));
    try {
      await hpas.readNamespacedHorizontalPodAutoscaler({ name: t.hpa, namespace });
      if (opts.reset) await hpas.replaceNamespacedHorizontalPodAutoscaler({ name: t.hpa, namespace, body: hpa });
    } catch (err) {
      if (!notFound(err)) throw err;
      await hpas.createNamespacedHorizontalPodAutoscaler({ namespace, body: hpa });
    }
  }
  return `${services.length} services at ${profile} size in namespace ${namespace}${created ? ` (${created} created)` : ''}`;
}

export function deploymentFor(name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        // Never pulled: kwok's fake nodes mark the pods Running and Ready.
        spec: { containers: [{ name, image: 'registry.k8s.io/pause:3.10', resources: { requests: { cpu: '100m', memory: '32Mi' } } }] },
      },
    },
  };
}

function hpaFor(name: string, deployment: string, minReplicas: number, maxReplicas: number): V2HorizontalPodAutoscaler {
  return {
    metadata: { name },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment },
      minReplicas,
      maxReplicas,
      // No metrics server in the lab: the controller still enforces min and max.
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
    },
  };
}
