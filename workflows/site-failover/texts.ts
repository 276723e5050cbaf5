// What the site failover's gate asks and its notice says: every group in one place.
import type { Plan } from '../../domain/plan';
import type { ApprovalRequest } from '../kit/approval';
import type { RunbookNotice } from '../kit/runbook';
import type { SiteAssessment } from './assess';
import type { GroupOutcome } from './children';
import type { SiteFailoverInput, SiteFailoverReport } from '../site-failover';

export function siteGateRequest(plan: Plan, input: SiteFailoverInput, seen: SiteAssessment, services: string[]): ApprovalRequest {
  const to = seen.target.to!;
  const moving = seen.groups.filter((g) => g.included);
  const over = moving.filter((g) => g.lossOverBudget);
  const summary =
    `${input.mode} failover of site ${input.site} to ${to}: ${moving.length} group(s) (${moving.map((g) => g.group).join(', ')}); ` +
    `target ${seen.target.reason}` +
    (seen.target.flagged.length ? `; FLAGGED: ${seen.target.flagged.map((f) => `${f.group} (${f.why})`).join('; ')}` : '') +
    (seen.target.excluded.length ? `; left out: ${seen.target.excluded.map((x) => `${x.group} (${x.why})`).join('; ')}` : '') +
    (over.length
      ? `; over the RPO budget of ${plan.objectives.rpoSeconds} s: ${over.map((g) => `${g.group} ${g.estimatedLossSeconds} s`).join(', ')}`
      : '');
  const changes = [
    services.length ? `scale ${services.join(', ')} in ${to} to production, once for every group` : null,
    plan.dnsRecords.length ? `point ${plan.dnsRecords.join(', ')} at ${to} in one change` : null,
    `fail over each group from ${input.site} to ${to} (its own fence, catch-up and point of no return), ${plan.siteFailover?.concurrency ?? 16} at a time`,
    input.mode === 'planned' && services.length ? `scale ${input.site} to standby size` : null,
  ].filter(Boolean);
  const groups = seen.groups.map((g) => ({
    group: g.group,
    included: g.included,
    why: g.why,
    candidate: g.best,
    lagSeconds: g.lagSeconds,
    gtidGap: g.gap,
    estimatedLossSeconds: g.estimatedLossSeconds,
    lossOverBudget: g.lossOverBudget,
    servers: g.servers,
  }));
  return { summary, lossOverBudget: over.length > 0, detail: { to, target: seen.target, groups, changes, rpoSeconds: plan.objectives.rpoSeconds } };
}

export function siteNotice(report: SiteFailoverReport): RunbookNotice {
  const { input, outcome } = report;
  const failed = report.groups.filter((g) => !g.outcome.startsWith('completed'));
  const severity = outcome === 'completed' ? 'info' : outcome === 'rejected' ? 'warning' : 'critical';
  const lines = report.groups.map((g) => `${g.group}: ${g.outcome}${g.rtoMs !== null ? `, RTO ${g.rtoMs} ms` : ''}${g.error ? ` (${g.error})` : ''}`);
  return {
    title: `Site failover ${input.site} → ${report.to ?? '?'}: ${outcome}`,
    severity,
    text:
      `${input.mode} failover of every group of ${input.site}: ${report.groups.length - failed.length} of ${report.groups.length} completed. ` +
      `${lines.join('; ')}${report.error ? `. ${report.error}` : ''}`,
    fields: {
      site: input.site,
      to: report.to ?? '',
      groups: String(report.groups.length),
      failed: failed.map((g) => g.group).join(', ') || 'none',
      rtoMs: String(report.rtoMs ?? ''),
      requestedBy: input.requestedBy,
    },
  };
}

export const outcomeLine = (o: GroupOutcome): string => `${o.group}: ${o.outcome}${o.error ? ` (${o.error})` : ''}`;
