// The incident's own part of its Markdown report: what was reported, each round of votes, and the phases.
import type { Ballot, Tally } from '../domain/detection';

export interface IncidentLike {
  signals?: Array<Record<string, unknown>>;
  duplicates?: number;
  rounds?: Array<{ at: string; tally: Tally; ballots: Ballot[] }>;
  phases?: { confirmMs: number | null; failoverMs: number | null };
  failover?: { workflowId: string; outcome: string; to: string | null; rtoMs: number | null } | null;
  block?: {
    until: string;
    acknowledged: { by: string } | null;
    expired: boolean;
    heldBack: Array<{ at: string; suspect: string; verdict: string }>;
  } | null;
}

export function incidentMarkdown(r: IncidentLike): string[] {
  const out: string[] = ['', '## Detection', ''];
  const cell = (v: unknown) => String(v ?? '').replace(/\|/g, '\\|');
  out.push('| received | source | what | suspect | detail |', '|---|---|---|---|---|');
  for (const s of r.signals ?? []) {
    const source = s.kind === 'alert' ? `Alertmanager ${s.alertname as string}` : `agent ${s.from as string}`;
    const what = s.kind === 'alert' ? s.status : s.what;
    out.push(`| ${cell(s.receivedAt)} | ${cell(source)} | ${cell(what)} | ${cell(s.suspect)} | ${cell(s.detail ?? s.startsAt)} |`);
  }
  if (r.duplicates) out.push('', `${r.duplicates} duplicate or repeated signal(s) were counted and not kept twice.`);
  (r.rounds ?? []).forEach((round, i) => {
    out.push(
      '',
      `### Votes, round ${i + 1} (${round.at}): ${round.tally.verdict}, majority ${round.tally.majority} of ${round.tally.vantagePoints.join(', ')}`,
      '',
    );
    out.push('| vantage point | database | router | lease as it holds it | detail |', '|---|---|---|---|---|');
    for (const b of round.ballots) {
      if ('abstained' in b) out.push(`| ${b.vantage} | no answer | | | ${cell(b.abstained)} |`);
      else {
        const lease = b.lease
          ? `${b.lease.holder ?? 'none'}${b.lease.released ? ' (released)' : b.lease.ageMs !== null ? `, renewed ${Math.round(b.lease.ageMs)} ms ago` : ''}`
          : '';
        out.push(`| ${b.vantage} | ${b.database} | ${b.router} | ${cell(lease)} | ${cell(b.detail)} |`);
      }
    }
  });
  const p = r.phases;
  if (p) out.push('', `Phases: confirm ${p.confirmMs ?? '-'} ms (window and quorum), failover ${p.failoverMs ?? '-'} ms.`);
  if (r.failover)
    out.push(
      `Failover: ${r.failover.workflowId} ${r.failover.outcome}${r.failover.to ? ` to ${r.failover.to}` : ''}, its RTO ${r.failover.rtoMs ?? '-'} ms.`,
    );
  const b = r.block;
  if (b) {
    const end = b.acknowledged ? `acknowledged by ${b.acknowledged.by}` : b.expired ? 'expired' : `until ${b.until}`;
    out.push(
      `Block on automatic failover: ${end}; held back: ${b.heldBack.map((h) => `${h.suspect} ${h.verdict} at ${h.at}`).join('; ') || 'nothing'}.`,
    );
  }
  return out;
}
