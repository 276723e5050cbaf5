// The Kubernetes activities against the lab's real control planes: kube-apiserver, kube-controller-manager
// (Deployment, ReplicaSet and HPA controllers), kube-scheduler, and kwok's fake nodes that make pods Ready.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { loadConfig, siteById, type LoadedConfig } from '../../config/load';
import type { Service } from '../../config/schema';
import { restoreScale, scaleServices, type KubeContext } from '../../activities/kubernetes';
import { deploymentFor } from '../../lab/kubernetes';
import { TEST_CONFIG, freshLab, waitUntil } from '../helpers/lab';
import { expected, kubeApis, sizes } from '../helpers/kube';
import { freePort } from '../helpers/ports';
import { labOf } from '../../lab/settings';

let loaded: LoadedConfig;
let sgApi: string; // as it appears in error messages
const TIMEOUT = 120_000;

before(async () => {
  loaded = loadConfig(TEST_CONFIG);
  // The suite before may have failed over (sg at production size): the lab's start is what is checked here.
  const asStarted = async () =>
    JSON.stringify([await sizes(loaded, 'tw'), await sizes(loaded, 'sg')]) ===
    JSON.stringify([expected(loaded, 'production'), expected(loaded, 'standby')]);
  if (!(await asStarted().catch(() => false))) await freshLab();
  sgApi = `https://${siteById(loaded, 'sg').mysql.host.replace(/\./g, '\\.')}:${labOf(loaded).kubeApiPorts!.sg}`;
});

const ctx = (site: string, services?: Service[], kubeconfig?: string): KubeContext => {
  const s = siteById(loaded, site);
  return {
    site: kubeconfig ? { ...s, kubernetes: { ...s.kubernetes!, kubeconfig } } : s,
    baseDir: loaded.baseDir,
    services: services ?? loaded.config.groups[0]!.services,
  };
};

test('the lab starts tw at production size and sg at standby size, all Ready', async () => {
  assert.deepEqual(await sizes(loaded, 'tw'), expected(loaded, 'production'));
  assert.deepEqual(await sizes(loaded, 'sg'), expected(loaded, 'standby'));
});

test('scaling sg to production makes every Deployment Ready; the compensation restores the exact previous values', async () => {
  const before = await sizes(loaded, 'sg');
  const r = await scaleServices(ctx('sg'), { profile: 'production', timeoutMs: TIMEOUT });
  assert.equal(r.ready.ready, r.ready.total);
  assert.equal(r.ready.total, loaded.config.groups[0]!.services.length);
  assert.deepEqual(await sizes(loaded, 'sg'), expected(loaded, 'production'), 'kwok made the pods Ready at production size');
  assert.deepEqual(
    r.previous.map((p) => ({ [p.service]: { replicas: p.replicas, hpa: p.hpa && { min: p.hpa.minReplicas, max: p.hpa.maxReplicas } } })),
    Object.entries(before).map(([k, v]) => ({ [k]: { replicas: v.replicas, hpa: v.hpa } })),
    'the snapshot holds what was there before',
  );
  const again = await scaleServices(ctx('sg'), { profile: 'production', timeoutMs: TIMEOUT });
  assert.deepEqual(await sizes(loaded, 'sg'), expected(loaded, 'production'), 'a second run changes nothing (idempotent)');
  assert.deepEqual(
    again.previous.map((p) => p.replicas),
    again.applied.map((a) => a.replicas),
  );

  const restored = await restoreScale(ctx('sg'), { previous: r.previous, timeoutMs: TIMEOUT });
  assert.equal(restored.ready.ready, restored.ready.total);
  assert.deepEqual(await sizes(loaded, 'sg'), before, 'back to the exact replicas and HPA bounds');
});

test('the real HPA controller enforces a raised minimum: replicas rise to it', async () => {
  const { apps, hpas, namespace } = kubeApis(loaded, 'sg');
  const name = 'hpa-probe';
  await apps.createNamespacedDeployment({ namespace, body: deploymentFor(name, 1) });
  await hpas.createNamespacedHorizontalPodAutoscaler({
    namespace,
    body: {
      metadata: { name },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas: 1,
        maxReplicas: 6,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      },
    },
  });
  try {
    // The profile asks for 2 replicas but an HPA minimum of 5: only the controller-manager can make it 5.
    const svc: Service = {
      name,
      deployment: name,
      hpa: name,
      production: { replicas: 2, minReplicas: 5, maxReplicas: 6 },
      standby: { replicas: 1, minReplicas: 1, maxReplicas: 6 },
    };
    await scaleServices(ctx('sg', [svc]), { profile: 'production', timeoutMs: TIMEOUT });
    await waitUntil(
      'the HPA controller raises hpa-probe to 5 ready replicas',
      async () => {
        const d = await apps.readNamespacedDeployment({ name, namespace });
        return d.spec?.replicas === 5 && d.status?.readyReplicas === 5;
      },
      TIMEOUT,
    );
    const h = await hpas.readNamespacedHorizontalPodAutoscaler({ name, namespace });
    assert.equal(h.spec?.minReplicas, 5);
    assert.equal(h.status?.desiredReplicas, 5);
  } finally {
    await hpas.deleteNamespacedHorizontalPodAutoscaler({ name, namespace });
    await apps.deleteNamespacedDeployment({ name, namespace });
  }
});

test('a Deployment that never gets ready: the timeout lists it and why', async () => {
  const { apps, namespace } = kubeApis(loaded, 'sg');
  const name = 'unschedulable';
  const body = deploymentFor(name, 1);
  body.spec!.template.spec!.nodeSelector = { 'dr-lab/no-such-node': 'true' }; // its pods stay Pending
  await apps.createNamespacedDeployment({ namespace, body });
  try {
    const svc: Service = { name, deployment: name, production: { replicas: 2 }, standby: { replicas: 1 } };
    await assert.rejects(scaleServices(ctx('sg', [svc]), { profile: 'production', timeoutMs: 2_000 }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`^not ready after 2000 ms in namespace trading on cluster ${sgApi}: Deployment unschedulable: 0/2 ready, \\d updated$`),
      );
      return true;
    });
  } finally {
    await apps.deleteNamespacedDeployment({ name, namespace });
  }
});

test('a missing Deployment is named with its namespace and cluster, and nothing else is changed', async () => {
  const before = await sizes(loaded, 'sg');
  const services = [
    ...loaded.config.groups[0]!.services,
    { name: 'ghost', deployment: 'ghost', production: { replicas: 2 }, standby: { replicas: 1 } },
  ];
  await assert.rejects(scaleServices(ctx('sg', services), { profile: 'production', timeoutMs: TIMEOUT }), (err: Error) => {
    assert.match(err.message, new RegExp(`^Deployment ghost in namespace trading on cluster ${sgApi}: not found$`));
    return true;
  });
  assert.deepEqual(await sizes(loaded, 'sg'), before);
});

test('an HPA minimum above its maximum is refused before anything changes', async () => {
  const before = await sizes(loaded, 'sg');
  const me = loaded.config.groups[0]!.services.find((s) => s.hpa)!;
  const services = [{ ...me, production: { replicas: 9, minReplicas: 9 } }];
  await assert.rejects(
    scaleServices(ctx('sg', services), { profile: 'production', timeoutMs: TIMEOUT }),
    new RegExp(`HPA matching-engine in namespace trading on cluster ${sgApi}: minReplicas 9 would exceed maxReplicas 8`),
  );
  assert.deepEqual(await sizes(loaded, 'sg'), before);
});

test('an unreachable API server is named with the Deployment, namespace and cluster', async () => {
  const port = await freePort();
  const { kc } = kubeApis(loaded, 'sg');
  const dir = mkdtempSync(join(tmpdir(), 'dr-kube-'));
  const file = join(dir, 'unreachable.kubeconfig');
  const cfg = JSON.parse(kc.exportConfig());
  cfg.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
  writeFileSync(file, JSON.stringify(cfg));
  await assert.rejects(scaleServices(ctx('sg', undefined, file), { profile: 'production', timeoutMs: TIMEOUT }), (err: Error) => {
    assert.match(
      err.message,
      new RegExp(`^Deployment \\S+ in namespace trading on cluster https://127\\.0\\.0\\.1:${port}: API server unreachable \\(ECONNREFUSED\\)`),
    );
    return true;
  });
});

test('an RBAC refusal is named with the Deployment, namespace and cluster, and nothing is changed', async () => {
  const { kc, namespace } = kubeApis(loaded, 'sg');
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const name = 'dr-read-only';
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  await rbac.createNamespacedRole({
    namespace,
    body: {
      metadata: { name },
      rules: [{ apiGroups: ['apps', 'autoscaling'], resources: ['deployments', 'horizontalpodautoscalers'], verbs: ['get', 'list'] }],
    },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace }],
    },
  });
  try {
    const token = await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } });
    const cfg = JSON.parse(kc.exportConfig());
    cfg.users = [{ name, user: { token: token.status!.token } }];
    cfg.contexts[0].context.user = name;
    const file = join(mkdtempSync(join(tmpdir(), 'dr-kube-')), 'read-only.kubeconfig');
    writeFileSync(file, JSON.stringify(cfg));
    const before = await sizes(loaded, 'sg');
    await assert.rejects(scaleServices(ctx('sg', undefined, file), { profile: 'production', timeoutMs: TIMEOUT }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(
          `^(HPA|Deployment) \\S+ in namespace trading on cluster ${sgApi}: refused by RBAC \\(403\\): .*system:serviceaccount:trading:dr-read-only.* cannot patch`,
        ),
      );
      return true;
    });
    assert.deepEqual(await sizes(loaded, 'sg'), before);
  } finally {
    await rbac.deleteNamespacedRoleBinding({ name, namespace });
    await rbac.deleteNamespacedRole({ name, namespace });
    await core.deleteNamespacedServiceAccount({ name, namespace });
  }
});
