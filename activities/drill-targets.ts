// Where the drill's two clients write. The local client connects to its own site's server, like an
// application in that site. The router client writes as an application does: through the HAProxy of the site
// the DNS name points at (then the others'); without HAProxy, it asks every ProxySQL which server takes
// writes (the answer most of them give) and writes there.
import mysql from 'mysql2/promise';
import type { LoadedConfig } from '../config/load';
import type { Site } from '../config/schema';
import { readServers } from './proxysql';
import { appEntries, type AppEntry } from './app-entry';
import { resolveSecret } from './secrets';
import type { StreamTarget } from './drill-stream';
import { DRILL_TABLE } from '../domain/drill';

/** An application's credentials when the config names them (drills.stream), else the runbook user's. */
function credentials(loaded: LoadedConfig, site: Site): { user: string; password: string } {
  const stream = loaded.config.drills?.stream;
  if (stream?.user && stream.password) return { user: stream.user, password: resolveSecret(stream.password, loaded.baseDir) };
  return { user: site.mysql.user, password: resolveSecret(site.mysql.password, loaded.baseDir) };
}

async function connectTo(loaded: LoadedConfig, site: Site): Promise<mysql.Connection> {
  const conn = await mysql.createConnection({ host: site.mysql.host, port: site.mysql.port, ...credentials(loaded, site), connectTimeout: 1000 });
  conn.on('error', () => undefined);
  return conn;
}

export function localTarget(loaded: LoadedConfig, site: Site): StreamTarget {
  return { table: DRILL_TABLE, open: async () => ({ conn: await connectTo(loaded, site), site: site.id }) };
}

export function routerTarget(loaded: LoadedConfig): StreamTarget {
  return {
    table: DRILL_TABLE,
    async open() {
      const entries = await appEntries(loaded);
      if (entries.length === 0) {
        const site = await routedWriter(loaded);
        return { conn: await connectTo(loaded, site), site: site.id };
      }
      return throughProxy(loaded, entries);
    },
  };
}

/** The first proxy that takes the connection; the site is the one whose server it reached. */
async function throughProxy(loaded: LoadedConfig, entries: AppEntry[]): Promise<{ conn: mysql.Connection; site: string }> {
  let last: unknown;
  for (const entry of entries) {
    const site = loaded.config.sites.find((s) => s.id === entry.site)!;
    try {
      const conn = await connectTo(loaded, { ...site, mysql: { ...site.mysql, host: entry.host, port: entry.port } });
      const [rows] = await conn.query('SELECT @@port AS port');
      const port = Number((rows as Array<{ port: number }>)[0]!.port);
      return { conn, site: loaded.config.sites.find((s) => s.mysql.port === port)?.id ?? entry.site };
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** The site whose server most ProxySQLs that answer route writes to. */
async function routedWriter(loaded: LoadedConfig): Promise<Site> {
  const { sites } = loaded.config;
  const answers = await Promise.all(
    sites
      .filter((s) => s.proxysql)
      .map(async (s) => {
        const ep = { ...s.proxysql!, password: resolveSecret(s.proxysql!.password, loaded.baseDir), connectTimeoutMs: 500 };
        const rows = await readServers(ep, 'runtime').catch(() => []);
        const w = rows.find((r) => r.hostgroup_id === s.proxysql!.writerHostgroup && r.status === 'ONLINE');
        return w ? sites.find((x) => x.mysql.host === w.hostname && x.mysql.port === w.port) : undefined;
      }),
  );
  const votes = new Map<Site, number>();
  for (const s of answers) if (s) votes.set(s, (votes.get(s) ?? 0) + 1);
  const best = [...votes].sort((a, b) => b[1] - a[1])[0];
  if (!best) throw new Error('no ProxySQL that answers routes writes to a known server');
  return best[0];
}
