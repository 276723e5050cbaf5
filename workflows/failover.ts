// Runbook: failover. Planned (switchover: zero loss) or unplanned (bounded, listed loss).
//
//   assess (every site of the group; choose the candidate when none is named) → gate → scale up the new site
//   → DNS change submitted → nearly caught up (planned) → fence the old primary → catch up (from the old
//   primary, or from a peer replica ahead of the candidate) → lease (unplanned, with detection: the old primary
//   has lost it) ── POINT OF NO RETURN: promote ──→ route → DNS in sync → verify → one writer → re-point the
//   other replicas → semi-sync roles → pause file sync → standby → notify → report
//
// DNS waits for INSYNC beside fence → promote → route: the write pause waits for none of it. Started by an
// incident (input.detected), scale and the DNS change run beside fence → catch up too.
//
// Before the point of no return any failure undoes what was done, newest first. After it the run only
// rolls forward; a step that keeps failing waits for an operator (retry-step / skip-step).
import { ApplicationFailure, patched, workflowInfo } from '@temporalio/workflow';
import type { DatabaseState } from '../activities/inspect';
import type { FenceResult } from '../activities/fence';
import type { PromoteResult } from '../activities/promote';
import { errorText } from '../domain/errors';
import { countGtids, formatRanges, subtractGtids } from '../domain/gtid';
import { ownGroup, type Plan } from '../domain/plan';
import type { ApprovalOutcome } from './kit/approval';
import { Compensations } from './kit/compensation';
import { approverOnly, badInput, checkGroupSites } from './kit/input';
import { OperatorDesk } from './kit/operator';
import { isRefusal, refuse, startRunbook, type Runbook, type RunbookReport } from './kit/runbook';
import { inspectSite, isAvailable, isUnreachable, longStep, siteActivities, type SiteDatabase } from './kit/sites';
import type { StepRecord } from '../domain/steps';
import { cancelFenceOnReturn, queueFenceOnReturn, tellFenceOnReturn } from './failover/fence-on-return-queue';
import { lostTransactions } from './failover/lost';
import { assessGroup, summarise, type CandidateReport } from './failover/assess-group';
import { repointReplica, type ReplicaOutcome } from './failover/repoint';
import { queueRepointOnReturn } from './failover/repoint-on-return-queue';
import { applySemiSyncRoles, type SemiSyncRecord } from './failover/semi-sync';
import type { PeerAhead } from '../domain/peers-ahead';
import { proxysqlEverywhere, proxysqlRecord } from './kit/everywhere';
import { gateRequest, noticeOf } from './failover/texts';
import { pauseFileSync } from './failover/pause-file-sync';
import { refuseDuringDrill } from './kit/drill-exclusion';
import { waitForLeaseLoss } from './failover/lease';
import { pointDnsAside, waitInsync, type DnsAside } from './failover/dns-aside';
import { nearlyCaughtUp } from './failover/nearly-caught-up';
import { fenceHaproxyEverywhere, haproxyRecord, routeHaproxyEverywhere } from './failover/haproxy';

export interface FailoverInput {
  group: string;
  from: string;
  /** Required for a planned switchover. Omitted (unplanned only): the most advanced reachable replica. */
  to?: string;
  mode: 'planned' | 'unplanned';
  reason: string;
  requestedBy: string;
  /** Accept an estimated loss over the RPO budget up front; requestedBy must be an approver. */
  acceptLoss?: boolean;
  /** The approval a parent runbook (failback) already obtained; honoured only when this run is its child. */
  approvedByParent?: ApprovalOutcome;
  /** Started by an incident that a quorum confirmed (workflows/incident.ts). */
  detected?: DetectedBy;
  /** A child of a site failover (workflows/site-failover.ts): the parent did these steps once for every group. */
  siteRun?: { workflowId: string; shared: SharedStep[] };
}

/** The steps a site failover does once for all its groups, and its children skip. */
export type SharedStep = 'scale' | 'dns' | 'pause file sync' | 'standby' | 'notify';

export interface DetectedBy {
  incident: string;
  /** detection.policy: 'auto' approves within the RPO budget; over it, a person decides. */
  policy: 'auto' | 'approval';
  /** The old primary's agent went silent with its lease: its worker is gone too, so nothing is asked of it. */
  suspectSilent: boolean;
}

export type FailoverOutcome = 'completed' | 'rejected' | 'compensated' | 'completed-with-skips' | 'completed-with-refence';

export interface FailoverReport extends RunbookReport<'failover', FailoverInput, FailoverOutcome> {
  /** Start of the run until DNS is INSYNC and the new primary accepts writes. */
  rtoMs: number | null;
  rpo: {
    lagSecondsAtPromotion: number | null;
    gtidAtPromotion: string | null;
    /** Transactions the old primary executed that the new one never got. Unknown while the old primary is away. */
    lost: { known: boolean; count: number | null; gtids: string[]; note: string };
  };
  operatorActions: Array<{ step: string; action: string; by: string; reason: string; at: string }>;
  /** Old primaries found writable again after the switchover, and fenced again by the postcondition. */
  refenced?: string[];
  /** How the site to promote was chosen or checked: each site considered, with its GTID set or why not. */
  candidate?: CandidateReport & { peersAhead: PeerAhead[] };
  /** Every other replica of the group after the promotion: where it replicates from, its lag, or why not. */
  replicas?: ReplicaOutcome[];
  semiSync?: SemiSyncRecord | null;
}

/** The input once the candidate is known: `to` is always set after assess. */
type Resolved = FailoverInput & { to: string };

export const FAILOVER_STEPS = [
  'load plan',
  'assess',
  'gate',
  'scale',
  'dns',
  'nearly caught up',
  'fence',
  'catch up',
  'lease',
  'promote',
  'route',
  'verify',
  'one writer',
  'repoint',
  'semi-sync',
  'pause file sync',
  'standby',
  'notify',
  'report',
] as const;
export type FailoverStep = (typeof FAILOVER_STEPS)[number];

/** One failover in flight: the kit's shell, what it can undo, and what it learned on the way. */
interface Failover {
  run: Runbook<FailoverStep, FailoverReport>;
  input: Resolved;
  t0: number;
  desk: OperatorDesk;
  undo: Compensations;
  /** Each compensation is registered before its step, from a snapshot (runs from before this was patched in: after). */
  undoFirst: boolean;
  /** Sites whose workers did not answer at assess: asking again would cost a schedule-to-start timeout per step. */
  unreachable: Set<string>;
  lastSeenOld?: DatabaseState;
  oldFence?: FenceResult;
  /** Every site of the group is assessed, the candidate may be chosen, the others re-pointed (runs from before: two sites). */
  groupWide: boolean;
  /** Replicas holding transactions the candidate lacks: it is caught up from them before promotion. */
  ahead: PeerAhead[];
  /** The DNS change goes in before the fence and is awaited after route (runs from before: inside the pause). */
  dnsAside: boolean;
  dns?: DnsAside;
  /** HAProxy is fenced and routed beside ProxySQL (runs from before: ProxySQL only). */
  haproxy: boolean;
}

export async function failover(input: FailoverInput): Promise<FailoverReport> {
  const t0 = Date.now();
  const run = await startRunbook<FailoverStep, FailoverInput, FailoverReport>('failover', FAILOVER_STEPS, input, checkInput, {
    rpo: { lagSecondsAtPromotion: null, gtidAtPromotion: null, lost: { known: false, count: null, gtids: [], note: 'not promoted' } },
    operatorActions: [],
  });
  const desk = new OperatorDesk(run.progress, run.gate.signatures);
  const f: Failover = {
    run,
    input: input as Resolved,
    t0,
    desk,
    undo: new Compensations(run.progress),
    unreachable: new Set(),
    undoFirst: patched('failover-undo-first'),
    groupWide: patched('failover-group-wide'),
    ahead: [],
    dnsAside: false,
    haproxy: false,
  };
  run.report.operatorActions = desk.actions;
  let beside: Array<Promise<void>> = [];
  try {
    const candidate = await assess(f);
    if ((await gate(f, candidate)).decision === 'rejected') return await finish(f);
    f.dnsAside = patched('failover-dns-aside');
    f.haproxy = patched('failover-haproxy');
    beside = await (f.dnsAside ? beforeTheFence(f) : besideTheFence(f));
    await fence(f);
    await catchUp(f);
    if (!input.detected && !f.dnsAside) await pointDns(f);
    await Promise.all(beside);
    await leaseLost(f);
    if (f.dns?.failure()) throw f.dns.failure(); // DNS cannot get in sync: undo rather than promote
  } catch (err) {
    f.dns?.cancel();
    await Promise.allSettled([...beside, f.dns?.done]); // each registers its undo before it changes anything
    return await compensate(f, err);
  }
  // ── POINT OF NO RETURN ── From here the run only rolls forward.
  await promote(f);
  await route(f);
  await dnsInSync(f);
  await verify(f);
  await oneWriter(f);
  await repointOthers(f);
  if (sharedBySite(f, 'pause file sync')) run.progress.skip('pause file sync', sharedBySite(f, 'pause file sync')!);
  else await pauseFileSync(run.plan, run.progress, f.input.from, f.input.to);
  await standby(f);
  return finish(f);
}

/**
 * Runs from before DNS left the write path. Started by detection, scale and DNS (neither touches writes) run
 * beside fence → catch up; otherwise scale runs now and DNS after the catch-up.
 */
async function besideTheFence(f: Failover): Promise<Array<Promise<void>>> {
  if (!f.input.detected) return (await scale(f), []);
  const beside = [scale(f), pointDns(f)];
  for (const p of beside) p.catch(() => undefined); // awaited later; a failure is not unhandled meanwhile
  return beside;
}

/**
 * The DNS change goes in before the fence, and INSYNC is awaited after route. Started by detection, scale and
 * the change run beside fence → catch up (the provider must still have taken it before promotion); otherwise
 * a planned switchover also waits, after scale, for the candidate to be nearly caught up.
 */
async function beforeTheFence(f: Failover): Promise<Array<Promise<void>>> {
  const { run, input } = f;
  const pointing = run.plan.dnsRecords.length > 0 && !sharedBySite(f, 'dns');
  if (pointing)
    f.dns = pointDnsAside(run.plan, run.progress, f.undo, {
      to: input.to,
      comment: `failover ${workflowInfo().workflowId}: ${input.reason}`,
      unreachable: f.unreachable,
    });
  else run.progress.skip('dns', sharedBySite(f, 'dns') ?? 'skipped: no DNS records configured');
  if (input.detected) {
    run.progress.skip('nearly caught up', 'skipped: an unplanned failover fences first; the old primary may be taking writes');
    const beside = [scale(f), ...(f.dns ? [f.dns.submitted] : [])];
    for (const p of beside) p.catch(() => undefined);
    return beside;
  }
  await scale(f);
  await f.dns?.submitted;
  await nearlyCaughtUp(run.plan, run.progress, input.to, input.mode);
  return [];
}

/** 1. Every site, each through its own worker; the candidate. Refuses what no failover can fix. */
async function assess(f: Failover): Promise<DatabaseState> {
  await refuseDuringDrill(f.input.group, 'failover', f.input.mode);
  const { oldDb, newDb, others } = f.groupWide ? await assessAll(f) : await assessPair(f);
  const { from, to, mode } = f.input;
  if (!isAvailable(newDb)) {
    throw refuse(`the candidate site ${to} is ${newDb.unavailable === 'unreachable' ? newDb.why : `not usable: ${newDb.why}`}; nothing was changed`);
  }
  const lacking = [oldDb, newDb, ...others].flatMap((db) =>
    isAvailable(db) ? (db.missingGrants ?? []).map((g) => `${db.site} lacks ${g.privilege} (${g.why})`) : [],
  );
  if (lacking.length) throw refuse(`the runbook user is missing grants it needs: ${lacking.join('; ')}; nothing was changed`);
  if (isAvailable(oldDb)) f.lastSeenOld = oldDb;
  else if (oldDb.unavailable === 'unreachable') f.unreachable.add(from);
  if (mode === 'planned' && !f.lastSeenOld) {
    const state = isAvailable(oldDb) ? '' : oldDb.unavailable === 'unreachable' ? 'unreachable' : oldDb.why;
    throw refuse(
      `a planned switchover needs the old primary ${from} reachable (it is ${state}); use mode 'unplanned' for a failover from a lost site`,
    );
  }
  if (!newDb.readOnly && f.lastSeenOld && !f.lastSeenOld.readOnly) {
    throw refuse(`both ${from} and ${to} are writable already: resolve the split brain by hand first`);
  }
  if (f.lastSeenOld && (f.lastSeenOld.readOnly || f.lastSeenOld.replication)) throw refuse(notThePrimary(f.input, f.lastSeenOld, newDb));
  return newDb;
}

interface Assessed {
  oldDb: SiteDatabase;
  newDb: SiteDatabase;
  /** The group's other sites (neither the old primary nor the candidate). */
  others: SiteDatabase[];
}

/** Runs from before the group-wide assess: the two named sites. */
async function assessPair(f: Failover): Promise<Assessed> {
  const { from, to } = f.input;
  return f.run.progress.run('assess', async (s) => {
    const [oldDb, newDb] = await Promise.all([inspectSite(f.run.plan, from), inspectSite(f.run.plan, to)]);
    s.detail = { [from]: summarise(oldDb), [to]: summarise(newDb) };
    return { oldDb, newDb, others: [] };
  });
}

/** Every site of the group; the candidate is chosen when the input names none, and the run goes on with it as `to`. */
async function assessAll(f: Failover): Promise<Assessed> {
  const { run } = f;
  const found = await assessGroup(run.plan, run.progress, f.input, knownByDetection(f.input));
  f.input = { ...f.input, to: found.to };
  run.report.input = f.input;
  f.ahead = found.ahead;
  run.report.candidate = { ...found.candidate, peersAhead: found.ahead };
  for (const [site, db] of found.replicas) if (!isAvailable(db) && db.unavailable === 'unreachable') f.unreachable.add(site);
  const others = [...found.replicas].filter(([site]) => site !== found.to).map(([, db]) => db);
  if (f.ahead.length && f.input.mode === 'planned') {
    run.progress.note(`${aheadText(f.ahead)}; a planned switchover waits for the old primary's whole set instead`);
    f.ahead = [];
  }
  return { oldDb: found.oldDb, newDb: found.newDb, others };
}

/** A quorum found the old primary's database down: asking again would only cost its retries (or, silent, a schedule-to-start timeout). */
function knownByDetection(input: FailoverInput): Map<string, SiteDatabase> {
  const d = input.detected;
  if (!d) return new Map();
  const why = `confirmed down by a quorum of vantage points (${d.incident})`;
  return new Map([
    [input.from, d.suspectSilent ? { unavailable: 'unreachable', why: `unreachable: its agent went silent; ${why}` } : { unavailable: 'down', why }],
  ]);
}

const aheadText = (ahead: PeerAhead[]): string =>
  ahead.map((p) => `${p.site} holds ${p.count} transaction(s) the candidate lacks (${p.missing.join(', ')})`).join('; ');

/** 2. The loss budget, then the approval policy. A rejection changes nothing. */
async function gate(f: Failover, candidate: DatabaseState): Promise<ApprovalOutcome> {
  const { run, input } = f;
  const lagSeconds = candidate.replication?.secondsBehind ?? null;
  const gap = f.lastSeenOld ? subtractGtids(candidate.dialect, f.lastSeenOld.gtidExecuted, candidate.gtidExecuted) : null;
  // With detection, the heartbeat bounds the loss even when the primary is gone (and its lag is NULL).
  const heartbeatAgeSeconds = run.plan.detection ? (candidate.heartbeatAgeSeconds ?? null) : null;
  const estimatedLossSeconds = input.mode === 'planned' ? 0 : (heartbeatAgeSeconds ?? lagSeconds);
  const lossOverBudget = estimatedLossSeconds !== null && estimatedLossSeconds > run.plan.objectives.rpoSeconds;
  const request = gateRequest(run.plan, input, {
    lagSeconds,
    gap: gap && { count: countGtids(gap), ranges: formatRanges(candidate.dialect, gap) },
    estimatedLossSeconds,
    lossOverBudget,
    candidate: run.report.candidate,
    others: f.groupWide ? groupSites(f).filter((s) => s !== input.from && s !== input.to) : [],
    heartbeatAgeSeconds,
  });
  const preApproved = input.acceptLoss ? { by: input.requestedBy, reason: input.reason, acceptLoss: true } : undefined;
  // A site failover judged every group's loss budget at its own gate.
  const decided = workflowInfo().parent && (!lossOverBudget || input.siteRun) ? input.approvedByParent : undefined;
  // An automatic failover over the RPO budget waits for a person instead of being refused.
  const policy = input.detected?.policy === 'auto' ? (lossOverBudget ? 'manual' : 'auto') : undefined;
  const quorum = input.mode === 'unplanned' ? (['unplanned'] as const) : [];
  const approval = await run.progress.run('gate', () => run.gate.request(request, preApproved, { decided, policy, quorum: [...quorum] }));
  run.report.approval = approval;
  if (approval.decision === 'rejected') {
    run.report.outcome = 'rejected';
    run.progress.note(`rejected by ${approval.by}: ${approval.reason}`);
    run.skipAll(FAILOVER_STEPS.slice(FAILOVER_STEPS.indexOf('scale'), FAILOVER_STEPS.indexOf('notify')), 'rejected at the gate');
    if (lossOverBudget && approval.how === 'auto') {
      run.report.error = `${approval.reason}. Nothing was changed. To accept the loss, an approver (${run.plan.approval.approvers.join(', ') || 'none configured'}) must start the failover with acceptLoss: true.`;
    }
  }
  return approval;
}

/** 3. The new site at production size first: it does not touch writes, and it shortens the outage. */
async function scale(f: Failover): Promise<void> {
  const { run, input } = f;
  if (services(f).length === 0) return run.progress.skip('scale', 'skipped: no services configured');
  if (sharedBySite(f, 'scale')) return run.progress.skip('scale', sharedBySite(f, 'scale')!);
  const site = siteActivities(run.plan, input.to, scaling(run.plan));
  const timeoutMs = run.plan.timeouts.scaleReadyMs;
  const undo = `scale ${input.to} back`;
  const scaled = await run.progress.run(
    'scale',
    async () => {
      if (f.undoFirst) {
        // The undo works from a snapshot taken before the first attempt, so a scale-up cut short is undone too.
        const previous = await siteActivities(run.plan, input.to).readScale({ group: input.group });
        f.undo.add(undo, () => site.restoreScale({ group: input.group, previous, timeoutMs }));
      }
      return site.scaleServices({ group: input.group, profile: 'production', timeoutMs });
    },
    (r) => ({ ...r }),
  );
  if (!f.undoFirst) f.undo.add(undo, () => site.restoreScale({ group: input.group, previous: scaled.previous, timeoutMs }));
}

/** 4. Fence the old primary, or queue a fence that runs the moment its site returns; then its ProxySQL writer everywhere. */
async function fence(f: Failover): Promise<void> {
  const { run, input, undo } = f;
  const { from, to } = input;
  await run.progress.run('fence', async (s) => {
    if (f.lastSeenOld) {
      const oldSite = siteActivities(run.plan, from);
      const wasWritable = !f.lastSeenOld.readOnly;
      if (f.undoFirst) undo.add(`unfence ${from}`, () => oldSite.unfenceDatabase({ wasWritable }));
      const fenced = await oldSite.fenceDatabase();
      f.oldFence = fenced;
      if (!f.undoFirst) undo.add(`unfence ${from}`, () => oldSite.unfenceDatabase({ wasWritable: fenced.wasWritable }));
      s.detail = { database: fenced };
    } else {
      const group = ownGroup(run.plan, input.group);
      s.detail = { database: await queueFenceOnReturn(from, to, group) };
      undo.add(`cancel the queued fence of ${from}`, () => cancelFenceOnReturn(from, group));
    }
    const [results, haproxy] = await Promise.all([
      proxysqlEverywhere(run.plan, f.unreachable, async (site) => {
        const proxysql = siteActivities(run.plan, site);
        if (f.undoFirst) {
          const before = await proxysql.proxysqlRead();
          if (before) undo.add(`restore ProxySQL in ${site}`, () => proxysql.proxysqlRestore({ rows: before }));
        }
        return proxysql.proxysqlFenceWriter({ primary: from });
      }),
      f.haproxy ? fenceHaproxyEverywhere(run.plan, f.unreachable, undo, from) : null,
    ]);
    for (const r of results) {
      if (r.result && !f.undoFirst)
        undo.add(`restore ProxySQL in ${r.site}`, () => siteActivities(run.plan, r.site).proxysqlRestore({ rows: r.result!.configBefore }));
    }
    s.detail = { ...s.detail, proxysql: proxysqlRecord(results), ...(haproxy && { haproxy: haproxyRecord(haproxy) }) };
  });
}

/** 5. Planned: wait for the fenced primary's exact GTID set (zero loss). Unplanned: apply what was received. */
async function catchUp(f: Failover): Promise<void> {
  const { run, input } = f;
  const timeoutMs = run.plan.timeouts.catchUpMs;
  const site = siteActivities(run.plan, input.to, longStep(run.plan, timeoutMs));
  const caught = await run.progress.run('catch up', async (s) => {
    const own =
      input.mode === 'planned' ? await site.waitForGtids({ gtids: f.oldFence!.gtidExecuted, timeoutMs }) : await site.applyRetrieved({ timeoutMs });
    s.detail = { ...own };
    return f.ahead.length ? catchUpFromPeers(f, s) : own;
  });
  run.progress.note(`${input.to} executed ${caught.executed}`);
}

/**
 * Never promote behind a reachable peer: each replica ahead of the candidate applies what it received, then the
 * candidate replicates from it until it has those transactions, and stops. Undone by pointing it back.
 */
async function catchUpFromPeers(f: Failover, s: StepRecord): Promise<{ executed: string }> {
  const { run, input } = f;
  const timeoutMs = run.plan.timeouts.catchUpMs;
  const candidate = siteActivities(run.plan, input.to, longStep(run.plan, timeoutMs));
  f.undo.add(`point ${input.to} back at ${input.from}`, () => candidate.replicateFrom({ source: input.from, slavePos: null }));
  const peers: Array<Record<string, unknown>> = [];
  let executed = '';
  for (const peer of f.ahead) {
    run.progress.note(`${aheadText([peer])}: catching ${input.to} up from ${peer.site} first`);
    const applied = await siteActivities(run.plan, peer.site, longStep(run.plan, timeoutMs)).applyRetrieved({ timeoutMs });
    const caught = await candidate.catchUpFromPeer({ peer: peer.site, gtids: peer.target, timeoutMs });
    peers.push({ ...caught, missing: peer.missing, peerExecuted: applied.executed });
    executed = caught.executed;
  }
  s.detail = { ...s.detail, fromPeers: peers };
  return { executed };
}

/** 6. DNS while the change is still cheap to undo: UPSERT, then wait for INSYNC. */
async function pointDns(f: Failover): Promise<void> {
  const { run, input } = f;
  if (run.plan.dnsRecords.length === 0) return run.progress.skip('dns', 'skipped: no DNS records configured');
  const site = siteActivities(run.plan, input.to);
  const insyncMs = run.plan.timeouts.dnsInsyncMs;
  const change = await run.progress.run('dns', async (s) => {
    if (f.undoFirst) {
      const before = await site.dnsRead();
      f.undo.add('restore DNS records', () => site.dnsRestore({ records: before.map((r) => ({ name: r.name, type: r.type, previous: r.current })) }));
    }
    const c = await site.dnsPointAt({ site: input.to, comment: `failover ${workflowInfo().workflowId}: ${input.reason}` });
    s.detail = { changeId: c.changeId, records: c.records };
    if (!f.undoFirst) f.undo.add('restore DNS records', () => site.dnsRestore({ records: c.records }));
    const insync = await siteActivities(run.plan, input.to, longStep(run.plan, insyncMs)).dnsWaitInsync({
      changeId: c.changeId,
      timeoutMs: insyncMs,
    });
    s.detail = { ...s.detail, insync };
    return c;
  });
  run.progress.note(`DNS change ${change.changeId} is INSYNC`);
}

/** 8b. DNS in sync (waited for beside the pause). After the point of no return a failed wait goes to an operator. */
async function dnsInSync(f: Failover): Promise<void> {
  const { run, input, dns } = f;
  if (!dns) return;
  try {
    await dns.done;
    run.progress.note(`DNS change ${dns.changeId()} is INSYNC`);
  } catch {
    const changeId = dns.changeId();
    if (changeId)
      await f.desk.rollForward(
        'dns',
        () => waitInsync(run.plan, input.to, changeId, { unreachableSites: [...f.unreachable] }),
        (insync) => ({ insync }),
      );
  }
}

/** 6b. Unplanned with detection: never promote while the old primary may still hold its lease (and take writes). */
async function leaseLost(f: Failover): Promise<void> {
  const { run, input } = f;
  if (input.mode === 'planned') return run.progress.skip('lease', 'skipped: a planned switchover fenced the old primary itself');
  if (!run.plan.detection) return run.progress.skip('lease', 'skipped: detection is off, so no lease is held');
  if (!patched('failover-lease')) return run.progress.skip('lease', 'skipped: the run started before this step existed');
  await waitForLeaseLoss(run.plan, run.progress, input, f.unreachable);
}

/** Before the point of no return: a refusal is reported as such; anything else undoes every step done, newest first. */
async function compensate(f: Failover, err: unknown): Promise<never> {
  const { run, undo } = f;
  if (isRefusal(err)) {
    run.report.outcome = 'rejected';
    run.report.error = err.message;
    await finish(f);
    throw err;
  }
  run.report.error = errorText(err);
  run.progress.note(`failed before the point of no return: ${run.report.error}; undoing ${undo.size} step(s)`);
  const r = await undo.runAll();
  run.report.outcome = 'compensated';
  run.progress.view.status = 'compensated';
  await finish(f);
  throw ApplicationFailure.nonRetryable(
    `failover aborted before the point of no return: ${run.report.error}. Undone: ${r.undone.join(', ') || 'nothing to undo'}` +
      (r.failed.length ? `. NOT undone: ${r.failed.map((x) => `${x.name} (${x.error})`).join('; ')}` : ''),
    'Compensated',
  );
}

/** 7. The point of no return: stop replication, reset, open for writes. Records the RPO. */
async function promote(f: Failover): Promise<void> {
  const { run, input } = f;
  // STOP REPLICA on a multi-threaded applier waits for its group to finish (60 s when the source died
  // mid-transaction): bounded like a catch-up and kept alive by heartbeats, not by the short-step limit.
  const bound = patched('promote-long-step') ? longStep(run.plan, run.plan.timeouts.catchUpMs) : {};
  const promoted: PromoteResult | undefined = await f.desk.rollForward(
    'promote',
    () => siteActivities(run.plan, input.to, bound).promoteDatabase(),
    (r) => ({ ...r }),
  );
  run.report.pointOfNoReturn = { reached: true, at: new Date().toISOString(), step: 'promote' };
  if (!promoted) return;
  run.report.rpo.lagSecondsAtPromotion = promoted.lagSecondsAtPromotion;
  run.report.rpo.gtidAtPromotion = promoted.gtidAtPromotion;
  run.report.rpo.lost = lostTransactions(input.mode, f.oldFence, promoted, f.lastSeenOld);
  if (!f.oldFence) await tellFenceOnReturn(input.from, promoted, ownGroup(run.plan, input.group));
}

/** 8. Every reachable ProxySQL sends writes to the new primary. */
async function route(f: Failover): Promise<void> {
  const { run, input } = f;
  await f.desk.rollForward(
    'route',
    async () => {
      const [results, haproxy] = await Promise.all([
        proxysqlEverywhere(run.plan, f.unreachable, (site) =>
          siteActivities(run.plan, site).proxysqlRouteWriter({ newPrimary: input.to, oldPrimary: input.from }),
        ),
        f.haproxy ? routeHaproxyEverywhere(run.plan, f.unreachable, input.to, input.from) : null,
      ]);
      return { results, haproxy };
    },
    ({ results, haproxy }) => ({ proxysql: proxysqlRecord(results), ...(haproxy && { haproxy: haproxyRecord(haproxy) }) }),
  );
}

/** 9. A probe write on the new primary: the service is back, which ends the RTO. */
async function verify(f: Failover): Promise<void> {
  const { run, input } = f;
  const probe = await f.desk.rollForward(
    'verify',
    () => siteActivities(run.plan, input.to).writeProbe({ runbook: workflowInfo().workflowId }),
    (r) => ({ ...r }),
  );
  run.report.rtoMs = probe ? Date.now() - f.t0 : null;
}

/**
 * 10. The postcondition: of the group's reachable servers exactly one is writable, the new primary. Anything
 *     may have re-opened the old one meanwhile (a DBA, a restart script, a my.cnf): it is fenced again, and
 *     the outcome says so. One that stays writable puts the run in needs-operator, never in completed.
 */
async function oneWriter(f: Failover): Promise<void> {
  const { run, input } = f;
  // patched: failovers that started before this step replay without it.
  if (!patched('failover-one-writer')) return run.progress.skip('one writer', 'skipped: the run started before this step existed');
  const others = run.plan.groups.find((g) => g.id === input.group)!.sites.filter((s) => s !== input.to && !f.unreachable.has(s));
  const checked = await f.desk.rollForward(
    'one writer',
    async () => {
      const seen = await Promise.all(others.map(async (site) => ({ site, db: await inspectSite(run.plan, site) })));
      const writable = seen.filter((x) => isAvailable(x.db) && !x.db.readOnly).map((x) => x.site);
      for (const site of writable) await fenceAgain(f, site);
      return {
        checked: seen.map((x) => ({ site: x.site, state: isAvailable(x.db) ? (x.db.readOnly ? 'read-only' : 'writable') : x.db.why })),
        refenced: writable,
      };
    },
    (r) => ({ ...r }),
  );
  if (checked?.refenced.length) run.report.refenced = checked.refenced;
}

/**
 * 11. Every other replica of the group follows the new primary (after verify: it adds nothing to the RTO);
 *     one that is away is re-pointed when it returns. Then the semi-sync roles follow the primary.
 */
async function repointOthers(f: Failover): Promise<void> {
  const { run, input } = f;
  if (!f.groupWide) {
    run.progress.skip('repoint', 'skipped: the run started before this step existed');
    return run.progress.skip('semi-sync', 'skipped: the run started before this step existed');
  }
  const others = groupSites(f).filter((s) => s !== input.to && s !== input.from);
  const replicas = await run.progress.run(
    'repoint',
    () =>
      Promise.all(
        others.map((site) =>
          f.unreachable.has(site) ? queueRepointOnReturn(input.group, site, input.to, ownGroup(run.plan, input.group)) : repointOne(f, site),
        ),
      ),
    (r) => ({ replicas: r }),
  );
  run.report.replicas = replicas;
  for (const r of replicas) if (r.outcome === 'unreachable') f.unreachable.add(r.site);
  const reachable = groupSites(f).filter((s) => !f.unreachable.has(s));
  const followers = replicas.filter((r) => r.outcome === 'replicates').map((r) => r.site);
  run.report.semiSync = await applySemiSyncRoles(run.plan, run.progress, { group: input.group, primary: input.to, followers, reachable });
}

async function repointOne(f: Failover, site: string): Promise<ReplicaOutcome> {
  const { run, input } = f;
  const limits = { maxLagSeconds: run.plan.failback?.maxLagSeconds ?? 5, timeoutMs: run.plan.timeouts.catchUpMs };
  const replica = siteActivities(run.plan, site);
  const waiting = siteActivities(run.plan, site, longStep(run.plan, limits.timeoutMs));
  try {
    return await repointReplica(site, input.to, replica, siteActivities(run.plan, input.to), () => waiting.waitReplicaCaughtUp(limits));
  } catch (err) {
    if (isUnreachable(err)) return queueRepointOnReturn(input.group, site, input.to, ownGroup(run.plan, input.group));
    return { site, outcome: 'failed', source: null, lagSeconds: null, why: errorText(err) };
  }
}

async function fenceAgain(f: Failover, site: string): Promise<void> {
  const { run } = f;
  run.progress.note(`${site} was writable again after ${f.input.to} took over: fencing it again`);
  const old = siteActivities(run.plan, site);
  await old.fenceSite({ primary: site });
  await proxysqlEverywhere(run.plan, f.unreachable, (other) => siteActivities(run.plan, other).proxysqlFenceWriter({ primary: site }));
  if (f.haproxy) await fenceHaproxyEverywhere(run.plan, f.unreachable, new Compensations(run.progress), site);
  if (!(await old.inspectDatabase()).readOnly)
    throw new Error(`${site} is still writable after its fence: two servers take writes; fence ${site} by hand`);
}

/** 12. The old primary is now the DR site: standby size, after the service is back so it adds nothing to RTO. */
async function standby(f: Failover): Promise<void> {
  const { run, input } = f;
  if (services(f).length === 0) return run.progress.skip('standby', 'skipped: no services configured');
  if (sharedBySite(f, 'standby')) return run.progress.skip('standby', sharedBySite(f, 'standby')!);
  if (input.mode !== 'planned') return run.progress.skip('standby', `skipped: ${input.from} was lost; the failback runbook sizes it`);
  const site = siteActivities(run.plan, input.from, scaling(run.plan));
  await f.desk.rollForward(
    'standby',
    () => site.scaleServices({ group: input.group, profile: 'standby', timeoutMs: run.plan.timeouts.scaleReadyMs }),
    (r) => ({ ...r }),
  );
}

async function finish(f: Failover): Promise<FailoverReport> {
  const { run } = f;
  const report = run.report;
  const skippedByOperator = run.progress.view.steps.some((s) => s.state === 'skipped' && String(s.detail?.skipped ?? '').startsWith('skipped by'));
  if (report.outcome === 'completed' && skippedByOperator) report.outcome = 'completed-with-skips';
  if (report.outcome === 'completed' && report.refenced?.length) report.outcome = 'completed-with-refence';
  const status = report.outcome === 'rejected' ? 'failed' : report.outcome === 'compensated' ? undefined : 'completed';
  return run.finish(sharedBySite(f, 'notify') ? { skipped: sharedBySite(f, 'notify')! } : noticeOf(report), status);
}

/** Why a step is skipped when the site failover that started this run did it once for every group; else undefined. */
function sharedBySite(f: Failover, step: SharedStep): string | undefined {
  const site = f.input.siteRun;
  return site?.shared.includes(step) ? `skipped: done once for every group by the site failover ${site.workflowId}` : undefined;
}

/** A planned switchover or failover must start from the primary: a read-only or replicating server is not one. */
function notThePrimary(input: FailoverInput, from: DatabaseState, to: DatabaseState): string {
  const what = [
    from.readOnly ? 'read-only' : null,
    from.replication ? `replicates from ${from.replication.sourceHost}:${from.replication.sourcePort}` : null,
  ];
  const primary = to.readOnly ? `neither ${input.from} nor ${input.to} is writable` : `${input.to} is the writable server`;
  return `${input.from} is not the primary: it ${what
    .filter(Boolean)
    .join(' and ')
    .replace(/^read-only/, 'is read-only')}; ${primary}; nothing was changed`;
}

function checkInput(plan: Plan, input: FailoverInput): void {
  const shape = '{ group, from, to?, mode, reason, requestedBy }';
  checkGroupSites(plan, input, shape, input?.to === undefined ? ['from'] : ['from', 'to']);
  if (input.from === input.to) throw badInput(`input.to: '${input.to}' is also the site to fail over from`);
  if (input.mode !== 'planned' && input.mode !== 'unplanned') throw badInput(`input.mode: must be 'planned' or 'unplanned', not '${input.mode}'`);
  if (input.to === undefined && input.mode === 'planned')
    throw badInput('input.to: a planned switchover needs the site to switch over to; only an unplanned failover may leave it to the runbook');
  if (!input.requestedBy) throw badInput('input.requestedBy: who asks for this failover is required');
  approverOnly(plan, 'acceptLoss', input.acceptLoss, input.requestedBy, 'accept a loss over the RPO budget');
}

const services = (f: Failover): string[] => f.run.plan.groups.find((g) => g.id === f.input.group)!.services;

const groupSites = (f: Failover): string[] => f.run.plan.groups.find((g) => g.id === f.input.group)!.sites;

const scaling = (plan: Plan) => longStep(plan, plan.timeouts.scaleReadyMs);
