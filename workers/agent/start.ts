// Detection in a site's worker: the agent that watches this site, the lease it grants to others, the lapse
// watch on that lease, and the HTTP listener that carries the lease and /metrics.
import type { LoadedConfig } from '../../config/load';
import { planOf } from '../../config/plan';
import type { Site } from '../../config/schema';
import type { LeaseTable } from '../../domain/lease';
import type { SiteActivities } from '../../activities';
import { metricsRoute, startHttp } from '../metrics/http';
import { agentMetrics } from './agent-metrics';
import { LapseWatch } from './lapse-watch';
import { leaseRoutes } from './lease-routes';
import { IncidentReporter } from './reporter';
import { SiteAgent } from './site-agent';

export async function startDetection(loaded: LoadedConfig, site: Site, leases: LeaseTable, activities: SiteActivities) {
  const detection = planOf(loaded).detection!;
  const log = (line: string) => console.log(line);
  const reporter = new IncidentReporter(loaded);
  const metrics = agentMetrics();
  if (!site.agent) throw new Error(`${loaded.file}: sites[${site.id}].agent: needed while detection is enabled`);
  const server = await startHttp({ ...site.agent, routes: { ...leaseRoutes(leases), 'GET /metrics': metricsRoute([metrics.registry]) } });
  const agent = new SiteAgent({ loaded, site, detection, metrics, reporter, fence: () => activities.fenceSite({ primary: site.id }), log });
  const watch = new LapseWatch(site.id, leases, reporter, detection.lease.renewEveryMs * 1.5, log);
  agent.start();
  watch.start(detection.probeEveryMs);
  console.log(`site agent ${site.id}: probing every ${detection.probeEveryMs} ms; lease and /metrics on ${site.agent.host}:${site.agent.port}`);
  return {
    async stop() {
      agent.stop();
      watch.stop();
      await new Promise((r) => server.close(r));
    },
  };
}
