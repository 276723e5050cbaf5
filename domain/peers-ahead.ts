// Never promote a candidate behind a reachable peer: the replicas holding transactions it lacks, counted on
// executed ∪ retrieved on both sides. The failover catches the candidate up from each before promotion.
import { countGtids, formatRanges, intersectGtids, subtractGtids, unionGtids } from './gtid';

/** Transactions a peer holds that the candidate lacks: the candidate is caught up from the peer first. */
export interface PeerAhead {
  site: string;
  /** The peer's set (executed ∪ retrieved), limited to the old primary's when that is known. */
  target: string;
  missing: string[];
  count: number;
}

/**
 * The reachable replicas holding transactions the candidate lacks (executed ∪ retrieved on both sides). With the
 * old primary's set known, only its transactions count: anything else on a peer is errant, never copied.
 */
export function peersAhead(
  dialect: 'mysql' | 'mariadb',
  candidate: { executed: string; retrieved: string },
  peers: ReadonlyArray<{ site: string; executed: string; retrieved: string }>,
  oldSet: string | null,
): PeerAhead[] {
  const have = unionGtids(dialect, candidate.executed, candidate.retrieved);
  return peers.flatMap((p) => {
    const theirs = unionGtids(dialect, p.executed, p.retrieved);
    const target = oldSet === null ? theirs : intersectGtids(dialect, theirs, oldSet);
    const missing = subtractGtids(dialect, target, have);
    return missing.length ? [{ site: p.site, target, missing: formatRanges(dialect, missing), count: countGtids(missing) }] : [];
  });
}
