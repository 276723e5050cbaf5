// 6. Measure, once every site is back: stop the clients, read their journals where they were written, read what
// the new primary holds of the stream, and judge. The RTO runs from the injection to the first write the new
// primary acknowledged; its phases come from the failover's own steps.
import { DRILL_PHASES, type DrillMeasurement, type DrillPhase } from '../../domain/drill';
import { judgeStream, seriesOf } from '../../domain/drill-measure';
import { countGtids, subtractGtids } from '../../domain/gtid';
import type { StepRecord } from '../../domain/steps';
import { inspectSite, isAvailable, siteActivities } from '../kit/sites';
import type { FailoverReport } from '../failover';
import type { Drill } from '../drill';
import { ROUTER_WRITER, readStreams, stopStreams } from './stream';

export async function measure(d: Drill): Promise<Record<string, unknown>> {
  const { run } = d;
  const m = run.report.measurement;
  if (!d.streams) return { skipped: 'no stream was started' };
  const stopped = await stopStreams(d.streams);
  const writes = await readStreams(d, d.streams);
  const promoted = d.failover?.pointOfNoReturn.reached ? d.failover : undefined;
  const newPrimary = promoted?.input.to ?? null;
  const holder = newPrimary ?? d.baseline?.primary ?? d.input.site;
  const present = await siteActivities(run.plan, holder).streamRows({ drill: d.drillId });
  const from = d.injectedAt ?? (promoted ? Date.parse(promoted.startedAt) : Date.now());
  const promotedAt = promoted?.pointOfNoReturn.at ? Date.parse(promoted.pointOfNoReturn.at) : null;
  const v = judgeStream({ writes, present, from, promotedAt, newPrimary, oldPrimary: d.input.site, routerWriter: ROUTER_WRITER });
  Object.assign(m, {
    promotedAt,
    newPrimary,
    firstGoodWriteAt: v.firstGoodWriteAt,
    rtoMs: v.firstGoodWriteAt === null ? null : v.firstGoodWriteAt - from,
    phases: promoted ? phasesOf(promoted, d.injectedAt ?? null) : m.phases,
    lostAckedWrites: v.lostAckedWrites,
    lostWrites: v.lostWrites,
    lostSpanMs: v.lostSpanMs,
    splitBrainWrites: v.splitBrainWrites,
    writeUnavailableMs: v.writeUnavailableMs,
  } satisfies Partial<DrillMeasurement>);
  Object.assign(m, await lostGtids(d, promoted));
  run.report.stream = seriesOf(writes);
  return { stopped, writes: writes.length, holder, ...v, lostWrites: v.lostWrites.length };
}

/** Milliseconds per phase, from the failover's step records. Detect: injection → the failover's start. DNS overlaps the others now. */
function phasesOf(f: FailoverReport, injectedAt: number | null): Record<DrillPhase, number | null> {
  const ms = (...names: string[]) => {
    const steps = f.steps.filter((s: StepRecord) => names.includes(s.name) && s.durationMs !== undefined);
    return steps.length ? steps.reduce((sum, s) => sum + s.durationMs!, 0) : null;
  };
  const phases: Record<DrillPhase, number | null> = {
    detect: injectedAt === null ? null : Date.parse(f.startedAt) - injectedAt,
    decide: ms('load plan', 'assess', 'gate', 'scale'),
    fence: ms('fence'),
    'catch up': ms('nearly caught up', 'catch up'),
    dns: ms('dns'),
    promote: ms('promote'),
    route: ms('route', 'verify'),
  };
  return Object.fromEntries(DRILL_PHASES.map((p) => [p, phases[p]])) as Record<DrillPhase, number | null>;
}

/** What the old primary holds that the new one did not have at promotion, once it is back to ask. */
async function lostGtids(d: Drill, promoted: FailoverReport | undefined): Promise<Pick<DrillMeasurement, 'lostGtids' | 'lostGtidsNote'>> {
  if (!promoted) return { lostGtids: null, lostGtidsNote: 'no failover: nothing was promoted' };
  if (promoted.rpo.lost.known) return { lostGtids: promoted.rpo.lost.count, lostGtidsNote: promoted.rpo.lost.note };
  const old = await inspectSite(d.run.plan, promoted.input.from);
  if (!isAvailable(old) || !promoted.rpo.gtidAtPromotion) return { lostGtids: null, lostGtidsNote: 'the old primary could not be read' };
  const gap = subtractGtids(old.dialect, old.gtidExecuted, promoted.rpo.gtidAtPromotion);
  return {
    lostGtids: countGtids(gap),
    lostGtidsNote: `transactions ${promoted.input.from} holds that ${promoted.input.to} lacked at promotion, read after its return (split-brain writes included)`,
  };
}
