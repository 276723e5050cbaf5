// Detection as the runbooks see it: what an agent or Alertmanager reports, how vantage points vote, and the
// quorum rule. Pure: safe inside the workflow sandbox.

/** The workflow-safe detection settings (config `detection`). */
export interface DetectionPlan {
  /** The control plane's vantage point: its place votes and grants the lease like a site. */
  control: string;
  confirmWindowMs: number;
  blockMs: number;
  probeEveryMs: number;
  /** 'auto': a confirmed incident within the RPO budget fails over with nobody in the loop. */
  policy: 'auto' | 'approval';
  lease: { renewEveryMs: number; fenceAfterMs: number; promoteAfterMs: number };
  heartbeatEveryMs: number;
}

/** What a site agent saw: its own database or router failing, or the primary's lease lapsing. */
export interface AgentReport {
  kind: 'agent';
  /** The agent that saw it. */
  from: string;
  /** The site whose primary is suspected. */
  suspect: string;
  what: 'database down' | 'router down' | 'lease lapsed' | 'recovered';
  detail: string;
  at: string;
}

/** One alert of an Alertmanager webhook (payload version 4), as the intake passes it on. */
export interface AlertSignal {
  kind: 'alert';
  status: 'firing' | 'resolved';
  alertname: string;
  fingerprint: string;
  /** The site label of the alert, when it has one. */
  suspect: string | null;
  startsAt: string;
  receivedAt: string;
}

export type IncidentSignal = AgentReport | AlertSignal;

/** One vantage point's answer: can it reach the suspected primary's database and router from where it stands? */
export interface Vote {
  vantage: string;
  database: 'up' | 'down';
  router: 'up' | 'down' | 'none';
  detail: string;
  /** The lease as this vantage point holds it for the group. */
  lease: LeaseView | null;
  at: string;
}

/** A vantage point that did not answer in time abstains: it is neither up nor down. */
export type Ballot = Vote | { vantage: string; abstained: string };

export const isVote = (b: Ballot): b is Vote => !('abstained' in b);

export interface Tally {
  vantagePoints: string[];
  majority: number;
  down: string[];
  up: string[];
  abstained: string[];
  verdict: 'confirmed' | 'refuted' | 'undecided';
}

/**
 * A majority of all vantage points (not of those that answered) must see the primary down. A primary that only
 * ops cannot reach is a partition of ops: one vote down, the others up.
 */
export function tally(vantagePoints: string[], ballots: Ballot[]): Tally {
  const majority = Math.floor(vantagePoints.length / 2) + 1;
  const votes = ballots.filter(isVote);
  const down = votes.filter((v) => v.database === 'down').map((v) => v.vantage);
  const up = votes.filter((v) => v.database === 'up').map((v) => v.vantage);
  const abstained = ballots.filter((b) => !isVote(b)).map((b) => b.vantage);
  const verdict =
    down.length >= majority ? 'confirmed' : up.length >= majority || vantagePoints.length - up.length < majority ? 'refuted' : 'undecided';
  return { vantagePoints, majority, down, up, abstained, verdict };
}

/** The vantage points for a primary in `primary`: every other site of the group, and the control plane. */
export function vantagePointsOf(groupSites: string[], primary: string, control: string): string[] {
  return [...groupSites.filter((s) => s !== primary), control];
}

/** The lease of a group as one vantage point holds it. */
export interface LeaseView {
  holder: string | null;
  released: boolean;
  /** Since this vantage point last granted a renewal, on its own monotonic clock. */
  ageMs: number | null;
  /** Since this vantage point started: one that restarted knows nothing of renewals granted before. */
  sinceStartMs: number;
}

/**
 * Whether this vantage point lets a promotion of another site go ahead. The holder fences itself when it has
 * not renewed for fenceAfter, counted from when it *sent* its last renewal that a majority granted; a vantage
 * point counts promoteAfter from when it *received* that renewal, which is later. So with
 * promoteAfter ≥ fenceAfter + (the time the self-fence takes) + (clock-rate drift over promoteAfter), the
 * holder is fenced before any vantage point that granted its last renewal says "expired". The default margin of
 * 1 s covers a fence (a SET GLOBAL and a ProxySQL change, bounded by the agent's 500 ms timeout) with room to
 * spare; drift is parts per million. A promotion needs a majority of the vantage points, and every renewal the
 * holder counted was granted by a majority of the same set: the two majorities share at least one member.
 */
export function leaseLetsPromote(view: LeaseView | null, oldPrimary: string, promoteAfterMs: number): boolean {
  if (!view) return false;
  if (view.holder === null) return view.sinceStartMs >= promoteAfterMs;
  if (view.holder !== oldPrimary || view.released) return true;
  return view.ageMs !== null && view.ageMs >= promoteAfterMs;
}
