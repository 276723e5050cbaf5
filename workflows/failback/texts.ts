// What a failback says to people: the two approval requests and the notice.
import type { ErrantExport } from '../../activities/errant';
import type { CaughtUpResult } from '../../activities/reprotect';
import type { ReseedResult } from '../../activities/reseed';
import type { Plan } from '../../domain/plan';
import type { ApprovalRequest } from '../kit/approval';
import type { RunbookNotice } from '../kit/runbook';
import type { FailbackInput, FailbackReport } from '../failback';

export function errantGateRequest(input: FailbackInput, exported: ErrantExport, gtids: string[]): ApprovalRequest {
  const { returning, current } = input;
  return {
    summary:
      `${returning} has ${exported.transactions} transaction(s) that ${current} never got, touching ${exported.tables.join(', ') || 'no tables'}; ` +
      `exported to ${exported.file}. Approve to re-seed ${returning} from ${current} (discarding them there), reject to abort.`,
    lossOverBudget: false,
    detail: {
      count: exported.transactions,
      gtids,
      tables: exported.tables,
      statements: exported.statements.slice(0, 20),
      exportFile: exported.file,
      sha256: exported.sha256,
      approve: 're-seed',
      reject: 'abort',
    },
  };
}

export function switchBackRequest(
  plan: Plan,
  input: FailbackInput,
  caught: CaughtUpResult,
  reseeded: ReseedResult | undefined,
  errant: FailbackReport['errant'],
): ApprovalRequest {
  const { group, returning, current } = input;
  return {
    summary: `switch ${group} back from ${current} to ${returning}: ${returning} replicates ${caught.lagSeconds} s behind${reseeded ? ` after a re-seed of ${reseeded.bytes} bytes` : ''}`,
    lossOverBudget: false,
    detail: {
      lagSeconds: caught.lagSeconds,
      errant: { count: errant.count, exportFile: errant.export?.file ?? null },
      changes: [
        `fence ${current}`,
        `wait until ${returning} has executed every transaction of ${current}`,
        plan.dnsRecords.length ? `point ${plan.dnsRecords.join(', ')} at ${returning}` : null,
        `promote ${returning} (point of no return)`,
        `route ProxySQL writers to ${returning}`,
        `make ${current} a replica of ${returning}`,
      ].filter(Boolean),
    },
  };
}

export function noticeOf(r: FailbackReport): RunbookNotice {
  const severity = r.outcome === 'completed' ? 'info' : r.outcome === 'failed' ? 'critical' : 'warning';
  const lines = [
    `failback of ${r.input.group} from ${r.input.current} to ${r.input.returning}, requested by ${r.input.requestedBy}: ${r.input.reason}`,
    `outcome: ${r.outcome}`,
  ];
  if (r.errant.count)
    lines.push(`errant transactions on ${r.input.returning}: ${r.errant.count}${r.errant.export ? `, exported to ${r.errant.export.file}` : ''}`);
  if (r.reseed.done && r.reseed.result)
    lines.push(
      `re-seeded ${r.input.returning}: ${r.reseed.result.bytes} bytes, ${r.reseed.result.tables} tables in ${r.reseed.result.durationMs} ms`,
    );
  if (r.rtoMs !== null) lines.push(`switchover RTO ${(r.rtoMs / 1000).toFixed(1)} s`);
  if (r.error) lines.push(`error: ${r.error}`);
  return {
    title: `Failback ${r.input.current} → ${r.input.returning}: ${r.outcome}`,
    severity,
    text: lines.join('\n'),
    fields: { workflow: r.workflowId },
  };
}
