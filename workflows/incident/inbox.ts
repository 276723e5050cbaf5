// Everything detection tells an incident, in arrival order: agents' reports and Alertmanager's alerts. Delivery
// is at least once, so a repeat (same alert, same status, same start) is counted, not kept twice.
import { ApplicationFailure, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import type { IncidentSignal } from '../../domain/detection';
import { acknowledgeSignalName, incidentSignalName } from '../../domain/runs';
import type { Offered, Signatures } from '../kit/signatures';

type Acknowledgement = Offered & { by: string; reason: string };

export const reportSignal = defineSignal<[IncidentSignal]>(incidentSignalName);
export const acknowledgeSignal = defineSignal<[Acknowledgement]>(acknowledgeSignalName);
/** The same, for drctl: its validator refuses a non-approver, or an incident that blocks nothing, at once. */
export const acknowledgeUpdate = defineUpdate<string, [Acknowledgement]>(acknowledgeSignalName);

const EXPECT = { action: 'acknowledge', decisions: ['acknowledge'] } as const;

export type Received = IncidentSignal & { receivedAt: string };

export class Inbox {
  readonly signals: Received[] = [];
  duplicates = 0;
  acknowledged: { by: string; reason: string; at: string } | null = null;
  refusedAcks: Array<{ by: string; reason: string; why: string; at: string }> = [];
  /** Set while an automatic failover blocks the next one: only then is there anything to acknowledge. */
  blocking = false;
  private readonly seen = new Set<string>();

  /** `signatures` is null until the plan is loaded; a plain acknowledgement then waits for nothing but a name check. */
  constructor(private readonly signatures: () => Signatures | null) {
    setHandler(reportSignal, (s) => this.receive(s));
    setHandler(acknowledgeSignal, (a) => void this.acknowledge(a));
    setHandler(
      acknowledgeUpdate,
      async (a) => {
        const why = await this.acknowledge(a);
        if (why) throw ApplicationFailure.nonRetryable(why, 'Refused');
        return `acknowledged by ${this.acknowledged!.by}: automatic failover is armed again`;
      },
      {
        validator: (a) => {
          const why =
            this.signatures()?.precheck(a, EXPECT) ?? (this.blocking ? null : 'no automatic failover blocks detection now: nothing to acknowledge');
          if (why) throw new Error(why);
        },
      },
    );
  }

  /** Verifies and records an acknowledgement; the reason it was refused, if it was. */
  private async acknowledge(a: Acknowledgement): Promise<string | undefined> {
    const signatures = this.signatures();
    const verdict = signatures ? await signatures.accept(a, EXPECT, 'acknowledge') : { by: a.by, reason: a.reason };
    if (typeof verdict === 'string') {
      this.refusedAcks.push({ by: a?.by ?? '?', reason: a?.reason ?? '', why: verdict, at: new Date().toISOString() });
      return verdict;
    }
    this.acknowledged = { by: verdict.by, reason: verdict.reason, at: new Date().toISOString() };
    return undefined;
  }

  /** The suspect that the first failure names, if any. */
  get firstSuspect(): string | null {
    return this.signals.find((s) => s.suspect !== null && isFailure(s))?.suspect ?? null;
  }

  /** A failure of the suspect that no later recovery from the same source has answered. */
  active(suspect: string, since = 0): boolean {
    const open = new Map<string, boolean>();
    for (const s of this.signals.slice(since)) {
      if (s.suspect !== null && s.suspect !== suspect) continue;
      open.set(sourceOf(s), isFailure(s));
    }
    return [...open.values()].some(Boolean);
  }

  /** Failures that arrived after `since` (an index into signals). */
  failuresSince(since: number): Received[] {
    return this.signals.slice(since).filter(isFailure);
  }

  private receive(s: IncidentSignal): void {
    const key = JSON.stringify(s.kind === 'alert' ? [s.fingerprint, s.status, s.startsAt] : [s.from, s.suspect, s.what, s.at]);
    if (this.seen.has(key)) return void this.duplicates++;
    this.seen.add(key);
    this.signals.push({ ...s, receivedAt: new Date().toISOString() });
  }
}

export const isFailure = (s: IncidentSignal): boolean => (s.kind === 'alert' ? s.status === 'firing' : s.what !== 'recovered');

/** An alert is answered by its own resolution; an agent's report by the same agent's recovery of that suspect. */
const sourceOf = (s: IncidentSignal): string => (s.kind === 'alert' ? `alert ${s.fingerprint}` : `agent ${s.from} ${s.suspect}`);
