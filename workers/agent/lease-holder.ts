// The primary's side of the lease. Renewed with every vantage point each renewEvery; a renewal counts when a
// majority granted it, from the moment it was *sent* (domain/detection.ts leaseLetsPromote says why). Not
// renewed for fenceAfter, the primary fences itself, here, with no Temporal round trip.

export interface VantageEndpoint {
  name: string;
  url: string;
}

const REQUEST_TIMEOUT_MS = 500;

export class LeaseHolder {
  /** Since when, on this process's monotonic clock, the last majority-granted renewal was sent. */
  private grantedSentAt: number | null = null;
  lastGrants: string[] = [];
  lastRefusals: string[] = [];

  constructor(
    readonly group: string,
    readonly holder: string,
    private readonly vantage: VantageEndpoint[],
    private readonly fenceAfterMs: number,
    private readonly now: () => number,
  ) {}

  get held(): boolean {
    return this.grantedSentAt !== null;
  }

  get renewalAgeMs(): number | null {
    return this.grantedSentAt === null ? null : this.now() - this.grantedSentAt;
  }

  /** Held, and not renewed for fenceAfter: the holder must fence itself now. */
  get expired(): boolean {
    return this.grantedSentAt !== null && this.now() - this.grantedSentAt >= this.fenceAfterMs;
  }

  async renew(): Promise<boolean> {
    const sentAt = this.now();
    const answers = await Promise.all(this.vantage.map(async (v) => [v.name, await post(`${v.url}/lease/renew`, this.body())] as const));
    this.lastGrants = answers.filter(([, ok]) => ok).map(([name]) => name);
    this.lastRefusals = answers.filter(([, ok]) => !ok).map(([name]) => name);
    const granted = this.lastGrants.length >= Math.floor(this.vantage.length / 2) + 1;
    if (granted) this.grantedSentAt = sentAt;
    return granted;
  }

  /** Lets a promotion go ahead at once: sent to every vantage point, best effort. */
  async release(): Promise<void> {
    this.grantedSentAt = null;
    await Promise.all(this.vantage.map((v) => post(`${v.url}/lease/release`, this.body())));
  }

  private body(): string {
    return JSON.stringify({ group: this.group, holder: this.holder });
  }
}

async function post(url: string, body: string): Promise<boolean> {
  try {
    const r = await fetch(url, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await r.body?.cancel();
    return r.ok;
  } catch {
    return false;
  }
}
