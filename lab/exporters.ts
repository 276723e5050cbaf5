// One mysqld_exporter (Debian's prometheus-mysqld-exporter 0.14) per site, in the site's namespace beside its
// database, logging in as the site's runbook user. It connects at each scrape, so it may start before its
// database answers; `mysql_up` says whether it did.
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { resolveSecret } from '../activities/secrets';
import type { LabDirs } from './paths';
import { portOpen } from './procs';
import { engineOf } from './database';
import { exporterName, exporterPlace, startListener, writeGenerated } from './observability';

export const EXPORTER_BIN = '/usr/bin/prometheus-mysqld-exporter';

/**
 * Collectors that fail on the lab's engines, measured with 0.14 (its defaults are global_status,
 * global_variables, slave_status, info_schema.innodb_cmp, info_schema.innodb_cmpmem and
 * info_schema.query_response_time):
 * - MySQL 9.7: slave_status sends SHOW SLAVE STATUS, which 9.x removed (error 1064 at every scrape), and 0.14
 *   knows no SHOW REPLICA STATUS: off. So on MySQL the exporter has no replication series at all; the agents'
 *   dr_replication_* are the only ones. (Not on by default, and also failing: slave_hosts, heartbeat without
 *   pt-heartbeat's table; perf_schema.replication_applier_status_by_worker works but has only timestamps.)
 * - MariaDB 10.11: every default works; slave_status (SHOW ALL SLAVES STATUS) gives
 *   mysql_slave_status_slave_{io,sql}_running. (Not on by default, and failing: info_schema.innodb_tablespaces,
 *   perf_schema.eventsstatementssum and the perf_schema.replication_* collectors, which are MySQL's tables.)
 */
const COLLECTORS_OFF = { mysql: ['slave_status'], mariadb: [] as string[] };

/** The exporter's login, [client] as in a my.cnf, readable by root only. */
export function myCnf(loaded: LoadedConfig, site: Site): string {
  const { user, password, host, port } = site.mysql;
  return `[client]\nuser=${user}\npassword=${resolveSecret(password, loaded.baseDir)}\nhost=${host}\nport=${port}\n`;
}

export function exporterArgs(loaded: LoadedConfig, site: Site, cnfFile: string): string[] {
  const { host, port } = exporterPlace(loaded, site);
  return [`--config.my-cnf=${cnfFile}`, `--web.listen-address=${host}:${port}`, ...COLLECTORS_OFF[engineOf(loaded)].map((c) => `--no-collect.${c}`)];
}

export async function startExporter(loaded: LoadedConfig, dirs: LabDirs, site: Site): Promise<'started' | 'running'> {
  const name = exporterName(site);
  const cnf = join(dirs.state, 'observability', `${name}.cnf`);
  const changed = writeGenerated(cnf, myCnf(loaded, site), 0o600);
  const place = exporterPlace(loaded, site);
  return startListener(loaded, dirs, {
    name,
    binary: EXPORTER_BIN,
    args: exporterArgs(loaded, site, cnf),
    place,
    port: place.port,
    field: 'x-lab.observability.exporterPort',
    ready: () => portOpen(place.port, place.host),
    changed,
  });
}
