// The open runs of the namespace and what each one's `progress` query says, for the metrics. Temporal holds
// this durably; the control worker only asks, at most once per cacheMs, however often it is scraped.
import type { Client } from '@temporalio/client';
import { progressQuery } from '../../workflows/kit/progress';
import type { OpenRun, WorkflowLister } from './control-metrics';

export interface OpenRunsOptions {
  /** How long one answer is reused (several metrics and scrapers ask at once). */
  cacheMs?: number;
  /** A query no worker answers in this time counts as unknown. */
  queryTimeoutMs?: number;
}

export function temporalOpenRuns(client: Client, options: OpenRunsOptions = {}): WorkflowLister {
  const cacheMs = options.cacheMs ?? 2000;
  const queryTimeoutMs = options.queryTimeoutMs ?? 3000;
  let last: { at: number; runs: Promise<OpenRun[]> } | undefined;

  /** Null when the query fails: a workflow without it, or no worker to answer. The scrape goes on. */
  const statusOf = (workflowId: string, runId: string): Promise<string | null> =>
    client
      .withDeadline(Date.now() + queryTimeoutMs, () => client.workflow.getHandle(workflowId, runId).query(progressQuery))
      .then((view) => view?.status ?? null)
      .catch(() => null);

  const list = async (): Promise<OpenRun[]> => {
    const open: Array<{ workflowId: string; runId: string; type: string }> = [];
    for await (const wf of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      open.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type });
    }
    return Promise.all(open.map(async (wf) => ({ workflowId: wf.workflowId, type: wf.type, status: await statusOf(wf.workflowId, wf.runId) })));
  };

  return {
    openRuns() {
      if (!last || Date.now() - last.at >= cacheMs) last = { at: Date.now(), runs: list() };
      return last.runs;
    },
  };
}
