// The time-skipping server with this process's workers running the real activities against the lab: what
// the gate tests of failover and failback share.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { parseConfig, type LoadedConfig } from '../../config/load';
import { createControlActivities, createSiteActivities } from '../../activities';
import { controlTaskQueue, returnTaskQueue, siteTaskQueue } from '../../domain/runs';
import { TEST_CONFIG } from './lab';

export type SiteActivities = ReturnType<typeof createSiteActivities>;

/** The test lab's config with some fields changed, as the workers would load it. */
export function configWith(changes: Array<[Array<string | number>, unknown]>): LoadedConfig {
  const doc = parseDocument(readFileSync(TEST_CONFIG, 'utf8'));
  for (const [path, value] of changes) doc.setIn(path, value);
  return parseConfig(doc.toString(), TEST_CONFIG);
}

/**
 * Control and site workers for `loaded` while `fn` runs. Sites in `without` have none (they are away);
 * `inject` replaces some of a site's activities (fault injection), given the real ones.
 */
export async function withWorkers<T>(
  env: TestWorkflowEnvironment,
  loaded: LoadedConfig,
  fn: () => Promise<T>,
  opts: { without?: string[]; inject?: Record<string, (real: SiteActivities) => Partial<SiteActivities>>; dataConverter?: DataConverter } = {},
): Promise<T> {
  const sites = loaded.config.sites.filter((s) => !opts.without?.includes(s.id));
  const activitiesOf = (s: LoadedConfig['config']['sites'][number]) => {
    const real = createSiteActivities(loaded, s);
    return { ...real, ...opts.inject?.[s.id]?.(real) };
  };
  const workers = await Promise.all([
    Worker.create({
      connection: env.nativeConnection,
      dataConverter: opts.dataConverter,
      taskQueue: controlTaskQueue,
      workflowsPath: require.resolve('../../workflows'),
      activities: createControlActivities(loaded),
    }),
    ...sites.flatMap((s) =>
      [siteTaskQueue(s.id), returnTaskQueue(s.id)].map((taskQueue) =>
        Worker.create({ connection: env.nativeConnection, dataConverter: opts.dataConverter, taskQueue, activities: activitiesOf(s) }),
      ),
    ),
  ]);
  const running = workers.map((w) => w.run());
  try {
    return await fn();
  } finally {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running);
  }
}
