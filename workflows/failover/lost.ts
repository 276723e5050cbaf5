// The RPO in transactions: what the old primary executed that the new one did not have at promotion.
import type { DatabaseState } from '../../activities/inspect';
import type { FenceResult } from '../../activities/fence';
import type { PromoteResult } from '../../activities/promote';
import { countGtids, formatRanges, subtractGtids } from '../../domain/gtid';

export interface LostTransactions {
  known: boolean;
  count: number | null;
  gtids: string[];
  note: string;
}

export function lostTransactions(
  mode: 'planned' | 'unplanned',
  fence: FenceResult | undefined,
  promoted: PromoteResult,
  lastSeen: DatabaseState | undefined,
): LostTransactions {
  if (mode === 'planned')
    return { known: true, count: 0, gtids: [], note: "planned switchover: the new primary executed the old primary's exact GTID set" };
  const oldSet = fence?.gtidExecuted ?? lastSeen?.gtidExecuted;
  if (!oldSet) {
    return {
      known: false,
      count: null,
      gtids: [],
      note: 'the old primary was unreachable: its GTID set is unknown until it returns; the queued fence compares the sets then and writes an addendum',
    };
  }
  const dialect = lastSeen?.dialect ?? 'mariadb';
  const lost = subtractGtids(dialect, oldSet, promoted.gtidAtPromotion);
  return {
    known: true,
    count: countGtids(lost),
    gtids: formatRanges(dialect, lost),
    note: "old primary executed set minus the new primary's set at promotion",
  };
}
