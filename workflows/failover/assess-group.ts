// Assess for a group of any size: every site through its own worker, then the candidate. When the input
// names none (unplanned only), the most advanced reachable replica is chosen (domain/candidate.ts); either
// way the replicas holding transactions the candidate lacks are found, so it is never promoted behind one.
import type { DatabaseState } from '../../activities/inspect';
import { chooseCandidate, type CandidateChoice, type ReplicaView } from '../../domain/candidate';
import { peersAhead, type PeerAhead } from '../../domain/peers-ahead';
import type { Plan } from '../../domain/plan';
import type { Progress } from '../kit/progress';
import { refuse } from '../kit/runbook';
import { inspectSite, isAvailable, type SiteDatabase } from '../kit/sites';

export interface CandidateReport extends CandidateChoice {
  /** false: the input named the site; the list still shows how it compares. */
  chosenByRunbook: boolean;
}

export interface GroupAssessment {
  to: string;
  oldDb: SiteDatabase;
  newDb: SiteDatabase;
  /** Every site of the group but the old primary, as assessed. */
  replicas: Map<string, SiteDatabase>;
  candidate: CandidateReport;
  ahead: PeerAhead[];
}

export async function assessGroup(
  plan: Plan,
  progress: Progress<'assess'>,
  input: { group: string; from: string; to?: string },
  known: Map<string, SiteDatabase> = new Map(),
): Promise<GroupAssessment> {
  const sites = plan.groups.find((g) => g.id === input.group)!.sites;
  // What detection already established is not asked again (workflows/failover.ts knownByDetection).
  const ask = async (site: string): Promise<SiteDatabase> => known.get(site) ?? inspectSite(plan, site);
  const seen = await progress.run('assess', async (s) => {
    const all = await Promise.all(sites.map(async (site) => [site, await ask(site)] as const));
    s.detail = Object.fromEntries(all.map(([site, db]) => [site, summarise(db)]));
    return new Map(all);
  });
  const oldDb = seen.get(input.from)!;
  const replicas = new Map([...seen].filter(([site]) => site !== input.from));
  const oldSet = isAvailable(oldDb) ? oldDb.gtidExecuted : null;
  const dialect = [...seen.values()].find(isAvailable)?.dialect ?? 'mysql';
  const choice = chooseCandidate(
    dialect,
    sites,
    [...replicas].map(([site, db]) => viewOf(site, db)),
    oldSet,
  );
  const to = input.to ?? choice.chosen;
  if (!to) throw refuse(`no site can take over from ${input.from}: ${choice.reason}; nothing was changed`);
  const newDb = replicas.get(to)!;
  const peers = [...replicas].flatMap(([site, db]) => (site !== to && isAvailable(db) && db.readOnly ? [setsOf(site, db)] : []));
  const ahead = isAvailable(newDb) ? peersAhead(dialect, setsOf(to, newDb), peers, oldSet) : [];
  const reason =
    input.to === undefined ? choice.reason : `named by the input; the most advanced replica is ${choice.chosen ?? 'none'} (${choice.reason})`;
  const candidate = { ...choice, chosen: to, reason, chosenByRunbook: input.to === undefined };
  progress.step('assess').detail = { ...progress.step('assess').detail, candidate, peersAhead: ahead };
  progress.note(input.to === undefined ? `candidate ${to}: ${choice.reason}` : `candidate ${to}, named by the input`);
  return { to, oldDb, newDb, replicas, candidate, ahead };
}

export function viewOf(site: string, db: SiteDatabase): ReplicaView {
  if (!isAvailable(db)) return { site, unusable: db.why };
  if (!db.readOnly) return { site, unusable: 'writable: not a replica' };
  return setsOf(site, db);
}

export const setsOf = (site: string, db: DatabaseState) => ({ site, executed: db.gtidExecuted, retrieved: db.replication?.retrievedGtids ?? '' });

export function summarise(db: SiteDatabase): Record<string, unknown> | string {
  if (!isAvailable(db)) return db.unavailable === 'unreachable' ? 'unreachable' : db.why;
  return {
    readOnly: db.readOnly,
    gtidExecuted: db.gtidExecuted,
    retrieved: db.replication?.retrievedGtids ?? null,
    lagSeconds: db.replication?.secondsBehind ?? null,
  };
}
