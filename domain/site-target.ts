// One target site for every group of a site failover. Each group's best candidate is chosen by the same rules
// as a single failover (domain/candidate.ts); the site the most groups would pick is the target (ties: the
// site order), so the estate is never silently split. A group whose best candidate is elsewhere is flagged for
// the gate; a group that cannot be promoted at the target at all is left out, and says why. Pure.

export interface GroupChoice {
  group: string;
  /** The group's best candidate by its own rules; null when none can be promoted. */
  best: string | null;
  /** Sites where this group has a replica that can be promoted. */
  usable: string[];
  /** The group's site order: ties between targets go to the first group's order. */
  order: string[];
}

export interface SiteTarget {
  to: string | null;
  /** Target chosen by the runbook: groups whose best candidate is another site (they still go to `to`, caught up from peers ahead of it). */
  flagged: Array<{ group: string; best: string | null; why: string }>;
  /** Groups with no promotable replica at `to`: not failed over. */
  excluded: Array<{ group: string; why: string }>;
  reason: string;
}

export function commonTarget(choices: readonly GroupChoice[], named?: string): SiteTarget {
  const to = named ?? mostChosen(choices);
  if (to === null)
    return {
      to,
      flagged: [],
      excluded: choices.map((c) => ({ group: c.group, why: 'no promotable replica' })),
      reason: 'no group has a promotable replica',
    };
  const excluded = choices
    .filter((c) => !c.usable.includes(to))
    .map((c) => ({ group: c.group, why: `no promotable replica in ${to}${c.best ? ` (its best candidate is ${c.best})` : ''}` }));
  // A named target is the operator's choice (a planned switchover waits for every transaction anyway).
  const flagged = choices
    .filter((c) => !named && c.usable.includes(to) && c.best !== to)
    .map((c) => ({
      group: c.group,
      best: c.best,
      why: `its best candidate is ${c.best}, not ${to}: ${to} is caught up from the replicas ahead of it`,
    }));
  const votes = choices.filter((c) => c.best === to).length;
  const reason = named ? `${to}, named by the input` : `${to}, the best candidate of ${votes} of ${choices.length} group(s)`;
  return { to, flagged, excluded, reason };
}

function mostChosen(choices: readonly GroupChoice[]): string | null {
  const votes = new Map<string, number>();
  for (const c of choices) if (c.best) votes.set(c.best, (votes.get(c.best) ?? 0) + 1);
  const order = choices[0]?.order ?? [];
  const rank = (site: string) => (order.includes(site) ? order.indexOf(site) : order.length);
  const ranked = [...votes].sort(([a, va], [b, vb]) => vb - va || rank(a) - rank(b));
  return ranked[0]?.[0] ?? null;
}
