// Semi-sync roles after a change of primary (domain/semi-sync.ts decides): replicas first, so that the
// primary's source side finds its acknowledger connected; every reachable server is set, errors are listed.
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import { semiSyncRoles, type SemiSyncPlan } from '../../domain/semi-sync';
import type { Progress } from '../kit/progress';
import { siteActivities } from '../kit/sites';

export interface SemiSyncRecord extends SemiSyncPlan {
  applied: Array<{ site: string; source: boolean; replica: boolean; error?: string; ioRestarted?: boolean }>;
}

export async function applySemiSyncRoles(
  plan: Plan,
  progress: Progress<'semi-sync'>,
  at: { group: string; primary: string; followers: string[]; reachable: string[] },
): Promise<SemiSyncRecord | null> {
  const config = plan.groups.find((g) => g.id === at.group)?.semiSync;
  if (!config) {
    progress.skip('semi-sync', 'skipped: semi-sync is not configured for this group');
    return null;
  }
  const roles = semiSyncRoles(config, at.primary, at.followers, at.reachable);
  return progress.run('semi-sync', async (s) => {
    const ordered = [...roles.roles.filter((r) => r.site !== at.primary), ...roles.roles.filter((r) => r.site === at.primary)];
    const applied: SemiSyncRecord['applied'] = [];
    for (const role of ordered) {
      try {
        const r = await siteActivities(plan, role.site).setSemiSync({ source: role.source, replica: role.replica, timeoutMs: config.timeoutMs });
        applied.push({ ...role, ioRestarted: r.ioRestarted });
      } catch (err) {
        applied.push({ ...role, error: errorText(err) });
      }
    }
    progress.note(roles.note);
    const record = { ...roles, applied };
    s.detail = { ...record };
    return record;
  });
}
