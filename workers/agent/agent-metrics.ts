// The site agent's own series, set on each probe: what this site's database, router, replication and lease
// look like from inside the site. Prometheus scrapes them from the agent's /metrics.
import { Counter, Gauge, Registry } from 'prom-client';

export function agentMetrics() {
  const registry = new Registry();
  const labels = ['group', 'site'] as const;
  const gauge = (name: string, help: string, extra: string[] = []) =>
    new Gauge({ name, help, labelNames: [...labels, ...extra], registers: [registry] });
  return {
    registry,
    /** 1 while this site's own database answers the agent's probe (every probeEvery). */
    databaseUp: gauge('dr_database_up', "1 while this site's database answers the site agent's probe"),
    /** 1 while it is writable (read_only off): the primary. */
    databaseWritable: gauge('dr_database_writable', "1 while this site's database is writable (the primary)"),
    /** 1 while this site's router (ProxySQL) accepts a connection. */
    routerUp: gauge('dr_router_up', "1 while this site's ProxySQL accepts a connection"),
    /** Per replication thread (io, sql): 1 running, 0 stopped; absent on a primary. */
    replicationRunning: gauge('dr_replication_running', '1 while the replication thread runs; absent on a primary', ['thread']),
    /** Seconds_Behind_Source; absent while it is NULL. */
    replicationLag: gauge('dr_replication_lag_seconds', "the replica's Seconds_Behind_Source; absent while unknown"),
    /** Now minus the newest heartbeat row the replica applied: a bound on what it lacks, even with the primary gone. */
    heartbeatAge: gauge('dr_replication_heartbeat_age_seconds', 'now minus the newest heartbeat row this server holds'),
    /** Transactions the primary executed that this replica has not. */
    gtidGap: gauge('dr_replication_gtid_gap', 'transactions the primary executed that this replica has not'),
    /** 1 while this site holds the group's lease (a majority granted its last renewal). */
    leaseHeld: gauge('dr_lease_held', "1 while this site holds the group's lease"),
    /** Since the last renewal a majority granted (on the holder). */
    leaseAge: gauge('dr_lease_renewal_age_seconds', 'seconds since the last renewal a majority granted, on the holder'),
    /** Times this site's agent fenced its own database because it could not renew the lease. */
    selfFences: new Counter({
      name: 'dr_lease_self_fences_total',
      help: 'self-fences after a lease could not be renewed',
      labelNames: labels,
      registers: [registry],
    }),
  };
}

export type AgentMetrics = ReturnType<typeof agentMetrics>;
