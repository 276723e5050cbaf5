// The fault, through the configured injector: `command` (the config's commands, run by the control worker) or
// `manual` (an operator does it and signals `fault-injected`, later `fault-healed`). Each site's heal is
// registered before its injection starts, so a fault half put in place is healed too.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { ControlActivities } from '../../activities';
import type { FaultRun } from '../../activities/fault-injector';
import type { DrillMeasurement, FaultKind } from '../../domain/drill';
import { controlTaskQueue } from '../../domain/runs';
import { control } from '../kit/sites';
import type { Drill } from '../drill';
import { manualFaultNotice } from './texts';

export interface FaultSignal {
  by: string;
  site?: string;
}

export const faultInjectedSignal = defineSignal<[FaultSignal]>('fault-injected');
export const faultHealedSignal = defineSignal<[FaultSignal]>('fault-healed');

const injector = proxyActivities<ControlActivities>({
  taskQueue: controlTaskQueue,
  startToCloseTimeout: '10m',
  heartbeatTimeout: '10s',
  retry: { initialInterval: 1000, maximumAttempts: 5 },
});

/** 4. The fault on each site; the moment the last one is in place is the injection. */
export async function injectFault(d: Drill): Promise<void> {
  const { run, fault } = d;
  if (!fault) return run.progress.skip('inject', 'skipped: a switchover round trip injects no fault');
  const manual = new ManualFaults();
  const runs = await run.progress.run(
    'inject',
    async () => {
      const done: Array<Pick<FaultRun, 'site' | 'at'> & Partial<FaultRun>> = [];
      for (const site of d.sites) {
        d.heal.add(`heal ${site}`, () => heal(d, manual, fault, site));
        done.push(
          run.plan.drills?.injector === 'command'
            ? await injector.runFault({ fault, action: 'inject', site })
            : await manual.injected(d, fault, site),
        );
      }
      return done;
    },
    (r) => ({ fault, runs: r }),
  );
  d.injectedAt = Math.max(...runs.map((r) => r.at));
  run.report.measurement.injectedAt = d.injectedAt;
  Object.assign(run.report.measurement, await fileRpoAt(d, d.injectedAt));
}

/** The age of the faulted sites' last good file sync at the injection: what a file restore would lose. */
async function fileRpoAt(d: Drill, at: number): Promise<Pick<DrillMeasurement, 'fileRpoMs' | 'fileRpoNote'>> {
  const synced = d.sites.filter((site) => d.run.plan.sites.find((s) => s.id === site)?.rclone);
  if (synced.length === 0) return { fileRpoMs: null, fileRpoNote: 'no file sync configured' };
  const records = Object.values((await control.fileSyncState()).paths).filter((r) => synced.includes(r.site));
  if (records.length === 0 || records.some((r) => !r.lastSuccessAt)) return { fileRpoMs: null, fileRpoNote: 'never synced' };
  return { fileRpoMs: Math.max(...records.map((r) => at - Date.parse(r.lastSuccessAt!))) };
}

async function heal(d: Drill, manual: ManualFaults, fault: FaultKind, site: string): Promise<unknown> {
  if (d.run.plan.drills?.injector === 'command') return injector.runFault({ fault, action: 'heal', site });
  return manual.healed(d, fault, site);
}

/** An operator's hands: the drill says what to do and waits for the signal. */
class ManualFaults {
  private injectedBy: FaultSignal[] = [];
  private healedBy: FaultSignal[] = [];

  constructor() {
    setHandler(faultInjectedSignal, (s) => void this.injectedBy.push(s));
    setHandler(faultHealedSignal, (s) => void this.healedBy.push(s));
  }

  async injected(d: Drill, fault: FaultKind, site: string): Promise<{ site: string; at: number; by: string }> {
    await control.notify(manualFaultNotice(d, fault, 'inject', site)).catch(() => undefined);
    await condition(() => this.injectedBy.some((s) => !s.site || s.site === site));
    return { site, at: Date.now(), by: this.injectedBy.at(-1)!.by };
  }

  async healed(d: Drill, fault: FaultKind, site: string): Promise<{ site: string; at: number; by: string }> {
    await control.notify(manualFaultNotice(d, fault, 'heal', site)).catch(() => undefined);
    await condition(() => this.healedBy.some((s) => !s.site || s.site === site));
    return { site, at: Date.now(), by: this.healedBy.at(-1)!.by };
  }
}
