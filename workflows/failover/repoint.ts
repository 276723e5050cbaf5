// Re-point one replica at the new primary with GTID auto-positioning (MySQL SOURCE_AUTO_POSITION, MariaDB
// master_use_gtid=slave_pos), unless it holds transactions the new primary lacks: such a replica is left
// stopped and read-only, and listed, for a person (or a re-seed) to deal with.
import type { SiteActivities } from '../../activities';
import type { CaughtUpResult } from '../../activities/reprotect';
import { errorText } from '../../domain/errors';
import { countGtids, errantGtids, formatRanges } from '../../domain/gtid';

export interface ReplicaOutcome {
  site: string;
  outcome: 'replicates' | 'errant' | 'unreachable' | 'failed';
  /** The site it replicates from afterwards; null when it replicates from nothing. */
  source: string | null;
  lagSeconds: number | null;
  why: string;
  errant?: { count: number | null; gtids: string[] };
  /** A re-point queued on the site's return queue. */
  queued?: string;
}

export async function repointReplica(
  site: string,
  primary: string,
  replica: Pick<SiteActivities, 'inspectDatabase' | 'fenceDatabase' | 'stopReplication' | 'replicateFrom'>,
  primaryDb: Pick<SiteActivities, 'inspectDatabase'>,
  waitCaughtUp: () => Promise<CaughtUpResult>,
): Promise<ReplicaOutcome> {
  const [mine, theirs] = await Promise.all([replica.inspectDatabase(), primaryDb.inspectDatabase()]);
  const errant = errantGtids(mine.dialect, { executed: mine.gtidExecuted }, { executed: theirs.gtidExecuted, slavePos: theirs.gtidSlavePos });
  if (!mine.readOnly) await replica.fenceDatabase();
  if (errant.ranges.length || errant.unknownDomains.length) {
    await replica.stopReplication();
    const gtids = formatRanges(mine.dialect, errant.ranges);
    const unknown = errant.unknownDomains.length ? `; GTID domain(s) ${errant.unknownDomains.join(', ')} cannot be compared` : '';
    return {
      site,
      outcome: 'errant',
      source: null,
      lagSeconds: null,
      why: `holds ${countGtids(errant.ranges)} transaction(s) ${primary} lacks (${gtids.join(', ') || 'none listed'}${unknown}): left stopped and read-only; re-seed it from ${primary}`,
      errant: { count: errant.unknownDomains.length ? null : countGtids(errant.ranges), gtids },
    };
  }
  await replica.replicateFrom({ source: primary, slavePos: mine.dialect === 'mariadb' ? mine.gtidExecuted : null });
  try {
    const caught = await waitCaughtUp();
    return { site, outcome: 'replicates', source: primary, lagSeconds: caught.lagSeconds, why: `caught up in ${caught.waitedMs} ms` };
  } catch (err) {
    return { site, outcome: 'replicates', source: primary, lagSeconds: null, why: `re-pointed; not caught up: ${errorText(err)}` };
  }
}
