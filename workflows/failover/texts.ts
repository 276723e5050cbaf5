// What a failover says to people: the approval request and the notice.
import type { Plan } from '../../domain/plan';
import type { ApprovalRequest } from '../kit/approval';
import type { RunbookNotice } from '../kit/runbook';
import type { FailoverInput, FailoverReport } from '../failover';
import type { CandidateReport } from './assess-group';
import type { PeerAhead } from '../../domain/peers-ahead';

export interface GateFigures {
  lagSeconds: number | null;
  gap: { count: number; ranges: string[] } | null;
  estimatedLossSeconds: number | null;
  lossOverBudget: boolean;
  /** Group-wide runs: how the candidate was chosen, and the replicas ahead of it. */
  candidate?: CandidateReport & { peersAhead: PeerAhead[] };
  /** The group's other sites, re-pointed at the new primary after it is verified. */
  others?: string[];
  /** With detection: now minus the last heartbeat the candidate applied. */
  heartbeatAgeSeconds?: number | null;
}

export function gateRequest(plan: Plan, input: FailoverInput, figures: GateFigures): ApprovalRequest {
  const { from, to, mode } = input;
  const { lagSeconds, gap, estimatedLossSeconds, lossOverBudget, candidate, others = [], heartbeatAgeSeconds = null } = figures;
  const services = plan.groups.find((g) => g.id === input.group)!.services;
  const summary =
    `${mode} failover of ${input.group} from ${from} to ${to}: replica lag ${lagSeconds ?? 'unknown'} s, ` +
    (heartbeatAgeSeconds !== null ? `last heartbeat applied ${heartbeatAgeSeconds.toFixed(1)} s ago (a bound on the loss), ` : '') +
    `GTID gap ${gap ? `${gap.count} transaction(s)` : 'unknown (old primary unreachable)'}` +
    (lossOverBudget ? `; estimated loss ${estimatedLossSeconds} s is over the RPO budget of ${plan.objectives.rpoSeconds} s` : '') +
    (candidate ? `. ${candidateText(candidate)}` : '');
  const changes = [
    services.length ? `scale ${services.join(', ')} in ${to} to production` : null,
    `fence ${from} (read_only, kill client sessions, ProxySQL writer OFFLINE_HARD)`,
    mode === 'planned' ? `wait until ${to} has executed every transaction of ${from}` : `apply what ${to} has received`,
    ...(mode === 'unplanned' ? (candidate?.peersAhead ?? []) : []).map(
      (p) => `catch ${to} up from ${p.site} (${p.count} transaction(s): ${p.missing.join(', ')})`,
    ),
    plan.dnsRecords.length ? `point ${plan.dnsRecords.join(', ')} at ${to}` : null,
    mode === 'unplanned' && plan.detection
      ? `wait until ${from} has lost its lease (released, or not renewed for ${plan.detection.lease.promoteAfterMs} ms)`
      : null,
    `promote ${to} (point of no return)`,
    `route ProxySQL writers to ${to}`,
    others.length ? `re-point ${others.join(', ')} at ${to} (unless a replica holds transactions ${to} lacks); semi-sync roles follow ${to}` : null,
    services.length && mode === 'planned' ? `scale ${from} to standby size` : null,
  ].filter(Boolean);
  return {
    summary,
    lossOverBudget,
    detail: {
      lagSeconds,
      heartbeatAgeSeconds,
      gtidGap: gap ? gap.ranges : null,
      estimatedLossSeconds,
      rpoSeconds: plan.objectives.rpoSeconds,
      changes,
      ...(candidate ? { candidate } : {}),
    },
  };
}

/** Which site is promoted and why: every site considered, with its transaction count or why it cannot be. */
export function candidateText(c: CandidateReport): string {
  const sites = c.considered.map((s) =>
    s.set === null ? `${s.site}: ${s.why}` : `${s.site}: ${s.count} transaction(s)${s.lacks !== null ? `, lacks ${s.lacks}` : ''} (${s.why})`,
  );
  return `Candidate ${c.chosen} (${c.chosenByRunbook ? 'chosen' : 'named'}): ${c.reason}; considered ${sites.join('; ')}`;
}

export function noticeOf(r: FailoverReport): RunbookNotice {
  const severity = r.outcome === 'completed' ? 'info' : r.outcome === 'rejected' ? 'warning' : 'critical';
  const lines = [
    `${r.input.mode} failover of ${r.input.group} from ${r.input.from} to ${r.input.to}, requested by ${r.input.requestedBy}: ${r.input.reason}`,
    `outcome: ${r.outcome}`,
  ];
  if (r.rtoMs !== null) lines.push(`RTO ${(r.rtoMs / 1000).toFixed(1)} s (objective ${r.objectives.rtoSeconds} s)`);
  if (r.pointOfNoReturn.reached) lines.push(`lost transactions: ${r.rpo.lost.known ? r.rpo.lost.count : 'unknown until the old primary returns'}`);
  if (r.error) lines.push(`error: ${r.error}`);
  return {
    title: `Failover ${r.input.from} → ${r.input.to}: ${r.outcome}`,
    severity,
    text: lines.join('\n'),
    fields: { workflow: r.workflowId, mode: r.input.mode, rto: r.rtoMs === null ? 'n/a' : `${r.rtoMs} ms` },
  };
}
