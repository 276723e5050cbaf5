// Scale a site's services to a profile (production or standby) and wait until they are really ready.
// Previous values are recorded so that the compensation restores them exactly.
import { ApplicationFailure } from '@temporalio/common';
import { AppsV1Api, AutoscalingV2Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { isAbsolute, resolve } from 'node:path';
import type { Service, Site } from '../config/schema';
import { makeClient } from './kube-client';
import { heartbeat } from './heartbeat';

export interface ScaleTarget {
  service: string;
  deployment: string;
  hpa?: string;
  replicas: number;
  minReplicas?: number;
  maxReplicas?: number;
}

/** What a service looked like before a change: enough to put it back exactly. */
export interface ScaleSnapshot {
  service: string;
  deployment: string;
  replicas: number;
  hpa?: { name: string; minReplicas: number; maxReplicas: number };
}

export interface ScaleResult {
  site: string;
  cluster: string;
  namespace: string;
  profile: string;
  previous: ScaleSnapshot[];
  applied: ScaleTarget[];
  ready: ReadyResult;
}

export interface ReadyResult {
  ready: number;
  total: number;
  waitedMs: number;
}

export interface KubeContext {
  site: Site;
  baseDir: string;
  services: Service[];
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function clients(ctx: KubeContext) {
  const k = ctx.site.kubernetes;
  if (!k) throw ApplicationFailure.nonRetryable(`site ${ctx.site.id} has no kubernetes section in the config`, 'BadConfig');
  const kc = new KubeConfig();
  kc.loadFromFile(isAbsolute(k.kubeconfig) ? k.kubeconfig : resolve(ctx.baseDir, k.kubeconfig));
  if (k.context) kc.setCurrentContext(k.context);
  const cluster = kc.getCurrentCluster()?.server ?? 'unknown cluster';
  return { apps: makeClient(kc, AppsV1Api), hpas: makeClient(kc, AutoscalingV2Api), namespace: k.namespace, cluster, pool: pooled(k.concurrency) };
}

/** Explains a Kubernetes API error with the object, namespace and cluster it concerns. */
function explain(err: unknown, what: string, namespace: string, cluster: string): Error {
  const e = err as { code?: number; statusCode?: number; body?: unknown; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.statusCode;
  const where = `${what} in namespace ${namespace} on cluster ${cluster}`;
  if (code === 404) return ApplicationFailure.nonRetryable(`${where}: not found`, 'NotFound');
  if (code === 403) return ApplicationFailure.nonRetryable(`${where}: refused by RBAC (403): ${bodyMessage(e.body)}`, 'Forbidden');
  if (code === 422 || code === 400) return ApplicationFailure.nonRetryable(`${where}: rejected (${code}): ${bodyMessage(e.body)}`, 'Invalid');
  const sys = e.cause?.code ?? /(ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)/.exec(e.message ?? '')?.[1];
  if (sys) return new Error(`${where}: API server unreachable (${sys})`);
  return new Error(`${where}: ${e.message ?? String(err)}`);
}

function bodyMessage(body: unknown): string {
  try {
    const b = typeof body === 'string' ? JSON.parse(body) : body;
    return (b as { message?: string })?.message ?? String(body);
  } catch {
    return String(body);
  }
}

export function targetsFor(services: Service[], profile: 'production' | 'standby'): ScaleTarget[] {
  return services.map((s) => ({ service: s.name, deployment: s.deployment, hpa: s.hpa, ...s[profile] }));
}

export async function scaleServices(ctx: KubeContext, input: { profile: 'production' | 'standby'; timeoutMs: number }): Promise<ScaleResult> {
  const { apps, hpas, namespace, cluster, pool } = clients(ctx);
  const targets = targetsFor(ctx.services, input.profile);
  // Read everything first: a missing Deployment or a bad HPA stops the step before anything changes.
  const previous = await pool(targets, async (t) => snapshot(apps, hpas, t, namespace, cluster));
  for (const [i, t] of targets.entries()) {
    const hpa = previous[i]!.hpa;
    const min = t.minReplicas ?? hpa?.minReplicas;
    const max = t.maxReplicas ?? hpa?.maxReplicas;
    if (hpa && min !== undefined && max !== undefined && min > max) {
      throw ApplicationFailure.nonRetryable(
        `HPA ${t.hpa} in namespace ${namespace} on cluster ${cluster}: minReplicas ${min} would exceed maxReplicas ${max}`,
        'Invalid',
      );
    }
  }
  await pool(targets, (t, i) => apply(apps, hpas, t, previous[i]!, namespace, cluster));
  const ready = await waitReady(
    apps,
    pool,
    targets.map((t) => t.deployment),
    namespace,
    cluster,
    input.timeoutMs,
  );
  return { site: ctx.site.id, cluster, namespace, profile: input.profile, previous, applied: targets, ready };
}

/** The compensation: put every service back exactly as it was. */
export async function restoreScale(
  ctx: KubeContext,
  input: { previous: ScaleSnapshot[]; timeoutMs: number },
): Promise<{ restored: ScaleSnapshot[]; ready: ReadyResult }> {
  const { apps, hpas, namespace, cluster, pool } = clients(ctx);
  const targets: ScaleTarget[] = input.previous.map((p) => ({
    service: p.service,
    deployment: p.deployment,
    hpa: p.hpa?.name,
    replicas: p.replicas,
    minReplicas: p.hpa?.minReplicas,
    maxReplicas: p.hpa?.maxReplicas,
  }));
  const current = await pool(targets, (t) => snapshot(apps, hpas, t, namespace, cluster));
  await pool(targets, (t, i) => apply(apps, hpas, t, current[i]!, namespace, cluster));
  return {
    restored: input.previous,
    ready: await waitReady(
      apps,
      pool,
      targets.map((t) => t.deployment),
      namespace,
      cluster,
      input.timeoutMs,
    ),
  };
}

export async function readScale(ctx: KubeContext): Promise<ScaleSnapshot[]> {
  const { apps, hpas, namespace, cluster, pool } = clients(ctx);
  return pool(targetsFor(ctx.services, 'standby'), (t) => snapshot(apps, hpas, t, namespace, cluster));
}

async function snapshot(apps: AppsV1Api, hpas: AutoscalingV2Api, t: ScaleTarget, namespace: string, cluster: string): Promise<ScaleSnapshot> {
  let d: V1Deployment;
  try {
    d = await apps.readNamespacedDeployment({ name: t.deployment, namespace });
  } catch (err) {
    throw explain(err, `Deployment ${t.deployment}`, namespace, cluster);
  }
  const snap: ScaleSnapshot = { service: t.service, deployment: t.deployment, replicas: d.spec?.replicas ?? 1 };
  if (t.hpa) {
    try {
      const h = await hpas.readNamespacedHorizontalPodAutoscaler({ name: t.hpa, namespace });
      snap.hpa = { name: t.hpa, minReplicas: h.spec?.minReplicas ?? 1, maxReplicas: h.spec!.maxReplicas };
    } catch (err) {
      throw explain(err, `HPA ${t.hpa}`, namespace, cluster);
    }
  }
  return snap;
}

async function apply(
  apps: AppsV1Api,
  hpas: AutoscalingV2Api,
  t: ScaleTarget,
  before: ScaleSnapshot,
  namespace: string,
  cluster: string,
): Promise<void> {
  if (t.hpa && before.hpa) {
    const min = t.minReplicas ?? before.hpa.minReplicas;
    const max = Math.max(t.maxReplicas ?? before.hpa.maxReplicas, min);
    if (min !== before.hpa.minReplicas || max !== before.hpa.maxReplicas) {
      try {
        // One patch sets both, so the HPA is never seen with min above max.
        await hpas.patchNamespacedHorizontalPodAutoscaler(
          { name: t.hpa, namespace, body: { spec: { minReplicas: min, maxReplicas: max } } },
          mergePatch,
        );
      } catch (err) {
        throw explain(err, `HPA ${t.hpa}`, namespace, cluster);
      }
    }
  }
  if (t.replicas !== before.replicas) {
    try {
      await apps.patchNamespacedDeploymentScale({ name: t.deployment, namespace, body: { spec: { replicas: t.replicas } } }, mergePatch);
    } catch (err) {
      throw explain(err, `Deployment ${t.deployment}`, namespace, cluster);
    }
  }
}

/** Ready: observedGeneration current, updated and ready replicas equal to the spec, no failing condition. */
async function waitReady(apps: AppsV1Api, pool: Pool, names: string[], namespace: string, cluster: string, timeoutMs: number): Promise<ReadyResult> {
  const t0 = Date.now();
  let why: string[];
  for (;;) {
    const states = await pool(names, async (name) => {
      try {
        return { name, d: await apps.readNamespacedDeployment({ name, namespace }) };
      } catch (err) {
        throw explain(err, `Deployment ${name}`, namespace, cluster);
      }
    });
    why = states.map(({ name, d }) => notReady(name, d)).filter((x): x is string => x !== null);
    const ready = names.length - why.length;
    heartbeat({ progress: `${ready} of ${names.length} ready`, waiting: why });
    if (why.length === 0) return { ready, total: names.length, waitedMs: Date.now() - t0 };
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`not ready after ${timeoutMs} ms in namespace ${namespace} on cluster ${cluster}: ${why.join('; ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function notReady(name: string, d: V1Deployment): string | null {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const failing = (s.conditions ?? []).find(
    (c) => (c.type === 'ReplicaFailure' && c.status === 'True') || (c.type === 'Progressing' && c.status === 'False'),
  );
  if (failing) return `Deployment ${name}: ${failing.type} ${failing.reason ?? ''} ${failing.message ?? ''}`.trim();
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 0))
    return `Deployment ${name}: controller has not observed generation ${d.metadata?.generation}`;
  // The HPA may already have raised replicas above the profile: ready means the spec as it is now.
  if ((s.updatedReplicas ?? 0) !== want || (s.readyReplicas ?? 0) !== want || (s.replicas ?? 0) !== want) {
    return `Deployment ${name}: ${s.readyReplicas ?? 0}/${want} ready, ${s.updatedReplicas ?? 0} updated`;
  }
  return null;
}

type Pool = <T, R>(items: T[], fn: (item: T, i: number) => Promise<R>) => Promise<R[]>;

/** Runs fn over items with at most `limit` calls in flight. */
const pooled =
  (limit: number): Pool =>
  async (items, fn) => {
    const out = new Array(items.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
          const i = next++;
          out[i] = await fn(items[i]!, i);
        }
      }),
    );
    return out;
  };
