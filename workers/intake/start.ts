// Detection in the control worker: the alert intake, the control plane's vantage point (its lease and lapse
// watch) and the project's own /metrics, on detection.control.
import type { LoadedConfig } from '../../config/load';
import { connectClient } from '../../activities/temporal-access';
import { planOf } from '../../config/plan';
import type { LeaseTable } from '../../domain/lease';
import { LapseWatch } from '../agent/lapse-watch';
import { leaseRoutes } from '../agent/lease-routes';
import { IncidentReporter } from '../agent/reporter';
import { controlMetrics } from '../metrics/control-metrics';
import { metricsRoute, startHttp } from '../metrics/http';
import { temporalOpenRuns } from '../metrics/open-runs';
import { alertIntake } from './alert-intake';

export async function startControlDetection(loaded: LoadedConfig, leases: LeaseTable) {
  const detection = planOf(loaded).detection!;
  const control = loaded.config.detection!.control;
  const log = (line: string) => console.log(line);
  const reporter = new IncidentReporter(loaded);
  const { client, connection } = await connectClient(loaded);
  const registry = controlMetrics(loaded, temporalOpenRuns(client));
  const server = await startHttp({
    host: control.host,
    port: control.port,
    routes: { 'POST /alerts': alertIntake(loaded, reporter, log), ...leaseRoutes(leases), 'GET /metrics': metricsRoute([registry]) },
  });
  const watch = new LapseWatch(control.name, leases, reporter, detection.lease.renewEveryMs * 1.5, log);
  watch.start(detection.probeEveryMs);
  console.log(`control plane ${control.name}: alert intake, lease and /metrics on ${control.host}:${control.port}`);
  return {
    async stop() {
      watch.stop();
      await new Promise((r) => server.close(r));
      await connection.close();
    },
  };
}
