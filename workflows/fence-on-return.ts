// A fence queued on a lost site's own return queue. It waits, durably, for that site's worker to come
// back; the worker runs it before it serves anything else. Then the old primary's GTID set is finally
// knowable, and the transactions it took that the new primary never got are listed.
import { CancellationScope, condition, defineQuery, defineSignal, isCancellation, patched, proxyActivities, setHandler } from '@temporalio/workflow';
import type { SiteActivities } from '../activities';
import type { FenceResult } from '../activities/fence';
import { countGtids, formatRanges, subtractGtids } from '../domain/gtid';
import { Progress } from './kit/progress';
import { control, ofGroup } from './kit/sites';
import { fenceOnReturnWorkflowId, returnTaskQueue } from '../domain/runs';

export interface FenceOnReturnInput {
  site: string;
  newPrimary: string;
  failoverWorkflowId: string;
  /** A group with servers of its own: its server at the site is the one fenced. */
  group?: string;
}

export interface Promoted {
  site: string;
  gtidAtPromotion: string;
  failoverWorkflowId: string;
}

export interface FenceOnReturnReport {
  runbook: 'fence-on-return';
  workflowId: string;
  input: FenceOnReturnInput;
  fence: FenceResult;
  proxysql: unknown;
  lost: { known: boolean; count: number | null; gtids: string[]; note: string };
  files?: { json: string; markdown: string };
}

export const promotedSignal = defineSignal<[Promoted]>('promoted');
export const fencedQuery = defineQuery<boolean>('fenced');

export async function fenceOnReturn(input: FenceOnReturnInput): Promise<FenceOnReturnReport> {
  const progress = new Progress('fence-on-return', ['wait for the site', 'one writer', 'compare GTID sets', 'report']);
  let promoted: Promoted | undefined;
  let fenced: Awaited<ReturnType<SiteActivities['fenceSite']>> | undefined;
  setHandler(promotedSignal, (p) => void (promoted = p));
  setHandler(fencedQuery, () => fenced !== undefined);

  // No schedule-to-start timeout: the task waits for as long as the site is away.
  const activities = proxyActivities<SiteActivities>({
    taskQueue: returnTaskQueue(input.site),
    scheduleToCloseTimeout: '30 days',
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });
  const returning = input.group ? ofGroup(activities, input.group) : activities;
  try {
    fenced = await progress.run(
      'wait for the site',
      () => returning.fenceSite({ primary: input.site }),
      (r) => ({ ...r }),
    );
    progress.note(`${input.site} returned and was fenced: read_only, ${fenced.database.killedConnections} client session(s) killed`);
    // The failover tells us its promotion point; it may not have got there yet if the site came back fast.
    await condition(() => promoted !== undefined);
  } catch (err) {
    // The failover was undone before promotion: the returning site is the primary again.
    if (isCancellation(err) && fenced) {
      const f = fenced;
      await CancellationScope.nonCancellable(() => returning.unfenceDatabase({ wasWritable: f.database.wasWritable }));
      progress.note(`failover undone: ${input.site} unfenced`);
    }
    throw err;
  }

  // The same postcondition as the failover's: the returned site must still refuse writes. patched: older runs replay without it.
  if (patched('fence-on-return-one-writer')) {
    await progress.run('one writer', async (s) => {
      if ((await returning.inspectDatabase()).readOnly) return void (s.detail = { readOnly: true });
      progress.note(`${input.site} was writable again after its fence: fencing it again`);
      s.detail = { refenced: await returning.fenceSite({ primary: input.site }) };
      if (!(await returning.inspectDatabase()).readOnly) throw new Error(`${input.site} is still writable after its fence; fence it by hand`);
    });
  }
  const lost = await progress.run('compare GTID sets', async () => {
    const ranges = subtractGtids(fenced!.database.dialect, fenced!.database.gtidExecuted, promoted!.gtidAtPromotion);
    return {
      known: true,
      count: countGtids(ranges),
      gtids: formatRanges(fenced!.database.dialect, ranges),
      note: `executed on ${input.site} but not on ${promoted!.site} at promotion; kept on ${input.site} for the failback to export`,
    };
  });
  const report: FenceOnReturnReport = {
    runbook: 'fence-on-return',
    workflowId: fenceOnReturnWorkflowId(input.site, input.group),
    input,
    fence: fenced!.database,
    proxysql: fenced!.proxysql,
    lost,
  };
  report.files = await progress.run('report', () => control.writeReport(report));
  await control
    .notify({
      title: `${input.site} returned and is fenced`,
      severity: lost.count ? 'warning' : 'info',
      text: `${input.site} came back after failover ${input.failoverWorkflowId} and was fenced read-only. Transactions it has that ${promoted!.site} lacks: ${lost.count}${lost.count ? ` (${lost.gtids.join(', ')})` : ''}. Run failback to reprotect it.`,
    })
    .catch(() => undefined);
  progress.view.status = 'completed';
  return report;
}
