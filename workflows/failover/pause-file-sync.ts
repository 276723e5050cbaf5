// After a failover the old primary's share is no longer the source of truth: pause its sync schedules so
// they do not push a stale share over the copy. Best effort; the failback runbook resumes them.
import { patched, workflowInfo } from '@temporalio/workflow';
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import type { Progress } from '../kit/progress';
import { control } from '../kit/sites';

export async function pauseFileSync(plan: Plan, progress: Progress<'pause file sync'>, from: string, to: string): Promise<void> {
  if (!plan.sites.find((s) => s.id === from)?.rclone) return progress.skip('pause file sync', `skipped: ${from} syncs no files`);
  // patched: failovers that started before this step replay without it.
  if (!patched('failover-pause-file-sync')) return progress.skip('pause file sync', 'skipped: the run started before this step existed');
  await progress.run('pause file sync', async (s) => {
    try {
      s.detail = {
        schedules: await control.pauseSyncSchedules({
          site: from,
          reason: `failover ${workflowInfo().workflowId}: ${to} is the source of truth now`,
        }),
      };
    } catch (err) {
      s.detail = { error: errorText(err) };
      progress.note(
        `could not pause the file-sync schedules of ${from}: ${errorText(err)}; pause them by hand (npm run schedules -- pause --site ${from})`,
      );
    }
  });
}
