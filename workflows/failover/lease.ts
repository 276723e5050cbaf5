// The old primary's lease, as a majority of vantage points hold it: a promotion waits until it was released or
// not renewed for promoteAfter (domain/detection.ts leaseLetsPromote has the arithmetic).
import { sleep } from '@temporalio/workflow';
import { leaseLetsPromote, vantagePointsOf, type LeaseView } from '../../domain/detection';
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import type { Progress } from '../kit/progress';
import { vantageActivities } from '../kit/vantage';

export async function waitForLeaseLoss(
  plan: Plan,
  progress: Progress<'lease'>,
  input: { group: string; from: string },
  unreachable: Set<string>,
): Promise<void> {
  const d = plan.detection!;
  const vantage = vantagePointsOf(plan.groups.find((g) => g.id === input.group)!.sites, input.from, d.control);
  const majority = Math.floor(vantage.length / 2) + 1;
  const deadline = Date.now() + d.lease.promoteAfterMs + 10_000;
  await progress.run('lease', async (s) => {
    for (let round = 1; ; round++) {
      const views = await Promise.all(vantage.map((v) => viewAt(plan, v, input.group, unreachable)));
      const letting = views.filter((v) => 'view' in v && leaseLetsPromote(v.view, input.from, d.lease.promoteAfterMs));
      s.detail = { round, majority, promoteAfterMs: d.lease.promoteAfterMs, views, letting: letting.map((v) => v.vantage) };
      if (letting.length >= majority) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `${input.from} may still hold its lease: ${letting.length} of ${vantage.length} vantage points let a promotion go ahead, ${majority} must`,
        );
      }
      await sleep(nextLook(views, d.lease.promoteAfterMs));
    }
  });
}

type Seen = { vantage: string; view: LeaseView | null } | { vantage: string; error: string };

async function viewAt(plan: Plan, vantage: string, group: string, unreachable: Set<string>): Promise<Seen> {
  if (unreachable.has(vantage)) return { vantage, error: 'unreachable at assess' };
  try {
    return { vantage, view: await vantageActivities(plan, vantage).leaseView({ group }) };
  } catch (err) {
    return { vantage, error: errorText(err) };
  }
}

/** Sleeps until the soonest expiry among the views, within 50–500 ms. */
function nextLook(views: Seen[], promoteAfterMs: number): number {
  const left = views.flatMap((v) => ('view' in v && v.view?.ageMs != null && !v.view.released ? [promoteAfterMs - v.view.ageMs] : []));
  return Math.min(500, Math.max(50, Math.min(...left, 500)));
}
