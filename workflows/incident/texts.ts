// What an incident tells people: the notice at its end, and the one when a failover is held back.
import type { Tally } from '../../domain/detection';
import type { RunbookNotice } from '../kit/runbook';
import type { IncidentReport } from '../incident';

export function voteText(t: Tally): string {
  const part = (label: string, sites: string[]) => (sites.length ? `${label} ${sites.join(', ')}` : null);
  return (
    [part('down from', t.down), part('up from', t.up), part('no answer from', t.abstained)].filter(Boolean).join('; ') + ` (majority ${t.majority})`
  );
}

export function noticeOf(r: IncidentReport): RunbookNotice {
  const group = r.input.group;
  const fields: Record<string, string> = { group, suspect: r.suspect ?? 'unknown', outcome: r.outcome, incident: r.workflowId };
  const last = r.rounds.at(-1);
  if (last) fields.votes = voteText(last.tally);
  if (r.failover) fields.failover = `${r.failover.workflowId}: ${r.failover.outcome}${r.failover.to ? ` → ${r.failover.to}` : ''}`;
  const texts: Record<IncidentReport['outcome'], [RunbookNotice['severity'], string]> = {
    resolved: ['info', `a failure of ${r.suspect} in ${group} cleared within the confirmation window: nothing was changed`],
    refuted: [
      'warning',
      `${r.suspect} of ${group} answers from a majority of vantage points: a partial partition, not a dead primary; nothing was changed`,
    ],
    undecided: ['critical', `too few vantage points answered about ${r.suspect} of ${group} to decide: nothing was changed; a person must look`],
    'failed-over': ['critical', `${r.suspect} of ${group} was confirmed down by a quorum and failed over automatically to ${r.failover?.to ?? '?'}`],
    'failover-failed': ['critical', `${r.suspect} of ${group} was confirmed down, but the failover did not complete: ${r.error ?? 'see its report'}`],
    'held-back': ['critical', heldBackText(r)],
    disabled: ['warning', `an incident of ${group} was reported, but detection is off in the config: nothing was changed`],
  };
  const [severity, text] = texts[r.outcome];
  return { title: `incident ${group}: ${r.outcome}`, severity, text, fields };
}

export function heldBackText(r: Pick<IncidentReport, 'suspect' | 'input' | 'block'>): string {
  const b = r.block;
  return (
    `${r.suspect} of ${r.input.group} is confirmed down, but no automatic failover runs: the automatic failover at ${b?.since ?? '?'} ` +
    `has not been acknowledged (blocked until ${b?.until ?? '?'}). Start a failover by hand, or acknowledge the first one ` +
    `(drctl acknowledge incident-${r.input.group} --by NAME --reason TEXT) to re-arm detection.`
  );
}
