// Catch a candidate up from a peer replica that holds transactions it lacks: replicate from the peer with GTID
// auto-positioning until the candidate has executed them, then stop. Nothing else is re-pointed; the
// candidate's own source is replaced (its relay log was applied first, by the catch-up step).
import type { Site } from '../config/schema';
import { withConnection, type DbContext } from './mysql';
import { waitForGtids } from './catchup';
import { replicateFrom } from './reprotect';

export interface PeerCatchUpResult {
  site: string;
  peer: string;
  target: string;
  executed: string;
  waitedMs: number;
}

export async function catchUpFromPeer(db: DbContext, input: { peer: Site; gtids: string; timeoutMs: number }): Promise<PeerCatchUpResult> {
  await replicateFrom(db, { source: input.peer, slavePos: null });
  try {
    const caught = await waitForGtids(db, { gtids: input.gtids, timeoutMs: input.timeoutMs });
    return { site: db.site.id, peer: input.peer.id, target: input.gtids, executed: caught.executed, waitedMs: caught.waitedMs };
  } finally {
    await stopReplication(db);
  }
}

/** Stops both replication threads and keeps the configuration (a replica left alone, or after a catch-up). */
export async function stopReplication(db: DbContext): Promise<{ site: string; stopped: boolean }> {
  return withConnection(db, async (conn, _dialect, server) => {
    await conn.query(server.syntax.stop);
    return { site: db.site.id, stopped: true };
  });
}
