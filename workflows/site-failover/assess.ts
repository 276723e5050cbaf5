// Assess for a site failover: every group that has a server in the site, every one of its servers through
// its own site's worker, all at once. A group fails over with the site when its writable server is there, or
// when that server is gone and no other one is writable (the primary went down with the site). Each group's
// candidate is chosen by the failover's own rules; then one target for all (domain/site-target.ts).
import { chooseCandidate } from '../../domain/candidate';
import { countGtids, subtractGtids } from '../../domain/gtid';
import type { Plan } from '../../domain/plan';
import { commonTarget, type GroupChoice, type SiteTarget } from '../../domain/site-target';
import { setsOf, summarise, viewOf } from '../failover/assess-group';
import { inspectSite, isAvailable, type SiteDatabase } from '../kit/sites';

export interface SiteFailoverAsk {
  site: string;
  mode: 'planned' | 'unplanned';
  to?: string;
}

/** One group as the gate shows it. */
export interface GroupAssessment {
  group: string;
  /** Whether it fails over with the site, and if not, why. */
  included: boolean;
  why: string;
  servers: Record<string, ReturnType<typeof summarise>>;
  best: string | null;
  bestReason: string;
  lagSeconds: number | null;
  /** Transactions of the old primary the target lacks; null when the old primary is away. */
  gap: number | null;
  estimatedLossSeconds: number | null;
  lossOverBudget: boolean;
  /** Sites whose worker did not answer: the child failover is told nothing new, it finds them again. */
  unreachable: string[];
}

export interface SiteAssessment {
  groups: GroupAssessment[];
  target: SiteTarget;
}

export async function assessSite(plan: Plan, ask: SiteFailoverAsk): Promise<SiteAssessment> {
  const members = plan.groups.filter((g) => g.sites.includes(ask.site));
  const seen = await Promise.all(
    members.map(async (g) => new Map(await Promise.all(g.sites.map(async (site) => [site, await inspectSite(plan, site, g.id)] as const)))),
  );
  const groups = members.map((g, i) => assessGroupOf(plan, ask, g, seen[i]!));
  const choices: GroupChoice[] = groups
    .map((a, i) => ({ a, g: members[i]!, dbs: seen[i]! }))
    .filter(({ a }) => a.included)
    .map(({ a, g, dbs }) => ({
      group: a.group,
      best: a.best,
      order: g.sites,
      usable: g.sites.filter((site) => site !== ask.site && promotable(dbs.get(site)!)),
    }));
  const target = commonTarget(choices, ask.to);
  for (const out of target.excluded)
    Object.assign(
      groups.find((a) => a.group === out.group)!,
      { included: false, why: out.why },
    );
  if (target.to) for (const a of groups.filter((x) => x.included)) Object.assign(a, lossAt(plan, ask, a, seen[groups.indexOf(a)]!, target.to));
  return { groups, target };
}

function assessGroupOf(plan: Plan, ask: SiteFailoverAsk, g: Plan['groups'][number], dbs: Map<string, SiteDatabase>): GroupAssessment {
  const servers = Object.fromEntries([...dbs].map(([site, db]) => [site, summarise(db)]));
  const unreachable = [...dbs].filter(([, db]) => !isAvailable(db) && db.unavailable === 'unreachable').map(([site]) => site);
  const base = {
    group: g.id,
    servers,
    best: null,
    bestReason: '',
    lagSeconds: null,
    gap: null,
    estimatedLossSeconds: null,
    lossOverBudget: false,
    unreachable,
  };
  const writer = [...dbs].find(([, db]) => isAvailable(db) && !db.readOnly)?.[0];
  const here = dbs.get(ask.site)!;
  if (writer && writer !== ask.site) return { ...base, included: false, why: `its primary is in ${writer}` };
  if (!writer && isAvailable(here)) return { ...base, included: false, why: `no server is writable, and ${ask.site}'s answers read-only` };
  const oldSet = isAvailable(here) ? here.gtidExecuted : null;
  const dialect = [...dbs.values()].find(isAvailable)?.dialect ?? 'mysql';
  const replicas = [...dbs].filter(([site]) => site !== ask.site);
  const choice = chooseCandidate(
    dialect,
    g.sites,
    replicas.map(([site, db]) => viewOf(site, db)),
    oldSet,
  );
  const why = writer ? `its primary is in ${ask.site}` : `its server in ${ask.site} is ${summarise(here)} and no other is writable`;
  return { ...base, included: true, why, best: choice.chosen, bestReason: choice.reason };
}

/** The loss budget, judged per group at the common target, as the failover's own gate would. */
function lossAt(plan: Plan, ask: SiteFailoverAsk, a: GroupAssessment, dbs: Map<string, SiteDatabase>, to: string): Partial<GroupAssessment> {
  const target = dbs.get(to)!;
  const old = dbs.get(ask.site)!;
  if (!isAvailable(target)) return {};
  const lagSeconds = target.replication?.secondsBehind ?? null;
  const gap = isAvailable(old) ? countGtids(subtractGtids(target.dialect, old.gtidExecuted, setsOf(to, target).executed)) : null;
  const heartbeat = plan.detection ? (target.heartbeatAgeSeconds ?? null) : null;
  const estimatedLossSeconds = ask.mode === 'planned' ? 0 : (heartbeat ?? lagSeconds);
  return {
    lagSeconds,
    gap,
    estimatedLossSeconds,
    lossOverBudget: estimatedLossSeconds !== null && estimatedLossSeconds > plan.objectives.rpoSeconds,
  };
}

const promotable = (db: SiteDatabase): boolean => isAvailable(db) && db.readOnly;
