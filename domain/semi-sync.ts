// Semi-synchronous roles follow the primary: it waits for an acknowledgement only from the replicas the config
// names for it (its same-city peer), and only when one of them replicates from it; those replicas acknowledge;
// every other server has semi-sync off. A primary with no such peer (the far DR site) runs asynchronously.
// Pure: the failover and failback workflows apply what this decides.

export interface SemiSyncConfig {
  timeoutMs: number;
  /** Primary site → the replicas that acknowledge its commits. */
  acknowledgers: Record<string, string[]>;
}

export interface SemiSyncRole {
  site: string;
  source: boolean;
  replica: boolean;
}

export interface SemiSyncPlan {
  roles: SemiSyncRole[];
  /** Who acknowledges for the primary now; empty when it runs asynchronously. */
  acknowledgers: string[];
  note: string;
}

/** `followers`: the reachable replicas that replicate from `primary` now. `others`: reachable servers that do not. */
export function semiSyncRoles(config: SemiSyncConfig | null, primary: string, followers: readonly string[], others: readonly string[]): SemiSyncPlan {
  const named = config?.acknowledgers[primary] ?? [];
  const acknowledgers = followers.filter((site) => named.includes(site));
  const source = acknowledgers.length > 0;
  const roles: SemiSyncRole[] = [
    { site: primary, source, replica: false },
    ...followers.map((site) => ({ site, source: false, replica: acknowledgers.includes(site) })),
    ...others.filter((site) => site !== primary && !followers.includes(site)).map((site) => ({ site, source: false, replica: false })),
  ];
  const note = !config
    ? 'semi-sync is not configured for this group: replication is asynchronous'
    : named.length === 0
      ? `no acknowledgers are configured for ${primary} (no same-city peer): semi-sync is off, replication to every replica is asynchronous`
      : source
        ? `${primary} waits for an acknowledgement from ${acknowledgers.join(' or ')} (AFTER_SYNC, timeout ${config.timeoutMs} ms)`
        : `${named.join(', ')} would acknowledge for ${primary} but none replicates from it now: semi-sync is off until one does`;
  return { roles, acknowledgers, note };
}
