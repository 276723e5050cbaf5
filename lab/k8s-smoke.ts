/**
 * Smoke test of one lab site's Kubernetes cluster (lab/k8s-lab.sh up SITE).
 *
 *   npx tsx lab/k8s-smoke.ts SITE [--keep]
 *
 * Creates a Deployment with 3 replicas, waits until it is 3/3 ready (kwok's
 * fake nodes mark the pods Running/Ready), then an autoscaling/v2 HPA
 * (minReplicas 4, maxReplicas 6, CPU utilisation target) and waits until the
 * real kube-controller-manager's HPA controller has raised the Deployment to
 * 4 and the 4th pod is ready. There is no metrics server, so this shows the
 * HPA enforcing minReplicas without metrics. Prints one JSON document; exit 0
 * only when every step passed. The objects are deleted afterwards unless
 * --keep is given.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  KubeConfig,
  VersionApi,
  type V1Deployment,
  type V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';

const NAMESPACE = 'default';

type Result = Record<string, unknown> & { ok: boolean; steps: Record<string, unknown> };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Poll fn until it returns a value (not undefined) or the timeout passes. */
async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  let lastErr: unknown;
  while (Date.now() - t0 < timeoutMs) {
    try {
      const v = await fn();
      if (v !== undefined) return { value: v, ms: Date.now() - t0 };
    } catch (e) {
      lastErr = e;
    }
    await sleep(500);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

function errMsg(e: unknown): string {
  if (e && typeof e === 'object' && 'body' in e) {
    const { body, message } = e as { body?: unknown; message?: unknown };
    return `${String(message ?? '')} ${typeof body === 'string' ? body : JSON.stringify(body)}`.trim();
  }
  return e instanceof Error ? e.message : String(e);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const site = args.find((a) => !a.startsWith('--'));
  const keep = args.includes('--keep');
  if (!site) {
    console.error('usage: npx tsx lab/k8s-smoke.ts SITE [--keep]');
    return 2;
  }
  const kubeconfig = path.resolve(__dirname, '..', '.lab', 'k8s', `${site}.kubeconfig`);
  const result: Result = { site, kubeconfig, ok: false, steps: {} };
  if (!fs.existsSync(kubeconfig)) {
    result.error = `no kubeconfig at ${kubeconfig}: start the cluster with: bash lab/k8s-lab.sh up ${site}`;
    console.log(JSON.stringify(result, null, 2));
    return 1;
  }

  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const hpaApi = kc.makeApiClient(AutoscalingV2Api);
  const name = `smoke-${Date.now().toString(36)}`;
  result.server = kc.getCurrentCluster()?.server;
  result.name = name;

  try {
    const ver = await kc.makeApiClient(VersionApi).getCode();
    result.serverVersion = ver.gitVersion;

    const nodes = await core.listNode();
    const ready = nodes.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    result.steps.nodes = { total: nodes.items.length, ready: ready.length, names: nodes.items.map((n) => n.metadata?.name) };
    if (ready.length === 0) throw new Error('no Ready node');

    const labels = { app: name };
    const deployment: V1Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.k8s.io/pause:3.10', // never pulled: kwok fakes the pods
                resources: { requests: { cpu: '100m', memory: '32Mi' } },
              },
            ],
          },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body: deployment });
    const d3 = await waitFor('deployment 3/3 ready', 120_000, async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      return (d.status?.readyReplicas ?? 0) >= 3 ? d : undefined;
    });
    const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `app=${name}` });
    result.steps.deployment = {
      ready: `${d3.value.status?.readyReplicas}/${d3.value.spec?.replicas}`,
      ms: d3.ms,
      pods: pods.items.map((p) => ({ name: p.metadata?.name, node: p.spec?.nodeName, phase: p.status?.phase })),
    };

    const hpa: V2HorizontalPodAutoscaler = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 4,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      },
    };
    await hpaApi.createNamespacedHorizontalPodAutoscaler({ namespace: NAMESPACE, body: hpa });
    const d4 = await waitFor('HPA to raise the deployment to 4 ready replicas', 120_000, async () => {
      const d = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      return (d.spec?.replicas ?? 0) >= 4 && (d.status?.readyReplicas ?? 0) >= 4 ? d : undefined;
    });
    const h = await hpaApi.readNamespacedHorizontalPodAutoscaler({ name, namespace: NAMESPACE });
    const events = await core.listNamespacedEvent({
      namespace: NAMESPACE,
      fieldSelector: `involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=${name}`,
    });
    result.steps.hpa = {
      deploymentReplicas: d4.value.spec?.replicas,
      ready: `${d4.value.status?.readyReplicas}/${d4.value.spec?.replicas}`,
      ms: d4.ms,
      status: { currentReplicas: h.status?.currentReplicas, desiredReplicas: h.status?.desiredReplicas },
      conditions: h.status?.conditions?.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })),
      events: events.items.map((e) => ({ type: e.type, reason: e.reason, message: e.message })),
    };
    result.ok = true;
  } catch (e) {
    result.error = errMsg(e);
  } finally {
    if (!keep) {
      const cleanup: string[] = [];
      await hpaApi.deleteNamespacedHorizontalPodAutoscaler({ name, namespace: NAMESPACE }).catch((e: unknown) => cleanup.push(`hpa: ${errMsg(e)}`));
      await apps
        .deleteNamespacedDeployment({ name, namespace: NAMESPACE, propagationPolicy: 'Background' })
        .catch((e: unknown) => cleanup.push(`deployment: ${errMsg(e)}`));
      result.cleanup = cleanup.length ? cleanup : 'deleted';
    } else {
      result.cleanup = 'kept';
    }
  }
  console.log(JSON.stringify(result, null, 2));
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.log(JSON.stringify({ ok: false, error: errMsg(e) }));
    process.exit(1);
  },
);
