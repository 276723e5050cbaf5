// Semi-synchronous replication on one server: what it is set to, and setting its role. Variable names come
// from the server's version (domain/replication-syntax.ts). A replica's setting takes effect when its IO
// thread reconnects, so a changed replica side restarts the IO thread.
import { ApplicationFailure } from '@temporalio/common';
import { rows, withConnection, type Conn, type DbContext, type Server } from './mysql';
import { replicationState } from './inspect';

export interface SemiSyncState {
  site: string;
  /** Whether the server has the source / replica side at all (MySQL: its plugin is loaded). */
  available: { source: boolean; replica: boolean };
  sourceEnabled: boolean;
  replicaEnabled: boolean;
  timeoutMs: number | null;
  waitPoint: string | null;
  /** ON while the source waits for acknowledgements; OFF when disabled or fallen back to asynchronous. */
  sourceActive: boolean;
}

export async function semiSyncOf(conn: Conn, server: Server, site: string): Promise<SemiSyncState> {
  const names = server.syntax.semiSync;
  const vars = new Map(
    (await rows<{ Variable_name: string; Value: string }>(conn, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'")).map((r) => [
      r.Variable_name,
      r.Value,
    ]),
  );
  const status = new Map(
    (await rows<{ Variable_name: string; Value: string }>(conn, 'SHOW GLOBAL STATUS LIKE ?', [names.sourceStatus])).map((r) => [
      r.Variable_name,
      r.Value,
    ]),
  );
  const on = (name: string) => /^(ON|1)$/i.test(vars.get(name) ?? '');
  const timeout = vars.get(names.sourceTimeout);
  return {
    site,
    available: { source: vars.has(names.sourceEnabled), replica: vars.has(names.replicaEnabled) },
    sourceEnabled: on(names.sourceEnabled),
    replicaEnabled: on(names.replicaEnabled),
    timeoutMs: timeout === undefined ? null : Number(timeout),
    waitPoint: vars.get(names.sourceWaitPoint) ?? null,
    sourceActive: /^ON$/i.test(status.get(names.sourceStatus) ?? ''),
  };
}

export async function readSemiSync(db: DbContext): Promise<SemiSyncState> {
  return withConnection(db, (conn, _dialect, server) => semiSyncOf(conn, server, db.site.id));
}

export interface SemiSyncChange {
  before: SemiSyncState;
  after: SemiSyncState;
  /** The replica side changed on a running replica: its IO thread was restarted for it to take effect. */
  ioRestarted: boolean;
}

/** Sets this server's role: source side (AFTER_SYNC, the timeout) and replica side. Idempotent. */
export async function setSemiSync(db: DbContext, role: { source: boolean; replica: boolean; timeoutMs: number }): Promise<SemiSyncChange> {
  return withConnection(db, async (conn, _dialect, server) => {
    const names = server.syntax.semiSync;
    const before = await semiSyncOf(conn, server, db.site.id);
    const missing = [
      role.source && !before.available.source ? names.plugins.source : null,
      role.replica && !before.available.replica ? names.plugins.replica : null,
    ];
    if (missing.some(Boolean))
      throw ApplicationFailure.nonRetryable(
        `site ${db.site.id}: semi-sync is not available (load ${missing.filter(Boolean).join(' and ')} at server start: --plugin-load-add)`,
        'SemiSyncUnavailable',
      );
    if (role.source) {
      await conn.query(`SET GLOBAL ${names.sourceTimeout} = ?`, [role.timeoutMs]);
      await conn.query(`SET GLOBAL ${names.sourceWaitPoint} = 'AFTER_SYNC'`);
    }
    if (before.available.source) await conn.query(`SET GLOBAL ${names.sourceEnabled} = ${role.source ? 'ON' : 'OFF'}`);
    if (before.available.replica) await conn.query(`SET GLOBAL ${names.replicaEnabled} = ${role.replica ? 'ON' : 'OFF'}`);
    const replication = await replicationState(conn, server);
    const ioRestarted = before.replicaEnabled !== role.replica && before.available.replica && !!replication?.ioRunning;
    if (ioRestarted) {
      await conn.query(`${server.syntax.stop} IO_THREAD`);
      await conn.query(`${server.syntax.start} IO_THREAD`);
    }
    return { before, after: await semiSyncOf(conn, server, db.site.id), ioRestarted };
  });
}
