// Which replica to promote when the operator names none: the most advanced reachable one. Its set is what it
// executed plus what it received (executed ∪ retrieved); measured against the old primary's last-seen set
// when that is known (what it lacks of it), else by its size. Ties go to the group's site order, which puts
// the same-city standby first. Pure: the failover workflow calls it, the unit tests pin it. The candidate is
// then never promoted behind a peer (domain/peers-ahead.ts).
import { countGtids, intersectGtids, sizeOfSet, subtractGtids, unionGtids } from './gtid';

/** A replica as assessed: its GTID sets, or why it cannot be promoted. */
export type ReplicaView = { site: string; executed: string; retrieved: string } | { site: string; unusable: string };

export interface ConsideredSite {
  site: string;
  /** executed ∪ retrieved; null when unusable. */
  set: string | null;
  /** Transactions in the set (of the old primary's, when its set is known). */
  count: number | null;
  /** Transactions of the old primary's last-seen set this site lacks; null when that set is unknown. */
  lacks: number | null;
  why: string;
}

export interface CandidateChoice {
  chosen: string | null;
  considered: ConsideredSite[];
  /** One line for the gate and the report. */
  reason: string;
}

export function chooseCandidate(
  dialect: 'mysql' | 'mariadb',
  order: readonly string[],
  views: readonly ReplicaView[],
  oldSet: string | null,
): CandidateChoice {
  const rank = (site: string) => (order.includes(site) ? order.indexOf(site) : order.length);
  const considered = views
    .slice()
    .sort((a, b) => rank(a.site) - rank(b.site))
    .map((v): ConsideredSite => {
      if ('unusable' in v) return { site: v.site, set: null, count: null, lacks: null, why: v.unusable };
      const set = unionGtids(dialect, v.executed, v.retrieved);
      const count = sizeOfSet(dialect, oldSet === null ? set : intersectGtids(dialect, set, oldSet));
      const lacks = oldSet === null ? null : countGtids(subtractGtids(dialect, oldSet, set));
      return { site: v.site, set, count, lacks, why: '' };
    });
  const usable = considered.filter((c) => c.set !== null);
  // Stable sort: equal counts keep the site order.
  const best = usable.slice().sort((a, b) => b.count! - a.count!)[0];
  for (const c of usable) c.why = c === best ? 'most advanced' : whyNot(c, best!);
  const chosen = best?.site ?? null;
  const reason = best
    ? `${chosen} holds the most transactions (${best.count}${best.lacks !== null ? `, lacks ${best.lacks} of the old primary's last-seen set` : ''})` +
      (usable.some((c) => c !== best && c.count === best.count) ? '; tied, and first in the group order' : '')
    : `no replica can be promoted: ${considered.map((c) => `${c.site} ${c.why}`).join('; ')}`;
  return { chosen, considered, reason };
}

function whyNot(c: ConsideredSite, best: ConsideredSite): string {
  if (c.count === best.count) return `as advanced as ${best.site}, later in the group order`;
  return `${best.count! - c.count!} transaction(s) behind ${best.site}`;
}
