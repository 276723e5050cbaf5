// The drill's two clients. `router` runs in the control plane and writes wherever the routers send writes;
// `local-<site>` runs inside the faulted site and writes to its own server, like an application there, which
// is how writes taken by a cut-off old primary are seen. Each keeps a journal; the drill reads them at the end.
import { ActivityCancellationType, CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { ControlActivities, SiteActivities } from '../../activities';
import type { StreamWrite } from '../../domain/drill';
import { controlTaskQueue, siteTaskQueue } from '../../domain/runs';
import { errorText } from '../../domain/errors';
import type { Drill } from '../drill';

export const ROUTER_WRITER = 'router';

interface Client {
  writer: string;
  /** null: the control plane's. */
  site: string | null;
  scope: CancellationScope;
  done: Promise<unknown>;
}

export interface Streams {
  clients: Client[];
}

const MAX_MS = 30 * 60_000;

/** Starts both clients; each runs until cancelled (or MAX_MS, for one that was cut off and never heard). */
export async function startStreams(d: Drill): Promise<Streams> {
  const { run, input } = d;
  const rate = run.plan.drills?.stream.ratePerSecond ?? 20;
  const args = (writer: string) => ({ drill: d.drillId, writer, ratePerSecond: rate, maxMs: MAX_MS });
  // The router client survives a control worker's restart (it resumes from its journal), and a stop waits until it
  // has stopped. The local one dies with its site, and a site cut off must not stop it: an application there
  // does not know the control plane is gone (a short heartbeat timeout would have its own worker cancel it).
  // It stops once its site is back and hears the cancel, or at MAX_MS; its journal is read after the site's fence.
  const router = proxyActivities<ControlActivities>({
    taskQueue: controlTaskQueue,
    startToCloseTimeout: MAX_MS + 60_000,
    heartbeatTimeout: 5000,
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: { initialInterval: 1000, maximumInterval: 2000 },
  });
  const local = proxyActivities<SiteActivities>({
    taskQueue: siteTaskQueue(input.site),
    startToCloseTimeout: MAX_MS + 60_000,
    heartbeatTimeout: MAX_MS,
    cancellationType: ActivityCancellationType.TRY_CANCEL,
    retry: { maximumAttempts: 1 },
  });
  return run.progress.run(
    'stream',
    async () => ({
      clients: [
        background(ROUTER_WRITER, null, () => router.streamWrites(args(ROUTER_WRITER))),
        background(`local-${input.site}`, input.site, () => local.streamWrites(args(`local-${input.site}`))),
      ],
    }),
    (s) => ({ drill: d.drillId, ratePerSecond: rate, writers: s.clients.map((c) => c.writer) }),
  );
}

/** A client in a scope of its own, outside the scenario's: an abort does not stop the measurement. */
function background(writer: string, site: string | null, start: () => Promise<unknown>): Client {
  let scope!: CancellationScope;
  const done = CancellationScope.nonCancellable(() => {
    scope = new CancellationScope();
    return scope.run(start);
  }).catch((err) => errorText(err));
  return { writer, site, scope, done };
}

/** Stops every client and waits until each has stopped (or is known gone). */
export async function stopStreams(streams: Streams): Promise<Record<string, string>> {
  for (const c of streams.clients) c.scope.cancel();
  const ended = await Promise.all(streams.clients.map(async (c) => [c.writer, String((await c.done) ?? 'stopped')] as const));
  return Object.fromEntries(ended.map(([w, how]) => [w, how.slice(0, 200)]));
}

/** Every client's journal, each read where it was written. */
export async function readStreams(d: Drill, streams: Streams): Promise<StreamWrite[]> {
  const parts = await Promise.all(
    streams.clients.map((c) => {
      const where =
        c.site === null
          ? proxyActivities<ControlActivities>({ taskQueue: controlTaskQueue, startToCloseTimeout: '30s' })
          : proxyActivities<SiteActivities>({ taskQueue: siteTaskQueue(c.site), startToCloseTimeout: '30s', scheduleToStartTimeout: '60s' });
      return where.readStream({ drill: d.drillId, writer: c.writer }).catch(() => [] as StreamWrite[]);
    }),
  );
  return parts.flat();
}
