// DNS out of the write pause. The UPSERT goes in before the fence (a refused change stops the run there, and
// the change is undone like any step before the point of no return); the wait for INSYNC runs beside
// fence → catch up → promote → route, so Route 53's propagation (up to 60 s) costs the writers nothing. Every
// site's router sends writes to the current primary wherever clients connect. The RTO still ends only when
// the change is in sync and the new primary takes writes.
import { CancellationScope, patched } from '@temporalio/workflow';
import type { Plan } from '../../domain/plan';
import type { Compensations } from '../kit/compensation';
import type { Progress } from '../kit/progress';
import { isUnreachable, longStep, siteActivities } from '../kit/sites';
import type { DnsWaitInput } from '../../activities/dns-provider';

export interface DnsAside {
  /** Resolves once the provider took the change; rejects when it refused it. */
  submitted: Promise<void>;
  /** The whole step: resolves when every record is in sync. */
  done: Promise<void>;
  /** The change to wait for again, should the first wait fail after the point of no return. */
  changeId(): string | null;
  /** Stops the wait (the run is being undone). */
  cancel(): void;
  /** Why the step failed, if it already has: before promotion, that undoes the run rather than promote. */
  failure(): unknown;
}

export interface DnsTarget {
  to: string;
  comment: string;
  /** Sites found unreachable: their servers and resolvers are not waited for. */
  unreachable: Set<string>;
}

export function pointDnsAside(plan: Plan, progress: Progress<'dns'>, undo: Compensations, target: DnsTarget): DnsAside {
  const { to, comment } = target;
  let taken!: () => void;
  let refused!: (err: unknown) => void;
  const submitted = new Promise<void>((resolve, reject) => ((taken = resolve), (refused = reject)));
  const scope = new CancellationScope();
  let changeId: string | null = null;
  const done = scope.run(() =>
    progress.run('dns', async (s) => {
      const site = siteActivities(plan, to);
      const unreachableSites = [...target.unreachable];
      // Every authoritative server must answer before the change, or its sync could never be proved.
      s.detail = { ready: await waitingSite(plan, to).dnsServersReady({ timeoutMs: plan.timeouts.dnsInsyncMs, unreachableSites }) };
      const before = await site.dnsRead();
      undo.add('restore DNS records', () => site.dnsRestore({ records: before.map((r) => ({ name: r.name, type: r.type, previous: r.current })) }));
      const c = await site.dnsPointAt({ site: to, comment });
      changeId = c.changeId;
      s.detail = { ...s.detail, changeId: c.changeId, submittedAt: c.submittedAt, records: c.records, aside: true };
      taken();
      if (!c.changeId) return;
      const [insync, ...resolved] = await Promise.all([
        waitInsync(plan, to, c.changeId, { records: c.records, unreachableSites }),
        ...plan.sites.filter((x) => !target.unreachable.has(x.id)).map((x) => resolvedHere(plan, x.id, to)),
      ]);
      s.detail = { ...s.detail, insync, resolvedBySite: resolved.filter((r) => r !== null) };
    }),
  );
  let failure: unknown;
  done.catch((err) => ((failure = err), refused(err)));
  submitted.catch(() => undefined); // awaited by the run; a refusal while it is elsewhere is not unhandled
  return { submitted, done, changeId: () => changeId, cancel: () => scope.cancel(), failure: () => failure };
}

export function waitInsync(plan: Plan, to: string, changeId: string, extra: Pick<DnsWaitInput, 'records' | 'unreachableSites'> = {}) {
  return waitingSite(plan, to).dnsWaitInsync({ changeId, timeoutMs: plan.timeouts.dnsInsyncMs, ...extra });
}

/**
 * What a site's own resolver answers. A site whose worker is gone (its database was found down, not its worker,
 * e.g. killed mid-check in a power loss) has no clients left to resolve the name: it is skipped, not waited for.
 */
async function resolvedHere(plan: Plan, site: string, to: string) {
  const check = waitingSite(plan, site).dnsResolvedHere({ site: to, timeoutMs: plan.timeouts.dnsInsyncMs });
  if (!patched('dns-resolve-skips-gone-site')) return check;
  return check.catch((err: unknown) => {
    if (isUnreachable(err)) return { site, skipped: 'unreachable: its worker did not pick the check up' };
    throw err;
  });
}

const waitingSite = (plan: Plan, site: string) => siteActivities(plan, site, longStep(plan, plan.timeouts.dnsInsyncMs));
