// Direct connections to a site's database, past ProxySQL: how tests and benchmarks check what a runbook
// says against the truth.
import mysql from 'mysql2/promise';
import { siteById, type LoadedConfig } from '../config/load';
import { resolveSecret } from '../activities/secrets';

/** A direct connection as the runbooks' admin user. */
export async function direct(loaded: LoadedConfig, site: string): Promise<mysql.Connection> {
  const s = siteById(loaded, site);
  return mysql.createConnection({
    host: s.mysql.host,
    port: s.mysql.port,
    user: s.mysql.user,
    password: resolveSecret(s.mysql.password, loaded.baseDir),
  });
}

/** The trading.ticks seqs a site holds: what the load generator's acknowledged writes are checked against. */
export async function tickSeqs(loaded: LoadedConfig, site: string): Promise<Set<number>> {
  const c = await direct(loaded, site);
  try {
    const [rows] = await c.query({ sql: 'SELECT seq FROM trading.ticks', rowsAsArray: true });
    return new Set((rows as unknown[][]).map((r) => Number(r[0])));
  } finally {
    await c.end();
  }
}
