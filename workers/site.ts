// A site worker: polls dr-site-<id> and acts only on that site, with that site's config.
import { NativeConnection, Worker } from '@temporalio/worker';
import { ConfigError, siteById } from '../config/load';
import { createSiteActivities } from '../activities';
import { siteTaskQueue } from '../workflows/types';
import { fail, workerArgs } from './args';

async function main(): Promise<void> {
  const { loaded, site: siteId } = workerArgs(true);
  let site;
  try {
    site = siteById(loaded, siteId!);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const { address, namespace } = loaded.config.temporal;
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      connection,
      namespace,
      taskQueue: siteTaskQueue(site.id),
      activities: createSiteActivities(loaded, site),
    });
    console.log(`site worker ${site.id} (${site.name}) polling ${siteTaskQueue(site.id)} on ${address}`);
    await worker.run();
    console.log(`site worker ${site.id} stopped`);
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
