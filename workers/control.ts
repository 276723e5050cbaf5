// The control worker: runs the runbooks (workflows) on dr-control, plus config look-ups for them.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createControlActivities } from '../activities';
import { controlTaskQueue } from '../domain/runs';
import { workerArgs } from './args';

async function main(): Promise<void> {
  const { loaded } = workerArgs(false);
  const { address, namespace } = loaded.config.temporal;
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue: controlTaskQueue,
      workflowsPath: require.resolve('../workflows'),
      activities: createControlActivities(loaded),
    });
    console.log(`control worker polling ${controlTaskQueue} on ${address}`);
    await worker.run();
    console.log('control worker stopped');
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
