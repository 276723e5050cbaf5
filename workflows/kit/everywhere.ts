// A change made in every reachable site that has a router of a kind (ProxySQL, HAProxy): an unreachable site is
// noted, not fatal.
import { errorText } from '../../domain/errors';
import type { Plan } from '../../domain/plan';
import { isUnreachable } from './sites';

export interface SiteResult<T> {
  site: string;
  result?: T;
  skipped?: string;
  error?: string;
}

export type RouterKind = 'proxysql' | 'haproxy';
const LABEL: Record<RouterKind, string> = { proxysql: 'ProxySQL', haproxy: 'HAProxy' };

export function proxysqlEverywhere<T>(plan: Plan, unreachable: Set<string>, change: (site: string) => Promise<T>): Promise<Array<SiteResult<T>>> {
  return routersEverywhere(plan, unreachable, 'proxysql', change);
}

export async function routersEverywhere<T>(
  plan: Plan,
  unreachable: Set<string>,
  kind: RouterKind,
  change: (site: string) => Promise<T>,
): Promise<Array<SiteResult<T>>> {
  const results = await Promise.all(
    plan.sites
      .filter((s) => s[kind])
      .map(async (s): Promise<SiteResult<T>> => {
        if (unreachable.has(s.id)) return { site: s.id, skipped: 'site unreachable at assess; its own fence on return takes its writer out' };
        try {
          return { site: s.id, result: await change(s.id) };
        } catch (err) {
          if (isUnreachable(err)) return { site: s.id, skipped: 'site unreachable' };
          return { site: s.id, error: errorText(err) };
        }
      }),
  );
  const failed = results.filter((r) => r.error);
  if (failed.length) throw new Error(`${LABEL[kind]}: ${failed.map((f) => `${f.site}: ${f.error}`).join('; ')}`);
  return results;
}

/** What a step records of a router change: per site, the state after it, or why it was skipped. */
export function proxysqlRecord<T extends { after?: unknown } | null>(results: Array<SiteResult<T>>): Array<Record<string, unknown>> {
  return results.map((r) => ({ site: r.site, skipped: r.skipped ?? null, after: r.result?.after ?? null }));
}
