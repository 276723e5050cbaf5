// The lab's Kubernetes control planes (one per site, lab/k8s-lab.sh) and the sample app on them:
// every group's Deployments and HPAs, at production size on the primary and standby size elsewhere.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AppsV1Api, AutoscalingV2Api, CoreV1Api, KubeConfig, type V1Deployment, type V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import type { LoadedConfig } from '../config/load';
import type { Service, Site } from '../config/schema';
import { targetsFor } from '../activities/kubernetes';
import type { LabDirs } from './paths';
import { ROOT } from './paths';

export const k8sName = (s: Site): string => `k8s-${s.id}`;
export const k8sStateDir = (dirs: LabDirs): string => join(dirs.state, 'k8s');

function k8sLab(dirs: LabDirs, args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync('bash', [join(ROOT, 'lab', 'k8s-lab.sh'), ...args], {
    env: { ...process.env, K8S_LAB_DIR: k8sStateDir(dirs) },
    encoding: 'utf8',
    timeout: 300_000,
  });
  return { code: r.status ?? 1, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

export function startCluster(dirs: LabDirs, site: Site, port: number): string {
  const r = k8sLab(dirs, ['up', site.id, String(port)]);
  if (r.code !== 0) throw new Error(`kubernetes control plane for site ${site.id} did not start:\n${r.err || r.out}`);
  return r.out
    .split('\n')
    .pop()!
    .replace(/ kubeconfig=\S+/, '');
}

export function stopCluster(dirs: LabDirs, site: Site): string {
  const r = k8sLab(dirs, ['down', site.id]);
  return r.code === 0 ? r.out.split('\n').pop()! : `failed: ${r.err || r.out}`;
}

export function clusterStatus(dirs: LabDirs, site: Site): { up: boolean; line: string } {
  const r = k8sLab(dirs, ['status', site.id]);
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
