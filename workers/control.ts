// The control worker: runs the runbooks (workflows) on dr-control, plus config look-ups for them. With
// detection on, it also takes Alertmanager's webhook, grants the primary's lease as a vantage point, and
// serves the project's /metrics.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createControlActivities } from '../activities';
import { connectionOptions, temporalAccess } from '../activities/temporal-access';
import { planOf } from '../config/plan';
import { LeaseTable } from '../domain/lease';
import { controlTaskQueue } from '../domain/runs';
import { workerArgs } from './args';
import { startControlDetection } from './intake/start';

async function main(): Promise<void> {
  const { loaded } = workerArgs(false);
  const access = temporalAccess(loaded);
  const { address, namespace, dataConverter } = access;
  const connection = await NativeConnection.connect(connectionOptions(access));
  const detection = planOf(loaded).detection;
  const leases = detection ? new LeaseTable(detection.lease.promoteAfterMs, () => performance.now()) : undefined;
  const intake = leases ? await startControlDetection(loaded, leases) : null;
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      dataConverter,
      taskQueue: controlTaskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createControlActivities(loaded, { leases }),
    });
    console.log(`control worker polling ${controlTaskQueue} on ${address}`);
    await worker.run();
    console.log('control worker stopped');
  } finally {
    await intake?.stop();
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
