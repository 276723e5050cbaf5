// Fence: make a primary refuse writes and drop its clients, so there is never a second writable primary.
import { Context } from '@temporalio/activity';
import { rows, withConnection, type Conn, type DbContext } from './mysql';
import { normaliseGtids } from './inspect';

export interface FenceResult {
  site: string;
  dialect: 'mysql' | 'mariadb';
  /** Whether the server was writable before; the compensation restores exactly this. */
  wasWritable: boolean;
  killedConnections: number;
  /** The primary's final executed set: nothing can be added after the fence. */
  gtidExecuted: string;
  fencedAt: string;
}

export async function fenceDatabase(db: DbContext): Promise<FenceResult> {
  return withConnection(db, async (conn, dialect) => {
    const [before] = await rows<{ ro: number }>(conn, 'SELECT @@global.read_only AS ro');
    const wasWritable = Number(before!.ro) === 0;
    // MariaDB has no super_read_only; clients without READ_ONLY ADMIN are stopped by read_only.
    if (dialect === 'mysql') await conn.query('SET GLOBAL super_read_only = ON');
    else await conn.query('SET GLOBAL read_only = ON');
    const killed = await killClientConnections(db, conn);
    const [g] = await rows<{ g: string }>(conn, dialect === 'mysql' ? 'SELECT @@global.gtid_executed AS g' : 'SELECT @@global.gtid_binlog_pos AS g');
    return {
      site: db.site.id,
      dialect,
      wasWritable,
      killedConnections: killed,
      gtidExecuted: normaliseGtids(g!.g),
      fencedAt: new Date().toISOString(),
    };
  });
}

/** Compensation: lift the fence only if the server was writable before it. Idempotent. */
export async function unfenceDatabase(db: DbContext, fence: Pick<FenceResult, 'wasWritable'>): Promise<{ site: string; writable: boolean }> {
  return withConnection(db, async (conn, dialect) => {
    if (fence.wasWritable) {
      if (dialect === 'mysql') await conn.query('SET GLOBAL super_read_only = OFF');
      await conn.query('SET GLOBAL read_only = OFF');
    }
    const [r] = await rows<{ ro: number }>(conn, 'SELECT @@global.read_only AS ro');
    return { site: db.site.id, writable: Number(r!.ro) === 0 };
  });
}

/** Kills every client session except ours, replication and the configured system users. */
async function killClientConnections(db: DbContext, conn: Conn): Promise<number> {
  const keep = new Set([db.site.mysql.user, ...db.site.mysql.systemUsers, 'system user', 'event_scheduler']);
  const list = await rows<{ Id: number; User: string; Command: string }>(
    conn,
    'SELECT ID AS Id, USER AS User, COMMAND AS Command FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID()',
  );
  let killed = 0;
  for (const p of list) {
    if (keep.has(p.User) || /Binlog Dump|Slave_|Daemon/i.test(p.Command)) continue;
    try {
      await conn.query(`KILL CONNECTION ${Number(p.Id)}`);
      killed++;
    } catch {
      /* already gone */
    }
  }
  try {
    Context.current().heartbeat({ killed });
  } catch {
    /* outside an activity */
  }
  return killed;
}
