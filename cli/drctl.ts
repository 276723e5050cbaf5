// drctl: the operator's CLI over the Temporal client. `drctl --help` prints the usage below.
// Every refusal says what is wrong in one line and exits non-zero: 2 for bad input, 3 for a refused or failed
// run, a run that does not exist or has ended; 1 for anything unexpected (one line too, never a stack).
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { ConfigError, EXIT_BAD_INPUT, loadNamedConfig, siteById, type LoadedConfig } from '../config/load';
import type { FailbackInput, FailbackReport } from '../workflows/failback';
import type { FileSyncInput, FileSyncReport, RestoreFilesReport } from '../workflows/file-sync';
import type { FailoverInput, FailoverReport } from '../workflows/failover';
import { errorText } from '../domain/errors';
import { controlTaskQueue, drillWorkflowId, failbackWorkflowId, failoverWorkflowId, siteFailoverWorkflowId } from '../domain/runs';
import type { SiteFailoverInput, SiteFailoverReport } from '../workflows/site-failover';
import { DRILL_SCENARIOS, type DrillInput } from '../domain/drill';
import type { DrillReport } from '../workflows/drill';
import type { ProgressView } from '../domain/steps';
import { temporalAccess } from '../activities/temporal-access';
import { KeyError } from '../activities/ssh-keys';
import { SecretError } from '../activities/secrets';
import { CodecError } from '../activities/payload-codec';
import { renderPreflight } from './render';
import { CONTROLS, controlArgument, signedControl, SignError } from './sign';
import { briefly, isTransient, TemporalLink, Unreachable } from './reconnect';

const EXIT_REFUSED = 3;

export const USAGE = `usage: drctl COMMAND [--config FILE]   (config: --config, else $DR_CONFIG, else ./dr.yaml)

  start preflight [--group G] [--json]
  start failover --from SITE --to SITE --reason TEXT --by NAME [--group G] [--mode planned|unplanned]
                 [--accept-loss] [--no-wait]   (unplanned: without --to, the most advanced reachable replica)
  start site-failover --site SITE --to SITE --reason TEXT --by NAME [--mode planned|unplanned] [--accept-loss]
                 [--no-wait]   (every group whose primary is in SITE, one gate; unplanned: without --to, the
                 site most groups' best candidates are in)
  start failback --returning SITE --current SITE --reason TEXT --by NAME [--group G] [--discard-errant]
                 [--no-wait]
  start file-sync --site SITE [--kind incremental|full] [--max-delete-share 0..1] [--no-wait]
  start restore-files --to SITE [--no-wait]
  start drill --scenario power-loss|isolation|city-loss|switchover-round-trip --reason TEXT --by NAME
              [--site SITE] [--group G] [--recovery runbook|detection] [--override-window] [--no-wait]
              (--override-window: outside the drill window, --by must be an approver)
  abort ID --by NAME --reason TEXT [--key REF]   (a drill: stops the scenario, then it cleans up)
  acknowledge ID --by NAME --reason TEXT [--key REF]   (an incident: re-arms automatic failover after one ran)
  approve|reject ID --by NAME --reason TEXT [--accept-loss] [--key REF]
  retry-step|skip-step ID --by NAME --reason TEXT [--key REF]
  sign approve|reject|retry-step|skip-step|abort|acknowledge ID --by NAME --reason TEXT [--accept-loss] [--key REF]
       (prints the signed argument for the Temporal UI's signal form or temporal workflow signal --input)
  status ID [--json]
  report ID

Without --no-wait, start follows the run step by step and prints a summary; the exit code is 0 only when
the run completed. Decisions are signed with the approver's Ed25519 key when one is configured for --by:
from --key or $DRCTL_KEY (file:PATH of an OpenSSH private key, or env:NAME), else from ssh-agent. --group defaults to the config's first group.`;

class Refusal extends Error {
  constructor(
    message: string,
    readonly code = EXIT_REFUSED,
  ) {
    super(message);
  }
}

async function main(argv: string[]): Promise<void> {
  if (argv.some((a) => a === '--help' || a === '-h') || argv[0] === 'help') return void console.log(USAGE);
  const { values: o, positionals } = parsed(joinedValues(argv));
  const [cmd, arg] = positionals;
  const loaded = loadNamedConfig(o.config);
  // Connected only once the arguments are known to be good, so bad input is refused even with no server.
  // A run followed by `start` rides out a Temporal restart in follow(), so the SDK's own retries are kept short.
  const following = cmd === 'start' && arg !== 'preflight' && !o['no-wait'];
  const link = new TemporalLink(() => temporalAccess(loaded), loaded.config.temporal.address, following ? 4 : undefined);
  try {
    switch (cmd) {
      case 'start':
        if (arg === 'failover') return await startFailover(link, loaded, o);
        if (arg === 'site-failover') return await startSiteFailover(link, loaded, o);
        if (arg === 'failback') return await startFailback(link, loaded, o);
        if (arg === 'file-sync') return await startFileSync(link, loaded, o);
        if (arg === 'restore-files') return await startRestoreFiles(link, loaded, o);
        if (arg === 'drill') return await startDrill(link, loaded, o);
        if (arg === 'preflight') {
          const r = await (
            await link.client()
          ).workflow.execute('preflight', { taskQueue: controlTaskQueue, workflowId: `preflight-${stamp()}`, args: [{ group: o.group }] });
          console.log(o.json ? JSON.stringify(r, null, 2) : renderPreflight(r as never));
          return;
        }
        throw new Refusal(`start what? one of ${RUNBOOKS.join(', ')} (got '${arg ?? ''}'); see drctl --help`, EXIT_BAD_INPUT);
      case 'approve':
      case 'reject':
      case 'retry-step':
      case 'skip-step':
      case 'abort':
      case 'acknowledge': {
        // The run's own Update validator refuses a stranger, an unsigned decision where signatures are required,
        // or a run that waits for no such decision, at once; the run then verifies the signature.
        const [id, by, reason] = [need(arg, 'workflow id'), need(o.by, '--by'), need(o.reason, '--reason')];
        const client = await link.client();
        const handle = await runningRun(client, id, cmd);
        const argument = await signing(cmd, () => controlArgument(loaded, handle, cmd, { by, reason, acceptLoss: o['accept-loss'] }, o.key));
        return await updateRun(client, id, cmd, CONTROLS[cmd].update, argument);
      }
      case 'sign': {
        // For the Temporal UI's signal form or `temporal workflow signal --input`: the argument, signed.
        const [verb, id] = [positionals[1] as keyof typeof CONTROLS, need(positionals[2], 'workflow id')];
        if (!CONTROLS[verb]) throw new Refusal(`sign what? one of ${Object.keys(CONTROLS).join(', ')} (got '${verb ?? ''}')`, EXIT_BAD_INPUT);
        const [by, reason] = [need(o.by, '--by'), need(o.reason, '--reason')];
        const handle = await runningRun(await link.client(), id, verb);
        const signed = await signing(verb, () => signedControl(loaded, handle, verb, { by, reason, acceptLoss: o['accept-loss'] }, o.key));
        if (!signed)
          throw new Refusal(`nothing to sign with for ${by}: give --key file:PATH, set DRCTL_KEY, or add the key to ssh-agent`, EXIT_BAD_INPUT);
        console.log(JSON.stringify({ signed }));
        console.error(
          `signal it: temporal workflow signal --workflow-id ${id} --name ${CONTROLS[verb].signal} --input '${JSON.stringify({ signed })}'`,
        );
        return;
      }
      case 'status':
        return await status(await link.client(), need(arg, 'workflow id'), o.json);
      case 'report':
        return await report(await link.client(), need(arg, 'workflow id'));
      default:
        throw new Refusal(`${cmd ? `unknown command '${cmd}'` : 'no command'}\n${USAGE}`, EXIT_BAD_INPUT);
    }
  } catch (err) {
    if (err instanceof Refusal || err instanceof ConfigError || !isTransient(err)) throw err;
    throw new Error(`cannot reach Temporal at ${link.address}: ${briefly(err)}`);
  } finally {
    await link.drop();
  }
}

const RUNBOOKS = ['preflight', 'failover', 'site-failover', 'failback', 'file-sync', 'restore-files', 'drill'];

/** Flags whose value may start with a dash ('-0.5'), which parseArgs would read as an option. */
const NUMERIC_FLAGS = ['--max-delete-share'];

/** `--max-delete-share -0.5` becomes `--max-delete-share=-0.5`, so that the value reaches the range check. */
export function joinedValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    out.push(NUMERIC_FLAGS.includes(a) && i + 1 < argv.length ? `${a}=${argv[++i]}` : a);
  }
  return out;
}

function parsed(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string' },
        group: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        returning: { type: 'string' },
        current: { type: 'string' },
        'discard-errant': { type: 'boolean', default: false },
        mode: { type: 'string', default: 'planned' },
        reason: { type: 'string' },
        by: { type: 'string' },
        'accept-loss': { type: 'boolean', default: false },
        'no-wait': { type: 'boolean', default: false },
        site: { type: 'string' },
        kind: { type: 'string', default: 'incremental' },
        'max-delete-share': { type: 'string' },
        scenario: { type: 'string' },
        recovery: { type: 'string' },
        'override-window': { type: 'boolean', default: false },
        id: { type: 'string' },
        json: { type: 'boolean', default: false },
        key: { type: 'string' },
      },
    });
  } catch (err) {
    // An unknown or incomplete option, as node:util words it.
    throw new Refusal(`${(err as Error).message.split('. ')[0]}; see drctl --help`, EXIT_BAD_INPUT);
  }
}

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined || v === '') throw new Refusal(`${what} is required`, EXIT_BAD_INPUT);
  return v;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

type Options = Record<string, string | boolean | undefined>;

function knownGroup(loaded: LoadedConfig, o: Options): string {
  const group = (o.group as string | undefined) ?? loaded.config.groups[0]!.id;
  if (!loaded.config.groups.some((g) => g.id === group)) {
    throw new Refusal(
      `${loaded.file}: groups: unknown group '${group}' (known groups: ${loaded.config.groups.map((g) => g.id).join(', ')})`,
      EXIT_BAD_INPUT,
    );
  }
  return group;
}

function knownSites(loaded: LoadedConfig, o: Options, flags: string[]): void {
  for (const f of flags) {
    try {
      siteById(loaded, need(o[f] as string | undefined, `--${f}`));
    } catch (err) {
      if (err instanceof ConfigError) throw new Refusal(`--${f}: ${err.problems[0]}`, EXIT_BAD_INPUT);
      throw err;
    }
  }
}

async function startFailover(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const group = knownGroup(loaded, o);
  // An unplanned failover may leave the site to the runbook: the most advanced reachable replica.
  const chosen = o.to === undefined && o.mode === 'unplanned';
  knownSites(loaded, o, chosen ? ['from'] : ['from', 'to']);
  if (o.from === o.to) throw new Refusal(`--from and --to are both '${o.to}': a failover moves the writes to another site`, EXIT_BAD_INPUT);
  const input: FailoverInput = {
    group,
    from: o.from as string,
    to: o.to as string | undefined,
    mode: o.mode as FailoverInput['mode'],
    reason: need(o.reason as string | undefined, '--reason'),
    requestedBy: need(o.by as string | undefined, '--by'),
    acceptLoss: o['accept-loss'] === true ? true : undefined,
  };
  if (input.mode !== 'planned' && input.mode !== 'unplanned')
    throw new Refusal(`--mode must be planned or unplanned, not '${input.mode}'`, EXIT_BAD_INPUT);
  const workflowId = failoverWorkflowId(group);
  const to = input.to ?? 'the most advanced replica';
  const memo = { requestedBy: input.requestedBy, from: input.from, to, mode: input.mode };
  await start(link, loaded, 'failover', workflowId, input, memo, `${input.mode} failover of ${group} from ${input.from} to ${to}`);
  if (!o['no-wait']) await follow(link, workflowId, summary, outcomeCompleted);
}

async function startSiteFailover(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const chosen = o.to === undefined && o.mode === 'unplanned';
  knownSites(loaded, o, chosen ? ['site'] : ['site', 'to']);
  if (o.site === o.to) throw new Refusal(`--site and --to are both '${o.to}': a failover moves the writes to another site`, EXIT_BAD_INPUT);
  const input: SiteFailoverInput = {
    site: o.site as string,
    to: o.to as string | undefined,
    mode: (o.mode ?? 'planned') as SiteFailoverInput['mode'],
    reason: need(o.reason as string | undefined, '--reason'),
    requestedBy: need(o.by as string | undefined, '--by'),
    acceptLoss: o['accept-loss'] === true ? true : undefined,
  };
  if (input.mode !== 'planned' && input.mode !== 'unplanned')
    throw new Refusal(`--mode must be planned or unplanned, not '${input.mode}'`, EXIT_BAD_INPUT);
  const workflowId = siteFailoverWorkflowId(input.site);
  const to = input.to ?? 'the site most groups would choose';
  const memo = { requestedBy: input.requestedBy, from: input.site, to, mode: input.mode };
  await start(link, loaded, 'siteFailover', workflowId, input, memo, `${input.mode} failover of every group of ${input.site} to ${to}`);
  if (!o['no-wait']) await follow(link, workflowId, siteSummary, (r: SiteFailoverReport) => r.outcome === 'completed');
}

function siteSummary(r: SiteFailoverReport): string {
  const lines = [`outcome: ${r.outcome}`, `target: ${r.to ?? 'none'}`, `RTO: ${r.rtoMs ?? '-'} ms`];
  for (const g of r.groups) lines.push(`  ${g.group.padEnd(16)} ${g.outcome.padEnd(24)} RTO ${g.rtoMs ?? '-'} ms${g.error ? `  ${g.error}` : ''}`);
  for (const g of r.assessed.filter((x) => !x.included)) lines.push(`  ${g.group.padEnd(16)} ${'left alone'.padEnd(24)} ${g.why}`);
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.files) lines.push(`report: ${r.files.markdown}`);
  return lines.join('\n');
}

async function startFailback(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const group = knownGroup(loaded, o);
  knownSites(loaded, o, ['returning', 'current']);
  const input: FailbackInput = {
    group,
    returning: o.returning as string,
    current: o.current as string,
    reason: need(o.reason as string | undefined, '--reason'),
    requestedBy: need(o.by as string | undefined, '--by'),
    discardErrant: o['discard-errant'] === true ? true : undefined,
  };
  if (input.returning === input.current) throw new Refusal(`--returning and --current are both '${input.current}'`, EXIT_BAD_INPUT);
  const workflowId = failbackWorkflowId(group);
  const memo = { requestedBy: input.requestedBy, from: input.current, to: input.returning, mode: 'failback' };
  await start(link, loaded, 'failback', workflowId, input, memo, `failback of ${group} from ${input.current} to ${input.returning}`);
  if (!o['no-wait']) await follow(link, workflowId, failbackSummary, outcomeCompleted);
}

async function startDrill(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const group = knownGroup(loaded, o);
  if (o.site !== undefined) knownSites(loaded, o, ['site']);
  const scenario = need(o.scenario as string | undefined, '--scenario') as DrillInput['scenario'];
  if (!DRILL_SCENARIOS.includes(scenario))
    throw new Refusal(`--scenario must be one of ${DRILL_SCENARIOS.join(', ')}, not '${scenario}'`, EXIT_BAD_INPUT);
  const recovery = o.recovery as DrillInput['recovery'];
  if (recovery !== undefined && recovery !== 'runbook' && recovery !== 'detection')
    throw new Refusal(`--recovery must be runbook or detection, not '${recovery}'`, EXIT_BAD_INPUT);
  const [by, reason] = [need(o.by as string | undefined, '--by'), need(o.reason as string | undefined, '--reason')];
  const input: DrillInput = {
    group,
    scenario,
    reason,
    requestedBy: by,
    ...(o.site ? { site: o.site as string } : {}),
    ...(recovery ? { recovery } : {}),
    ...(o['override-window'] ? { windowOverride: { by, reason } } : {}),
  };
  const workflowId = drillWorkflowId(group);
  const memo = { requestedBy: by, from: String(o.site ?? 'the primary'), to: scenario, mode: 'drill' };
  await start(link, loaded, 'drill', workflowId, input, memo, `${scenario} drill of ${group}${o.site ? ` (${String(o.site)})` : ''}`);
  if (!o['no-wait']) await follow(link, workflowId, drillSummary, (r: DrillReport) => r.verdict === 'passed');
}

function drillSummary(r: DrillReport): string {
  const lines = [`verdict: ${r.verdict}`];
  if (r.verdict === 'refused') return [...lines, `why: ${r.error ?? r.approval?.reason ?? 'see the report'}`].join('\n');
  for (const v of r.verdicts) lines.push(`  ${v.verdict.padEnd(12)} ${v.name.padEnd(13)} ${v.measured} (target ${v.target})`);
  if (r.cleanup.drift.length) lines.push(`drift: ${r.cleanup.drift.map((x) => `${x.what}: ${x.baseline} → ${x.now}`).join('; ')}`);
  if (r.trend.regression) lines.push(`regression: ${r.trend.why}`);
  if (r.aborted) lines.push(`aborted by ${r.aborted.by}: ${r.aborted.reason}`);
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.files) lines.push(`report: ${r.files.html ?? r.files.markdown}`);
  return lines.join('\n');
}

/** A site with an rclone section, named by --FLAG. */
function syncSite(loaded: LoadedConfig, o: Options, flag: string): string {
  knownSites(loaded, o, [flag]);
  const site = o[flag] as string;
  const i = loaded.config.sites.findIndex((s) => s.id === site);
  if (!loaded.config.sites[i]!.rclone)
    throw new Refusal(`--${flag}: ${loaded.file}: sites[${i}].rclone: site '${site}' has no rclone section, so no file sync`, EXIT_BAD_INPUT);
  return site;
}

async function startFileSync(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const site = syncSite(loaded, o, 'site');
  const kind = o.kind as FileSyncInput['kind'];
  if (kind !== 'incremental' && kind !== 'full') throw new Refusal(`--kind must be incremental or full, not '${kind}'`, EXIT_BAD_INPUT);
  const share = deleteShare(o['max-delete-share'] as string | undefined);
  const input: FileSyncInput = { site, kind, ...(share !== undefined ? { maxDeleteShare: share } : {}) };
  const workflowId = `file-sync-${site}-${kind}-manual-${stamp()}`;
  await start(link, loaded, 'fileSync', workflowId, input, {}, `${kind} file sync of ${site}`);
  if (!o['no-wait']) await follow(link, workflowId, fileSyncSummary, outcomeCompleted, true);
}

/** --max-delete-share: a plain decimal number from 0 to 1 (Number() alone would take '' and '0x1'). */
function deleteShare(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const share = /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text.trim()) ? Number(text) : NaN;
  if (!(share >= 0 && share <= 1)) throw new Refusal(`--max-delete-share must be a number from 0 to 1, not '${text}'`, EXIT_BAD_INPUT);
  return share === 0 ? 0 : share; // '-0' is 0
}

async function startRestoreFiles(link: TemporalLink, loaded: LoadedConfig, o: Options): Promise<void> {
  const toSite = syncSite(loaded, o, 'to');
  const workflowId = `restore-files-${toSite}-${stamp()}`;
  await start(link, loaded, 'restoreFiles', workflowId, { toSite }, {}, `restore of the stored copy onto ${toSite}'s share`);
  const clean = (r: RestoreFilesReport) => r.paths.every((p) => p.differences.length === 0);
  if (!o['no-wait']) await follow(link, workflowId, restoreSummary, clean, true);
}

async function start(
  link: TemporalLink,
  loaded: LoadedConfig,
  runbook: string,
  workflowId: string,
  input: unknown,
  memo: Record<string, string>,
  what: string,
) {
  const client = await link.client();
  let handle;
  try {
    handle = await client.workflow.start(runbook, { taskQueue: controlTaskQueue, workflowId, args: [input], memo });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw new Refusal(await alreadyRunning(client, workflowId, runbook));
    throw err;
  }
  console.log(`started ${workflowId} (run ${handle.firstExecutionRunId}): ${what}`);
  const ui = loaded.config.temporal.ui;
  console.log(
    `watch: drctl status ${workflowId}${ui ? `   UI: ${ui.replace(/\/$/, '')}/namespaces/${loaded.config.temporal.namespace}/workflows/${workflowId}` : ''}`,
  );
}

/**
 * Prints each change of step until the run ends, and for file runs rclone's progress as heartbeated;
 * a run that did not succeed exits 3. A restart of Temporal is ridden out: each poll is retried on a new
 * connection for up to 60 s, and the run's real outcome is printed once the server is back.
 */
async function follow<R>(
  link: TemporalLink,
  workflowId: string,
  summarise: (r: R) => string,
  succeeded: (r: R) => boolean,
  heartbeats = false,
): Promise<void> {
  let [last, lastBeat, beatAt] = ['', '', 0];
  let away = false;
  const onRetry = (err: unknown) => {
    if (!away) console.error(`  (lost Temporal at ${link.address}: ${briefly(err)}; reconnecting for up to 60 s)`);
    away = true;
  };
  const call = <T>(fn: (handle: WorkflowHandle) => Promise<T>) => link.retrying((client) => fn(client.workflow.getHandle(workflowId)), onRetry);
  try {
    let described: WorkflowExecutionDescription;
    for (;;) {
      described = await call((handle) => handle.describe());
      if (away) console.error('  (reconnected)');
      away = false;
      if (described.status.name !== 'RUNNING') break;
      const progress = await progressOf(link.client(), workflowId, 3000);
      const line = progress && progressLine(progress);
      if (line && line !== last) console.log(`  ${line}`);
      last = line || last;
      if (heartbeats && Date.now() - beatAt >= 2000) {
        const beat = await heartbeatLine(await link.client(), described);
        if (beat && beat !== lastBeat) console.log(`    ${beat}`);
        [lastBeat, beatAt] = [beat, Date.now()];
      }
      await sleep(500);
    }
    let r: R;
    try {
      r = (await call((handle) => handle.result())) as R;
    } catch (err) {
      if (err instanceof WorkflowFailedError) throw new Refusal(`${workflowId} ${endedHow(described.status.name)}: ${errorText(err)}`);
      throw err;
    }
    console.log(summarise(r));
    if (!succeeded(r)) process.exitCode = EXIT_REFUSED;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new Refusal(`no such run: ${workflowId} (Temporal at ${link.address} no longer knows it)`);
    if (err instanceof Unreachable)
      throw new Error(
        `lost Temporal at ${link.address} for ${Math.round(err.forMs / 1000)} s while following ${workflowId} (${briefly(err.lastError)}); ` +
          `the run goes on without drctl: drctl status ${workflowId}`,
      );
    throw err;
  }
}

const endedHow = (status: string) =>
  ({ FAILED: 'failed', TERMINATED: 'was terminated', CANCELLED: 'was cancelled', TIMED_OUT: 'timed out' })[status] ?? `ended ${status}`;

/** The run's progress, or undefined when no worker answers within `waitMs` (the run is between tasks). */
async function progressOf(connected: Client | Promise<Client>, id: string, waitMs: number): Promise<ProgressView | undefined> {
  try {
    const client = await connected;
    return await client.withDeadline(Date.now() + waitMs, () => client.workflow.getHandle(id).query<ProgressView>('progress'));
  } catch {
    return undefined;
  }
}

/** completed, completed-with-skips (an operator skipped a step) and completed-with-refence (an old primary re-opened and was fenced again). */
const outcomeCompleted = (r: { outcome: string }) => r.outcome.startsWith('completed');

/** The running activities' last heartbeat (rclone's files, bytes, speed, ETA), as one line, decoded as the client decodes. */
async function heartbeatLine(client: Client, d: WorkflowExecutionDescription): Promise<string> {
  const { payloadCodecs, payloadConverter } = client.options.loadedDataConverter;
  const details = await Promise.all(
    (d.raw.pendingActivities ?? []).map(async (a) => {
      let p = a.heartbeatDetails?.payloads?.[0];
      for (const codec of [...payloadCodecs].reverse()) if (p) p = (await codec.decode([p]))[0];
      return p ? payloadConverter.fromPayload<Record<string, number | string | null>>(p) : undefined;
    }),
  );
  return details
    .map((h) => {
      if (!h) return '';
      if (h.totalFiles === undefined) return `${h.path}: ${h.phase ?? 'starting'}`;
      const m = (b: unknown) => (Number(b) / 1048576).toFixed(1);
      const eta = h.eta === null || h.eta === undefined ? '' : `, ETA ${h.eta} s`;
      return `${h.path}: ${h.files}/${h.totalFiles} files, ${m(h.bytes)}/${m(h.totalBytes)} MiB, ${m(h.speed)} MiB/s${eta}`;
    })
    .filter(Boolean)
    .join('; ');
}

export async function alreadyRunning(client: Client, workflowId: string, runbook = 'failover'): Promise<string> {
  const d = await client.workflow.getHandle(workflowId).describe();
  const memo = (d.memo ?? {}) as Record<string, string>;
  return (
    `refused: a ${runbook} for this group is already running: workflow ${workflowId} (run ${d.runId}), started ${d.startTime.toISOString()}` +
    (memo.requestedBy ? ` by ${memo.requestedBy} (${memo.mode} ${memo.from} → ${memo.to})` : '') +
    `. Watch it with: drctl status ${workflowId}`
  );
}

/** A key that cannot sign (missing, not the approver's, unreadable) is bad input: nothing was sent. */
async function signing<T>(verb: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SignError || err instanceof KeyError || err instanceof SecretError)
      throw new Refusal(`${verb} not sent: ${err.message}`, EXIT_BAD_INPUT);
    throw err;
  }
}

/** An Update that the run validates itself: its refusal comes back at once, with the run's own reason. */
async function updateRun(client: Client, id: string, verb: string, update: string, arg: object): Promise<void> {
  const handle = await runningRun(client, id, verb);
  try {
    console.log(await handle.executeUpdate(update, { args: [arg] }));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw new Refusal(`${verb} refused: ${errorText(err)}`);
    // It ended between the look and the update: say how.
    if (err instanceof WorkflowNotFoundError) await runningRun(client, id, verb);
    throw err;
  }
}

/** The run's description; a run Temporal does not know is refused with exit 3. */
async function describedRun(client: Client, handle: WorkflowHandle): Promise<WorkflowExecutionDescription> {
  try {
    return await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new Refusal(`no such run: ${handle.workflowId} (namespace ${client.options.namespace})`);
    throw err;
  }
}

/** A handle on a run that exists and is still running, or a refusal saying why there is nothing to `verb`. */
async function runningRun(client: Client, id: string, verb: string): Promise<WorkflowHandle> {
  const handle = client.workflow.getHandle(id);
  const described = await describedRun(client, handle);
  if (described.status.name !== 'RUNNING') throw new Refusal(`${await endedText(handle, described)}; nothing to ${verb.replace(/-step$/, '')}`);
  return handle;
}

/** "ID already completed (outcome rejected)", or how it ended otherwise. */
async function endedText(handle: WorkflowHandle, described: WorkflowExecutionDescription): Promise<string> {
  const at = described.closeTime ? ` at ${described.closeTime.toISOString()}` : '';
  if (described.status.name !== 'COMPLETED') return `${handle.workflowId} already ended (${described.status.name.toLowerCase()}${at})`;
  const result = (await handle.result().catch(() => undefined)) as { outcome?: unknown } | undefined;
  const outcome = typeof result?.outcome === 'string' ? `outcome ${result.outcome}` : 'no outcome recorded';
  return `${handle.workflowId} already completed (${outcome}${at})`;
}

async function status(client: Client, id: string, json: boolean | undefined): Promise<void> {
  const h = client.workflow.getHandle(id);
  const d = await describedRun(client, h);
  const p = await h.query<ProgressView>('progress');
  if (json) return void console.log(JSON.stringify({ status: d.status.name, progress: p }, null, 2));
  console.log(`${id}: ${p.runbook} ${p.status} (workflow ${d.status.name})`);
  for (const s of p.steps) {
    const t = s.durationMs !== undefined ? `${s.durationMs} ms` : '';
    const extra = s.error
      ? `  error: ${s.error}`
      : s.detail?.skipped
        ? `  ${String(s.detail.skipped)}`
        : s.name === 'gate' && s.detail?.summary
          ? `  ${String(s.detail.summary)}`
          : '';
    console.log(`  ${mark(s.state)} ${s.name.padEnd(22)} ${s.state.padEnd(8)} ${t.padStart(9)}${extra}`);
  }
  for (const n of p.notes.slice(-8)) console.log(`  · ${n}`);
  const beat = d.status.name === 'RUNNING' ? await heartbeatLine(client, d) : '';
  if (beat) console.log(`  now: ${beat}`);
}

async function report(client: Client, id: string): Promise<void> {
  const handle = client.workflow.getHandle(id);
  const described = await describedRun(client, handle);
  let r: { files?: { markdown: string } };
  try {
    r = (await handle.result()) as typeof r;
  } catch (err) {
    if (err instanceof WorkflowFailedError) throw new Refusal(`${id} ${endedHow(described.status.name)}, so no report: ${errorText(err)}`);
    throw err;
  }
  if (!r.files) throw new Refusal(`${id} has no report files`);
  console.log(readFileSync(r.files.markdown, 'utf8'));
  console.log(`(also ${r.files.markdown.replace(/\.md$/, '.json')})`);
}

const mark = (s: string) => ({ done: '✔', failed: '✘', running: '…', skipped: '-', waiting: '?', pending: ' ' })[s] ?? ' ';

function progressLine(p: ProgressView): string {
  const cur = p.steps.find((s) => s.state === 'running') ?? p.steps.filter((s) => s.state !== 'pending').at(-1);
  return `${p.status}: ${cur ? `${cur.name} ${cur.state}` : 'starting'}`;
}

function failbackSummary(r: FailbackReport): string {
  const lines = [`outcome: ${r.outcome}`];
  lines.push(
    `errant transactions: ${r.errant.count}${r.errant.export ? ` (exported to ${r.errant.export.file}, sha256 ${r.errant.export.sha256})` : ''}`,
  );
  lines.push(`re-seed: ${r.reseed.done ? 'done' : 'not needed'} (${r.reseed.why})`);
  if (r.switchover)
    lines.push(
      `switchover ${r.switchover.workflowId}: ${r.switchover.outcome}${r.switchover.rtoMs !== null ? `, RTO ${(r.switchover.rtoMs / 1000).toFixed(2)} s` : ''}`,
    );
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.files) lines.push(`report: ${r.files.markdown}`);
  return lines.join('\n');
}

const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

function fileSyncSummary(r: FileSyncReport): string {
  const lines = [`outcome: ${r.outcome}`];
  for (const p of r.paths) {
    const st = p.sync?.stats;
    // Not rclone's `deletes`: it also counts the moves into the backup dir, twice on S3.
    if (p.sync) {
      lines.push(
        `${p.path}: uploaded ${p.sync.uploadedFiles} file(s), ${mib(p.sync.uploadedBytes ?? 0)} in ${st?.elapsedTime?.toFixed(1) ?? '?'} s; ` +
          `source ${p.guard?.sourceFiles} file(s), store ${p.guard?.destFiles} before; what it replaced or deleted is kept in ${p.sync.backupDir}`,
      );
    }
    if (p.check) lines.push(`${p.path}: check: ${p.check.matching} matching, ${p.check.differences.length} difference(s)`);
    if (p.error) lines.push(`${p.path}: error: ${p.error}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

function restoreSummary(r: RestoreFilesReport): string {
  const lines = r.paths.map(
    (p) =>
      `${p.path}: ${p.files} file(s), ${mib(p.bytes)} in the store; copied ${p.copiedFiles} (${mib(p.copiedBytes)}); check: ${p.matching} matching, ${p.differences.length} difference(s)`,
  );
  lines.push(`total: ${r.totals.files} file(s), ${mib(r.totals.bytes)}; copied ${r.totals.copiedFiles} (${mib(r.totals.copiedBytes)})`);
  return lines.join('\n');
}

function summary(r: FailoverReport): string {
  const lines = [`outcome: ${r.outcome}`];
  if (r.rtoMs !== null) lines.push(`RTO: ${(r.rtoMs / 1000).toFixed(2)} s (objective ${r.objectives.rtoSeconds} s)`);
  if (r.pointOfNoReturn.reached)
    lines.push(`lost transactions: ${r.rpo.lost.known ? `${r.rpo.lost.count} ${r.rpo.lost.gtids.join(', ')}` : `unknown: ${r.rpo.lost.note}`}`);
  if (r.error) lines.push(`error: ${r.error}`);
  if (r.files) lines.push(`report: ${r.files.markdown}`);
  return lines.join('\n');
}

/** One line and an exit code for whatever ended drctl: refusals as they are, anything else as 1. */
export function exitFor(err: unknown): [string, number] {
  if (err instanceof Refusal) return [err.message, err.code];
  if (err instanceof ConfigError) return [err.message, EXIT_BAD_INPUT];
  // A key or certificate the config names but this machine does not have: the config's reference is named.
  if (err instanceof SecretError || err instanceof CodecError) return [`drctl: ${err.message}`, EXIT_BAD_INPUT];
  return [`drctl: ${errorText(err).split('\n')[0]}`, 1];
}

if (require.main === module) {
  const fail = (err: unknown) => {
    const [line, code] = exitFor(err);
    console.error(line);
    process.exit(code);
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  main(process.argv.slice(2)).catch(fail);
}
