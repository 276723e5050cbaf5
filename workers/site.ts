// A site worker: polls dr-site-<id> and acts only on that site, with that site's config.
// On start it first serves dr-site-<id>-return: a fence queued while the site was away runs before
// anything else here.
import { NativeConnection, Worker } from '@temporalio/worker';
import { ConfigError, siteById, type LoadedConfig } from '../config/load';
import { connectClient, connectionOptions, temporalAccess } from '../activities/temporal-access';
import { createSiteActivities } from '../activities';
import type { Client } from '@temporalio/client';
import { fenceOnReturnWorkflowId, returnTaskQueue, siteTaskQueue } from '../domain/runs';
import { fail, workerArgs } from './args';
import { LeaseTable } from '../domain/lease';
import { planOf } from '../config/plan';
import { startDetection } from './agent/start';

async function main(): Promise<void> {
  const { loaded, site: siteId } = workerArgs(true);
  let site;
  try {
    site = siteById(loaded, siteId!);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const access = temporalAccess(loaded);
  const { address, namespace, dataConverter } = access;
  const connection = await NativeConnection.connect(connectionOptions(access));
  const detection = planOf(loaded).detection;
  const leases = detection ? new LeaseTable(detection.lease.promoteAfterMs, () => performance.now()) : undefined;
  const activities = createSiteActivities(loaded, site, { leases });
  const agent = leases ? await startDetection(loaded, site, leases, activities) : null;
  try {
    const returning = await Worker.create({ connection, namespace, dataConverter, taskQueue: returnTaskQueue(site.id), activities });
    const serving = returning.run();
    await pendingFenceDone(loaded, site.id);
    // Heartbeats reach the server every 2 s (not 0.8 × the heartbeat timeout), so the UI and drctl show
    // rclone's and the re-seed's progress as it happens.
    const worker = await Worker.create({
      connection,
      namespace,
      dataConverter,
      taskQueue: siteTaskQueue(site.id),
      activities,
      maxHeartbeatThrottleInterval: '2s',
    });
    console.log(`site worker ${site.id} (${site.name}) polling ${siteTaskQueue(site.id)} on ${address}`);
    // Both run until SIGINT/SIGTERM, which the SDK turns into a graceful shutdown of each worker.
    await Promise.all([worker.run(), serving]);
    console.log(`site worker ${site.id} stopped`);
  } finally {
    await agent?.stop();
    await connection.close();
  }
}

/** Waits while a fence-on-return for this site (its own server, or a group's) has its fence still pending. */
async function pendingFenceDone(loaded: LoadedConfig, site: string): Promise<void> {
  const groups = loaded.config.groups.filter((g) => g.databases?.[site]).map((g) => g.id);
  const { client, connection: conn } = await connectClient(loaded);
  try {
    await Promise.all([undefined, ...groups].map((group) => pendingFenceOf(client, site, group)));
  } finally {
    await conn.close();
  }
}

async function pendingFenceOf(client: Client, site: string, group: string | undefined): Promise<void> {
  const handle = client.workflow.getHandle(fenceOnReturnWorkflowId(site, group));
  for (let announced = false; ;) {
    let d;
    try {
      d = await handle.describe();
    } catch {
      return; // never queued
    }
    const pending = d.raw.pendingActivities?.some((a) => a.activityType?.name === 'fenceSite');
    if (d.status.name !== 'RUNNING' || !pending) return;
    if (!announced) console.log(`site worker ${site}: a fence was queued while this site was away; running it first (${handle.workflowId})`);
    announced = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
