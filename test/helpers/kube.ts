// What the lab's clusters really hold, read straight from each site's API server.
import { AppsV1Api, AutoscalingV2Api, KubeConfig } from '@kubernetes/client-node';
import { join } from 'node:path';
import { siteById, type LoadedConfig } from '../../config/load';

export interface Size {
  replicas: number;
  ready: number;
  hpa?: { min: number; max: number };
}

export function kubeApis(loaded: LoadedConfig, site: string) {
  const k = siteById(loaded, site).kubernetes!;
  const kc = new KubeConfig();
  kc.loadFromFile(join(loaded.baseDir, k.kubeconfig));
  return { apps: kc.makeApiClient(AppsV1Api), hpas: kc.makeApiClient(AutoscalingV2Api), namespace: k.namespace, kc };
}

/** Spec replicas, ready replicas and HPA bounds of every Deployment the config names for the site. */
export async function sizes(loaded: LoadedConfig, site: string): Promise<Record<string, Size>> {
  const { apps, hpas, namespace } = kubeApis(loaded, site);
  const out: Record<string, Size> = {};
  for (const s of loaded.config.groups.flatMap((g) => g.services)) {
    const d = await apps.readNamespacedDeployment({ name: s.deployment, namespace });
    out[s.name] = { replicas: d.spec?.replicas ?? 0, ready: d.status?.readyReplicas ?? 0 };
    if (s.hpa) {
      const h = await hpas.readNamespacedHorizontalPodAutoscaler({ name: s.hpa, namespace });
      out[s.name]!.hpa = { min: h.spec?.minReplicas ?? 1, max: h.spec!.maxReplicas };
    }
  }
  return out;
}

/** The sizes a profile from the config asks for, all ready. */
export function expected(loaded: LoadedConfig, profile: 'production' | 'standby'): Record<string, Size> {
  const out: Record<string, Size> = {};
  for (const s of loaded.config.groups.flatMap((g) => g.services)) {
    const p = s[profile];
    out[s.name] = { replicas: p.replicas, ready: p.replicas };
    if (s.hpa) out[s.name]!.hpa = { min: p.minReplicas!, max: p.maxReplicas! };
  }
  return out;
}
