// What a drill says to people: the approval request, the refusal after preflight, and the notices (start,
// verdict, cleanup drift, and the manual injector's instructions).
import type { FaultKind } from '../../domain/drill';
import type { ApprovalRequest } from '../kit/approval';
import type { RunbookNotice } from '../kit/runbook';
import type { PreflightReport } from '../preflight';
import type { Drill, DrillReport } from '../drill';

const what = (d: Drill) => `${d.input.scenario} drill of ${d.sites.join(' + ')} (group ${d.input.group})`;

export function gateRequest(d: Drill): ApprovalRequest {
  const recovery = d.input.recovery === 'detection' ? 'the estate must detect it and fail over by itself' : 'the drill starts an unplanned failover';
  return {
    summary: `${what(d)}: ${d.fault ? `${d.fault} of ${d.sites.join(', ')}; ${recovery}` : 'a planned switchover and back'}; cleanup heals, fails back and audits for drift`,
    detail: { scenario: d.input.scenario, sites: d.sites, recovery: d.input.recovery, window: d.run.report.window },
    lossOverBudget: false,
  };
}

export function preflightRefusal(report: PreflightReport): string {
  const critical = report.flags.filter((f) => f.severity === 'critical');
  return `preflight failed, so the estate is not in a state to drill: ${critical.map((f) => f.message).join('; ')}; nothing was changed`;
}

export function startNotice(d: Drill): RunbookNotice {
  return {
    title: `Drill starting: ${what(d)}`,
    severity: 'info',
    text: `requested by ${d.input.requestedBy}: ${d.input.reason}\napproved: ${d.run.report.approval?.by ?? 'n/a'}\nabort: drctl abort drill-${d.input.group} --reason …`,
    fields: { drill: d.drillId },
  };
}

export function noticeOf(r: DrillReport): RunbookNotice {
  const lines = [`${r.scenario} drill of ${r.sites.join(' + ')}, requested by ${r.input.requestedBy}: ${r.input.reason}`, `verdict: ${r.verdict}`];
  for (const o of r.verdicts) lines.push(`${o.name}: ${o.measured} (target ${o.target}): ${o.verdict}`);
  if (r.aborted) lines.push(`aborted by ${r.aborted.by} during '${r.aborted.step}': ${r.aborted.reason}`);
  if (r.trend.regression) lines.push(`regression: ${r.trend.why}`);
  if (r.error) lines.push(`error: ${r.error}`);
  return {
    title: `Drill ${r.scenario} of ${r.site}: ${r.verdict}`,
    severity: r.verdict === 'passed' ? 'info' : r.verdict === 'refused' || r.verdict === 'aborted' ? 'warning' : 'critical',
    text: lines.join('\n'),
    fields: { workflow: r.workflowId },
  };
}

export function driftNotice(d: Drill): RunbookNotice {
  const { drift, errors } = d.run.report.cleanup;
  const lines = [...drift.map((x) => `${x.what}: was ${x.baseline}, now ${x.now}`), ...errors.map((e) => `cleanup error: ${e}`)];
  return {
    title: `Drill cleanup left the estate changed: ${what(d)}`,
    severity: 'critical',
    text: `${lines.join('\n')}\nput these back by hand; the drill report lists the baseline`,
    fields: { drill: d.drillId },
  };
}

export function manualFaultNotice(d: Drill, fault: FaultKind, action: 'inject' | 'heal', site: string): RunbookNotice {
  const act =
    action === 'inject' ? (fault === 'power-off' ? `cut the power of ${site}` : `isolate ${site} from every other site`) : `restore ${site}`;
  const signal = action === 'inject' ? 'fault-injected' : 'fault-healed';
  return {
    title: `Drill needs hands: ${act}`,
    severity: 'warning',
    text: `${what(d)}: ${act} now, then signal '${signal}' { by, site: '${site}' } to drill-${d.input.group}`,
    fields: { drill: d.drillId },
  };
}
