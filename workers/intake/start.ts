// Detection in the control worker: the alert intake, the control plane's vantage point (its lease and lapse
// watch) and the project's own /metrics, on detection.control.
import { Client, Connection } from '@temporalio/client';
import type { LoadedConfig } from '../../config/load';
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
  const { address, namespace } = loaded.config.temporal;
  const control = loaded.config.detection!.control;
  const log = (line: string) => console.log(line);
  const reporter = new IncidentReporter(address, namespace);
  const connection = await Connection.connect({ address });
  const registry = controlMetrics(loaded, temporalOpenRuns(new Client({ connection, namespace })));
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
