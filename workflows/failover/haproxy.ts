// HAProxy, the proxy that carries the application's connections, in every reachable site: the old primary's
// server out (its sessions shut) with the fence, the new primary's in with the route. Each site's backend is
// read before it is changed, and that reading is what the compensation puts back.
import type { Plan } from '../../domain/plan';
import type { Compensations } from '../kit/compensation';
import { routersEverywhere, type SiteResult } from '../kit/everywhere';
import { siteActivities } from '../kit/sites';

type Change = Awaited<ReturnType<ReturnType<typeof siteActivities>['haproxyRouteWriter']>>;

export function fenceHaproxyEverywhere(plan: Plan, unreachable: Set<string>, undo: Compensations, primary: string) {
  return routersEverywhere(plan, unreachable, 'haproxy', async (site) => {
    const haproxy = siteActivities(plan, site);
    const before = await haproxy.haproxyRead();
    if (before) undo.add(`restore HAProxy in ${site}`, () => haproxy.haproxyRestore({ servers: before.map(({ name, admin }) => ({ name, admin })) }));
    return haproxy.haproxyFenceWriter({ primary });
  });
}

export function routeHaproxyEverywhere(plan: Plan, unreachable: Set<string>, newPrimary: string, oldPrimary: string) {
  return routersEverywhere(plan, unreachable, 'haproxy', (site) => siteActivities(plan, site).haproxyRouteWriter({ newPrimary, oldPrimary }));
}

/** What a step records: per site, each server's admin state after the change, or why the site was skipped. */
export function haproxyRecord(results: Array<SiteResult<Change | { note: string } | null>>): Array<Record<string, unknown>> {
  return results.map((r) => {
    const after = r.result && 'after' in r.result ? Object.fromEntries(r.result.after.map((s) => [s.name, s.admin])) : null;
    return { site: r.site, skipped: r.skipped ?? null, after, note: (r.result && 'note' in r.result && r.result.note) || null };
  });
}
