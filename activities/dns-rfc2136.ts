// DNS on authoritative servers that take RFC 2136 dynamic updates signed with TSIG (BIND and the like): the
// same operations and result shapes as the Route 53 adapter (dns.ts), so a runbook can use either. Updates go
// to the primary through nsupdate; "in sync" is measured, not reported: every authoritative server, asked
// directly, answers the new value. The TSIG secret is a secret reference, resolved here into a key file of
// mode 0600 that lives only as long as one nsupdate, so it is never on a command line or in a message.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Rfc2136Config } from '../config/schema';
import { heartbeat } from './heartbeat';
import { resolveSecret } from './secrets';
import { ask, NoAnswerError, runDnsTool, serialAtLeast, zoneSerial, type DnsServerAddress } from './dns-query';
import {
  activityContext,
  pause,
  DnsError,
  type DnsConfig,
  type DnsRecordConfig,
  type InsyncResult,
  type PointedRecord,
  type PointResult,
  type RecordReading,
  type RecordState,
  type RecordType,
  type RestoreResult,
} from './dns';

/** When one authoritative server first answered the change. */
export interface ServerInsync {
  name: string;
  host: string;
  port: number;
  site?: string;
  /** The zone serial it served then. */
  serial: number;
  insyncAt: string;
  afterMs: number;
}

export interface Rfc2136InsyncResult extends InsyncResult {
  servers: ServerInsync[];
  /** Servers not waited for: they stand in a site the caller named unreachable. */
  skipped: Array<{ name: string; site: string }>;
}

/** What a site's clients get now: its resolver asked as a client asks it. */
export interface SiteResolution {
  site: string;
  resolver: DnsServerAddress;
  answeredAt: string;
  records: RecordReading[];
}

/** A record the wait expects every server to answer (PointResult.records has these fields). */
export type ExpectedRecord = Pick<PointedRecord, 'name' | 'type' | 'value'>;

const DEFAULT_INSYNC_TIMEOUT_MS = 120_000;
const FIRST_POLL_DELAY_MS = 100;
const MAX_POLL_DELAY_MS = 1_000;
const SECRET_FIELD = 'dns.rfc2136.tsig.secret';

/** One update replacing every configured record with its value for `site` (delete + add, with the TTL). */
export async function rfc2136PointAt(opts: { dns: DnsConfig; baseDir: string; site: string; comment?: string }): Promise<PointResult> {
  const { dns, site } = opts;
  rfc2136Of(dns);
  const wanted: DnsRecordConfig[] = [];
  const skipped: PointResult['skipped'] = [];
  for (const record of dns.records) {
    checkInZone(dns, record.name);
    if (record.values[site] === undefined) skipped.push({ name: record.name, type: record.type });
    else wanted.push(record);
  }
  if (wanted.length === 0) return { site, changeId: null, submittedAt: null, status: null, records: [], skipped };
  const records: PointedRecord[] = [];
  for (const record of wanted) {
    const value = record.values[site]!;
    const previous = await readOne(dns, record.name, record.type);
    const unchanged =
      previous !== null && previous.ttl === record.ttl && previous.values.length === 1 && sameValue(record.type, previous.values[0]!, value);
    records.push({ name: record.name, type: record.type, ttl: record.ttl, value, previous, unchanged });
  }
  // A retried activity finds its change made: nothing to send, and the serial now holds it.
  if (records.every((record) => record.unchanged)) {
    return { site, changeId: String(await primarySerial(dns)), submittedAt: null, status: 'unchanged', records, skipped };
  }
  const lines = records.flatMap((record) => replaceLines(record.name, record.type, record.ttl, [record.value]));
  const submittedAt = new Date().toISOString();
  await nsupdate(dns, opts.baseDir, lines, `point ${describeRecords(records)} at ${site}`);
  return { site, changeId: String(await primarySerial(dns)), submittedAt, status: 'NOERROR', records, skipped };
}

/**
 * Polls every server in dns.rfc2136.servers (100 ms, doubling to 1 s) until each serves the change: its zone
 * serial is the change's (`changeId`) or later and, when `records` are given, it answers each record's value.
 * Servers whose `site` is in `unreachableSites` are not waited for (a dead site's server would never answer).
 * After timeoutMs it throws naming the servers that answer old data and those that do not answer.
 */
export async function rfc2136WaitInsync(opts: {
  dns: DnsConfig;
  changeId: string;
  records?: ExpectedRecord[];
  unreachableSites?: string[];
  timeoutMs?: number;
}): Promise<Rfc2136InsyncResult> {
  const { dns, changeId } = opts;
  const unreachable = (server: Rfc2136Config['servers'][number]) => server.site !== undefined && (opts.unreachableSites ?? []).includes(server.site);
  const servers = rfc2136Of(dns).servers.filter((server) => !unreachable(server));
  const skipped = rfc2136Of(dns)
    .servers.filter(unreachable)
    .map((server) => ({ name: server.name, site: server.site! }));
  const serial = Number(changeId);
  if (!Number.isInteger(serial) || serial < 0) throw new DnsError(`dns.rfc2136: change id '${changeId}' is not a zone serial`);
  const expected = opts.records ?? [];
  for (const record of expected) checkInZone(dns, record.name);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_INSYNC_TIMEOUT_MS;
  const ctx = activityContext();
  const started = Date.now();
  const deadline = started + timeoutMs;
  const done: ServerInsync[] = [];
  let waiting = new Map<string, string>(servers.map((server) => [server.name, 'not asked yet']));
  let delay = FIRST_POLL_DELAY_MS;
  let polls = 0;
  for (;;) {
    polls++;
    const pending = servers.filter((server) => waiting.has(server.name));
    const probes = await Promise.all(pending.map(async (server) => ({ server, probe: await probe(dns, server, serial, expected) })));
    waiting = new Map();
    for (const { server, probe: result } of probes) {
      if ('behind' in result) waiting.set(server.name, result.behind);
      else done.push({ ...server, serial: result.serial, insyncAt: new Date().toISOString(), afterMs: Date.now() - started });
    }
    heartbeat({ changeId, polls, waitingFor: [...waiting.keys()] });
    if (waiting.size === 0) {
      const insync = servers.map((server) => done.find((d) => d.name === server.name)!);
      return { changeId, status: 'INSYNC', polls, elapsedMs: Date.now() - started, servers: insync, skipped };
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await pause(ctx, Math.min(delay, left));
    delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
  }
  const lagging = servers
    .filter((server) => waiting.has(server.name))
    .map((server) => `${server.name} (${server.host}:${server.port}) ${waiting.get(server.name)}`);
  const synced = done.length ? `; in sync: ${done.map((d) => d.name).join(', ')}` : '';
  throw new DnsError(
    `dns.rfc2136: change ${changeId} (a serial of zone ${fqdn(dns.zoneName)}) is not on every authoritative server after ${timeoutMs} ms (${polls} polls): ${lagging.join('; ')}${synced}`,
  );
}

/** The compensation: each record's previous values back (delete + add), or deleted where there was none. */
export async function rfc2136Restore(opts: {
  dns: DnsConfig;
  baseDir: string;
  records: Array<{ name: string; type: RecordType; previous: RecordState | null }>;
  comment?: string;
}): Promise<RestoreResult> {
  const { dns } = opts;
  rfc2136Of(dns);
  const lines: string[] = [];
  const done: RestoreResult['records'] = [];
  for (const record of opts.records) {
    checkInZone(dns, record.name);
    const { previous } = record;
    if (previous?.aliasTarget) throw new DnsError(`record ${record.name} ${record.type}: a Route 53 alias cannot be restored by an RFC 2136 update`);
    if (previous) {
      const ttl = previous.ttl ?? dns.records.find((r) => sameName(r.name, record.name) && r.type === record.type)?.ttl;
      if (ttl === undefined) throw new DnsError(`record ${record.name} ${record.type}: the previous state has no TTL to restore`);
      lines.push(...replaceLines(record.name, record.type, ttl, previous.values));
      done.push({ name: record.name, type: record.type, action: 'UPSERT' });
    } else if (await readOne(dns, record.name, record.type)) {
      lines.push(`update delete ${fqdn(record.name)} ${record.type}`);
      done.push({ name: record.name, type: record.type, action: 'DELETE' });
    } else {
      done.push({ name: record.name, type: record.type, action: 'none' });
    }
  }
  if (lines.length === 0) return { changeId: null, submittedAt: null, records: done };
  const submittedAt = new Date().toISOString();
  await nsupdate(dns, opts.baseDir, lines, `restore ${describeRecords(done.filter((d) => d.action !== 'none'))}`);
  return { changeId: String(await primarySerial(dns)), submittedAt, records: done };
}

/** What the configured records hold on the primary now, and which site's value (and TTL) that is. */
export async function rfc2136Read(opts: { dns: DnsConfig }): Promise<RecordReading[]> {
  const { dns } = opts;
  rfc2136Of(dns);
  const out: RecordReading[] = [];
  for (const record of dns.records) {
    checkInZone(dns, record.name);
    const current = await readOne(dns, record.name, record.type);
    out.push({ name: record.name, type: record.type, current, site: siteHolding(record, current) });
  }
  return out;
}

/** For a site's worker: the configured records as the site's resolver (dns.rfc2136.resolvers.<site>) answers them now. */
export async function resolveThroughSite(opts: { dns: DnsConfig; site: string }): Promise<SiteResolution> {
  const { dns, site } = opts;
  const resolver = rfc2136Of(dns).resolvers?.[site];
  if (!resolver) throw new DnsError(`dns.rfc2136.resolvers.${site}: not set; name the resolver that site ${site}'s clients ask`);
  const records: RecordReading[] = [];
  for (const record of dns.records) {
    let answer;
    try {
      answer = await ask(resolver, fqdn(record.name), record.type);
    } catch (err) {
      throw new DnsError(
        `the resolver of site ${site} (${resolver.host}:${resolver.port}) does not answer ${record.name} ${record.type}: ${(err as Error).message}`,
      );
    }
    const current = stateOf(record.name, record.type, answer.records);
    records.push({ name: record.name, type: record.type, current, site: siteHolding(record, current) });
  }
  return { site, resolver: { host: resolver.host, port: resolver.port }, answeredAt: new Date().toISOString(), records };
}

// ---------------------------------------------------------------------------------------------------------

function rfc2136Of(dns: DnsConfig): Rfc2136Config {
  if (dns.provider !== 'rfc2136' || !dns.rfc2136)
    throw new DnsError(`dns.rfc2136: not set (dns.provider is ${dns.provider}); this zone is not managed by RFC 2136 updates`);
  return dns.rfc2136;
}

/** The serial a server serves the change at, or why it does not serve it yet. */
async function probe(
  dns: DnsConfig,
  server: DnsServerAddress,
  serial: number,
  expected: ExpectedRecord[],
): Promise<{ serial: number } | { behind: string }> {
  try {
    const served = await zoneSerial(server, dns.zoneName);
    if (!serialAtLeast(served, serial)) return { behind: `still serves serial ${served}${await oldValues(server, expected)}` };
    for (const record of expected) {
      const answer = await ask(server, fqdn(record.name), record.type, { recurse: false });
      const state = stateOf(record.name, record.type, answer.records);
      if (!state || state.values.length !== 1 || !sameValue(record.type, state.values[0]!, record.value)) {
        return {
          behind: `answers ${record.name} ${record.type} ${state ? state.values.join(', ') : answer.rcode} at serial ${served}, not ${record.value}`,
        };
      }
    }
    return { serial: served };
  } catch (err) {
    if (err instanceof NoAnswerError) return { behind: `does not answer (${err.message})` };
    throw err;
  }
}

/** What a lagging server still answers, for the error: ` (db.example. CNAME old.example.)`. */
async function oldValues(server: DnsServerAddress, expected: ExpectedRecord[]): Promise<string> {
  const parts: string[] = [];
  for (const record of expected) {
    const answer = await ask(server, fqdn(record.name), record.type, { recurse: false }).catch(() => null);
    const state = answer && stateOf(record.name, record.type, answer.records);
    parts.push(`${record.name} ${record.type} ${state ? state.values.join(', ') : (answer?.rcode ?? 'no answer')}`);
  }
  return parts.length ? `, answering ${parts.join('; ')}` : '';
}

async function readOne(dns: DnsConfig, name: string, type: RecordType): Promise<RecordState | null> {
  const primary = rfc2136Of(dns).primary;
  let answer;
  try {
    answer = await ask(primary, fqdn(name), type, { recurse: false });
  } catch (err) {
    throw new DnsError(`dns.rfc2136.primary ${primary.host}:${primary.port} does not answer ${name} ${type}: ${(err as Error).message}`);
  }
  if (!answer.authoritative || (answer.rcode !== 'NOERROR' && answer.rcode !== 'NXDOMAIN')) {
    throw new DnsError(
      `dns.rfc2136.primary ${primary.host}:${primary.port} is not authoritative for ${fqdn(dns.zoneName)} (asked ${name} ${type}: ${answer.rcode})`,
    );
  }
  return stateOf(name, type, answer.records);
}

async function primarySerial(dns: DnsConfig): Promise<number> {
  const primary = rfc2136Of(dns).primary;
  try {
    return await zoneSerial(primary, dns.zoneName);
  } catch (err) {
    throw new DnsError(
      `dns.rfc2136.primary ${primary.host}:${primary.port}: cannot read the serial of ${fqdn(dns.zoneName)}: ${(err as Error).message}`,
    );
  }
}

/** The record set of this name and type in an answer (a CNAME met while asking for A is not it). */
function stateOf(name: string, type: RecordType, answer: Array<{ name: string; ttl: number; type: string; value: string }>): RecordState | null {
  const rrset = answer.filter((r) => r.type === type && sameName(r.name, name));
  return rrset.length === 0 ? null : { ttl: rrset[0]!.ttl, values: rrset.map((r) => r.value) };
}

function siteHolding(record: DnsRecordConfig, current: RecordState | null): string | null {
  if (!current || current.values.length !== 1 || current.ttl !== record.ttl) return null;
  return Object.entries(record.values).find(([, value]) => sameValue(record.type, current.values[0]!, value))?.[0] ?? null;
}

/** The update lines that make `name type` hold exactly `values`. */
function replaceLines(name: string, type: RecordType, ttl: number, values: string[]): string[] {
  for (const value of values) {
    // The script is line-based: a value that could end a line or start a command is refused, not sent.
    if (!/^[A-Za-z0-9._:-]+$/.test(value)) throw new DnsError(`record ${name} ${type}: '${value}' is not a value an update may carry`);
  }
  if (!Number.isInteger(ttl) || ttl < 0) throw new DnsError(`record ${name} ${type}: TTL ${ttl} is not a whole number of seconds`);
  const owner = fqdn(name);
  return [`update delete ${owner} ${type}`, ...values.map((value) => `update add ${owner} ${ttl} ${type} ${type === 'CNAME' ? fqdn(value) : value}`)];
}

/** Sends one signed update to the primary; its refusals become errors that name the config field to fix. */
async function nsupdate(dns: DnsConfig, baseDir: string, lines: string[], what: string): Promise<void> {
  const { primary, tsig } = rfc2136Of(dns);
  let secret: string;
  try {
    secret = resolveSecret(tsig.secret, baseDir);
  } catch (err) {
    throw new DnsError(`${SECRET_FIELD}: ${(err as Error).message}`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secret)) throw new DnsError(`${SECRET_FIELD} (${tsig.secret}): not a base64 TSIG secret`);
  const script = [`server ${primary.host} ${primary.port}`, `zone ${fqdn(dns.zoneName)}`, ...lines, 'send', ''].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'dr-nsupdate-'));
  let result: { code: number; output: string };
  try {
    const keyFile = join(dir, 'tsig.key');
    writeFileSync(keyFile, `key "${tsig.name}" { algorithm ${tsig.algorithm}; secret "${secret}"; };\n`, { mode: 0o600 });
    // -v: TCP, so a large update is not truncated; -t: the whole update's limit.
    result = await runDnsTool('nsupdate', ['-v', '-t', '10', '-k', keyFile], script);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (result.code === 0) return;
  const output = result.output.split(secret).join('[secret]').trim();
  const message = `dns.rfc2136: the update to ${what} at primary ${primary.host}:${primary.port} failed: ${refusal(dns, output)}`;
  // A refusal (a wrong key, no right to update, another zone) is the config's: a retry gets the same answer.
  if (/\((BADKEY|BADSIG|REFUSED|NOTAUTH|NOTZONE);/.test(message)) throw ApplicationFailure.nonRetryable(message, 'DnsRefused');
  throw new DnsError(message);
}

/** nsupdate's output, said in terms of the config. */
function refusal(dns: DnsConfig, output: string): string {
  const { tsig } = rfc2136Of(dns);
  const key = `TSIG key '${tsig.name}' (${tsig.algorithm})`;
  if (/BADKEY/.test(output))
    return `the primary does not know ${key}: check dns.rfc2136.tsig.name and dns.rfc2136.tsig.algorithm, and ${SECRET_FIELD} (BADKEY; nothing changed)`;
  if (/BADSIG|tsig verify failure|tsig indicates error/i.test(output))
    return `the primary refused the signature of ${key}: ${SECRET_FIELD} (${tsig.secret}) is not that key's secret (BADSIG; nothing changed)`;
  if (/BADTIME/.test(output))
    return `the primary refused the signature's time: the clocks differ by more than TSIG's fudge (BADTIME; nothing changed)`;
  if (/REFUSED/.test(output))
    return `the primary refused the update: ${key} may not update zone ${fqdn(dns.zoneName)} (its allow-update or update-policy) (REFUSED; nothing changed)`;
  if (/NOTAUTH/.test(output)) return `the primary is not authoritative for zone ${fqdn(dns.zoneName)} (dns.zoneName) (NOTAUTH; nothing changed)`;
  if (/NOTZONE/.test(output)) return `a record is outside zone ${fqdn(dns.zoneName)} (NOTZONE; nothing changed)`;
  if (/timed out|operation canceled|connection refused|Communication with|could not reach|no servers/i.test(output))
    return `no answer from the primary (dns.rfc2136.primary): ${lastLine(output)}`;
  return lastLine(output) || 'nsupdate failed without a message';
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .filter(Boolean)
      .pop()
      ?.replace(/^;+\s*/, '') ?? ''
  );
}

function describeRecords(records: Array<{ name: string; type: string }>): string {
  return records.map((record) => `${record.name} ${record.type}`).join(', ');
}

function checkInZone(dns: DnsConfig, name: string): void {
  const record = fqdn(name).toLowerCase();
  const zone = fqdn(dns.zoneName).toLowerCase();
  if (record !== zone && !record.endsWith(`.${zone}`)) throw new DnsError(`record ${name} is not inside zone ${zone} (dns.zoneName)`);
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function sameName(a: string, b: string): boolean {
  return fqdn(a).toLowerCase() === fqdn(b).toLowerCase();
}

function sameValue(type: RecordType, a: string, b: string): boolean {
  return type === 'CNAME' ? sameName(a, b) : a === b;
}
