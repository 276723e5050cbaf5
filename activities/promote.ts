// Promote: the candidate stops replicating, forgets its source and takes writes. The point of no return.
import { rows, withConnection, type DbContext } from './mysql';
import { replicationState } from './inspect';
import { executedOf } from './catchup';
import { heartbeat } from './heartbeat';

export interface PromoteResult {
  site: string;
  /** What the new primary had executed when it took over: the RPO boundary. */
  gtidAtPromotion: string;
  /** Lag as the replica last reported it before replication stopped (null if unknown). */
  lagSecondsAtPromotion: number | null;
  previousSource: string | null;
  promotedAt: string;
}

/** Idempotent: a retry on an already promoted server just reports its state. */
export async function promoteDatabase(db: DbContext): Promise<PromoteResult> {
  // STOP REPLICA may wait for the applier to finish a group: say we are alive meanwhile.
  const alive = setInterval(() => heartbeat({ site: db.site.id, step: 'promote' }), 1000);
  try {
    return await promoteNow(db);
  } finally {
    clearInterval(alive);
  }
}

async function promoteNow(db: DbContext): Promise<PromoteResult> {
  return withConnection(db, async (conn, dialect, server) => {
    const rep = await replicationState(conn, server);
    if (rep) {
      await conn.query(server.syntax.stop);
      await conn.query(server.syntax.resetAll);
    }
    if (dialect === 'mysql') await conn.query('SET GLOBAL super_read_only = OFF');
    await conn.query('SET GLOBAL read_only = OFF');
    const [ro] = await rows<{ ro: number }>(conn, 'SELECT @@global.read_only AS ro');
    if (Number(ro!.ro) !== 0) throw new Error(`site ${db.site.id}: read_only is still ON after promotion`);
    return {
      site: db.site.id,
      gtidAtPromotion: await executedOf(conn, dialect),
      lagSecondsAtPromotion: rep?.secondsBehind ?? null,
      previousSource: rep ? `${rep.sourceHost}:${rep.sourcePort}` : null,
      promotedAt: new Date().toISOString(),
    };
  });
}

export interface ProbeResult {
  site: string;
  id: number;
  writtenAt: string;
  readOnly: boolean;
  /** The proxy the probe went through, as an application's write would; absent when the site has none. */
  via?: string;
}

/**
 * Verify: a row written as an application writes it proves the service is back: through the site's HAProxy
 * when it has one (and then it must have reached this site's server), else on the new primary itself.
 */
export async function writeProbe(db: DbContext, input: { runbook: string }): Promise<ProbeResult> {
  const proxy = db.site.haproxy?.listen;
  const target = proxy ? { ...db, site: { ...db.site, mysql: { ...db.site.mysql, ...proxy } } } : db;
  return withConnection(target, async (conn) => {
    const [ro] = await rows<{ ro: number; port: number }>(conn, 'SELECT @@global.read_only AS ro, @@port AS port');
    if (proxy && Number(ro!.port) !== db.site.mysql.port)
      throw new Error(
        `site ${db.site.id}: its HAProxy at ${proxy.host}:${proxy.port} sends writes to the server on port ${ro!.port}, not to this site's`,
      );
    if (Number(ro!.ro) !== 0) throw new Error(`site ${db.site.id}: still read-only, writes are not accepted`);
    const [res] = await conn.query('INSERT INTO trading.dr_probe (site, runbook) VALUES (?, ?)', [db.site.id, input.runbook]);
    const id = Number((res as { insertId: number }).insertId);
    return {
      site: db.site.id,
      id,
      writtenAt: new Date().toISOString(),
      readOnly: false,
      ...(proxy && { via: `haproxy ${proxy.host}:${proxy.port}` }),
    };
  });
}
