// Route 53: point the configured records at a site, wait until the change is INSYNC, and put the previous
// values back as the compensation. Thin and idempotent: every function can be retried as a whole.
// Credentials are secret references resolved here; no message ever holds a secret value.
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  type Change,
  type ResourceRecordSet,
} from '@aws-sdk/client-route-53';
import { Context } from '@temporalio/activity';
import type { Config } from '../config/schema';
import { resolveSecret } from './secrets';
import { heartbeat } from './heartbeat';

export type DnsConfig = NonNullable<Config['dns']>;
export type DnsRecordConfig = DnsConfig['records'][number];
export type RecordType = DnsRecordConfig['type'];

/** What a record set holds: plain values with a TTL, or an alias. `null` where a record does not exist. */
export interface RecordState {
  ttl?: number;
  values: string[];
  aliasTarget?: { hostedZoneId: string; dnsName: string; evaluateTargetHealth: boolean };
}

export interface PointedRecord {
  name: string;
  type: RecordType;
  ttl: number;
  value: string;
  /** The record before the change, for restoreRecords. */
  previous: RecordState | null;
  /** It already held exactly this value and TTL (e.g. a retried activity). */
  unchanged: boolean;
}

export interface PointResult {
  site: string;
  /** null when no configured record has a value for the site: nothing was submitted. */
  changeId: string | null;
  submittedAt: string | null;
  status: string | null;
  records: PointedRecord[];
  /** Records with no value for this site, left alone. */
  skipped: Array<{ name: string; type: RecordType }>;
}

export interface InsyncResult {
  changeId: string;
  status: string;
  polls: number;
  elapsedMs: number;
}

export interface RestoreResult {
  changeId: string | null;
  submittedAt: string | null;
  records: Array<{ name: string; type: RecordType; action: 'UPSERT' | 'DELETE' | 'none' }>;
}

export interface RecordReading {
  name: string;
  type: RecordType;
  current: RecordState | null;
  /** The site whose configured value (and TTL) the record holds, or null. */
  site: string | null;
}

export class DnsError extends Error {
  override name = 'DnsError';
}

const DEFAULT_INSYNC_TIMEOUT_MS = 120_000;
const FIRST_POLL_DELAY_MS = 200;
const MAX_POLL_DELAY_MS = 2_000;

/** A Route 53 client for the config's dns section. With an endpoint (moto) and no credentials, dummy ones. */
export function route53Client(dns: DnsConfig, baseDir: string): Route53Client {
  if (Boolean(dns.accessKeyId) !== Boolean(dns.secretAccessKey)) {
    throw new DnsError(`dns: accessKeyId and secretAccessKey must be set together (hosted zone ${dns.hostedZoneId ?? dns.zoneName}, ${where(dns)})`);
  }
  const credentials =
    dns.accessKeyId && dns.secretAccessKey
      ? { accessKeyId: resolveSecret(dns.accessKeyId, baseDir), secretAccessKey: resolveSecret(dns.secretAccessKey, baseDir) }
      : dns.endpoint
        ? { accessKeyId: 'testing', secretAccessKey: 'testing' }
        : undefined; // AWS itself: the default provider chain (environment, profile, instance role)
  return new Route53Client({
    region: dns.region,
    endpoint: dns.endpoint,
    credentials,
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
}

/** One UPSERT batch pointing every configured record at `site`; the previous values are read first. */
export async function pointRecordsAt(opts: { dns: DnsConfig; baseDir: string; site: string; comment?: string }): Promise<PointResult> {
  const { dns, site } = opts;
  const wanted: DnsRecordConfig[] = [];
  const skipped: PointResult['skipped'] = [];
  for (const r of dns.records) {
    checkInZone(dns, r.name);
    if (r.values[site] === undefined) skipped.push({ name: r.name, type: r.type });
    else wanted.push(r);
  }
  if (wanted.length === 0) return { site, changeId: null, submittedAt: null, status: null, records: [], skipped };
  const z = await open(dns, opts.baseDir);
  try {
    const records: PointedRecord[] = [];
    for (const r of wanted) {
      const value = r.values[site]!;
      const previous = await readOne(z, r.name, r.type);
      const unchanged =
        previous !== null &&
        !previous.aliasTarget &&
        previous.ttl === r.ttl &&
        previous.values.length === 1 &&
        sameValue(r.type, previous.values[0]!, value);
      records.push({ name: r.name, type: r.type, ttl: r.ttl, value, previous, unchanged });
    }
    const changes: Change[] = records.map((r) => ({
      Action: 'UPSERT',
      ResourceRecordSet: { Name: submitName(r.name), Type: r.type, TTL: r.ttl, ResourceRecords: [{ Value: r.value }] },
    }));
    const what = `records ${records.map((r) => `${r.name} ${r.type}`).join(', ')}`;
    const out = await call(z, 'ChangeResourceRecordSets', what, () =>
      z.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: z.id,
          ChangeBatch: { Comment: comment(opts.comment ?? `point at ${site}`), Changes: changes },
        }),
      ),
    );
    return {
      site,
      changeId: bareChangeId(out.ChangeInfo?.Id),
      submittedAt: out.ChangeInfo?.SubmittedAt?.toISOString() ?? new Date().toISOString(),
      status: out.ChangeInfo?.Status ?? null,
      records,
      skipped,
    };
  } finally {
    z.client.destroy();
  }
}

/** Polls GetChange (200 ms, doubling to 2 s) until INSYNC; throws naming the change id after timeoutMs. */
export async function waitForInsync(opts: { dns: DnsConfig; baseDir: string; changeId: string; timeoutMs?: number }): Promise<InsyncResult> {
  const { dns } = opts;
  const changeId = bareChangeId(opts.changeId);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_INSYNC_TIMEOUT_MS;
  const ctx = activityContext();
  const t0 = Date.now();
  const z = await open(dns, opts.baseDir);
  const deadline = t0 + timeoutMs;
  let delay = FIRST_POLL_DELAY_MS;
  let polls = 0;
  let status: string;
  try {
    for (;;) {
      const out = await call(z, 'GetChange', `change ${changeId}`, () => z.client.send(new GetChangeCommand({ Id: changeId })));
      polls++;
      status = out.ChangeInfo?.Status ?? 'unknown';
      heartbeat({ changeId, status, polls });
      if (status === 'INSYNC') return { changeId, status, polls, elapsedMs: Date.now() - t0 };
      const left = deadline - Date.now();
      if (left <= 0) break;
      await pause(ctx, Math.min(delay, left));
      delay = Math.min(delay * 2, MAX_POLL_DELAY_MS);
    }
  } finally {
    z.client.destroy();
  }
  throw new DnsError(`Route 53 change ${changeId} in ${zoneLabel(z)} at ${where(dns)} is still ${status} after ${timeoutMs} ms (${polls} polls)`);
}

/** The compensation: UPSERT each record's previous state back, DELETE the ones that did not exist. */
export async function restoreRecords(opts: {
  dns: DnsConfig;
  baseDir: string;
  records: Array<{ name: string; type: RecordType; previous: RecordState | null }>;
  comment?: string;
}): Promise<RestoreResult> {
  const { dns } = opts;
  for (const r of opts.records) checkInZone(dns, r.name);
  const z = await open(dns, opts.baseDir);
  try {
    const changes: Change[] = [];
    const done: RestoreResult['records'] = [];
    for (const r of opts.records) {
      if (r.previous) {
        changes.push({ Action: 'UPSERT', ResourceRecordSet: toRecordSet(r.name, r.type, r.previous) });
        done.push({ name: r.name, type: r.type, action: 'UPSERT' });
        continue;
      }
      // Route 53 deletes only an exact match, so delete what is there now; nothing there is already restored.
      const current = await readOne(z, r.name, r.type);
      if (current) {
        changes.push({ Action: 'DELETE', ResourceRecordSet: toRecordSet(r.name, r.type, current) });
        done.push({ name: r.name, type: r.type, action: 'DELETE' });
      } else {
        done.push({ name: r.name, type: r.type, action: 'none' });
      }
    }
    if (changes.length === 0) return { changeId: null, submittedAt: null, records: done };
    const what = `records ${done
      .filter((d) => d.action !== 'none')
      .map((d) => `${d.name} ${d.type}`)
      .join(', ')}`;
    const out = await call(z, 'ChangeResourceRecordSets', what, () =>
      z.client.send(
        new ChangeResourceRecordSetsCommand({
          HostedZoneId: z.id,
          ChangeBatch: { Comment: comment(opts.comment ?? 'restore previous values'), Changes: changes },
        }),
      ),
    );
    return {
      changeId: bareChangeId(out.ChangeInfo?.Id),
      submittedAt: out.ChangeInfo?.SubmittedAt?.toISOString() ?? new Date().toISOString(),
      records: done,
    };
  } finally {
    z.client.destroy();
  }
}

/** What the configured records hold now, and which site's value that is. */
export async function readRecords(opts: { dns: DnsConfig; baseDir: string }): Promise<RecordReading[]> {
  const { dns } = opts;
  for (const r of dns.records) checkInZone(dns, r.name);
  const z = await open(dns, opts.baseDir);
  try {
    const out: RecordReading[] = [];
    for (const r of dns.records) {
      const current = await readOne(z, r.name, r.type);
      const site =
        current && !current.aliasTarget && current.values.length === 1
          ? (Object.entries(r.values).find(([, v]) => sameValue(r.type, current.values[0]!, v))?.[0] ?? null)
          : null;
      out.push({ name: r.name, type: r.type, current, site });
    }
    return out;
  } finally {
    z.client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------

async function readOne(z: Zone, name: string, type: RecordType): Promise<RecordState | null> {
  const out = await call(z, 'ListResourceRecordSets', `record ${name} ${type}`, () =>
    z.client.send(new ListResourceRecordSetsCommand({ HostedZoneId: z.id, StartRecordName: fqdn(name), StartRecordType: type, MaxItems: 1 })),
  );
  const rs = out.ResourceRecordSets?.[0];
  if (!rs || !sameName(rs.Name ?? '', name) || rs.Type !== type) return null;
  if (rs.SetIdentifier !== undefined) {
    throw new DnsError(
      `record ${name} ${type} in ${zoneLabel(z)} uses a routing policy (set identifier '${rs.SetIdentifier}'); only simple records are managed`,
    );
  }
  if (rs.AliasTarget) {
    return {
      values: [],
      aliasTarget: {
        hostedZoneId: rs.AliasTarget.HostedZoneId ?? '',
        dnsName: rs.AliasTarget.DNSName ?? '',
        evaluateTargetHealth: rs.AliasTarget.EvaluateTargetHealth ?? false,
      },
    };
  }
  return { ttl: rs.TTL, values: (rs.ResourceRecords ?? []).map((v) => v.Value ?? '') };
}

function toRecordSet(name: string, type: RecordType, s: RecordState): ResourceRecordSet {
  if (s.aliasTarget) {
    return {
      Name: submitName(name),
      Type: type,
      AliasTarget: {
        HostedZoneId: s.aliasTarget.hostedZoneId,
        DNSName: s.aliasTarget.dnsName,
        EvaluateTargetHealth: s.aliasTarget.evaluateTargetHealth,
      },
    };
  }
  return { Name: submitName(name), Type: type, TTL: s.ttl, ResourceRecords: s.values.map((Value) => ({ Value })) };
}

/** Runs one API call; a failure names the operation, the record or change, the hosted zone and the endpoint. */
async function call<T>(z: Pick<Zone, 'dns' | 'id'>, op: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new DnsError(`Route 53 ${op} for ${what} in ${zoneLabel(z)} at ${where(z.dns)} failed: ${describe(err)}`, { cause: err });
  }
}

interface Zone {
  client: Route53Client;
  dns: DnsConfig;
  /** The hosted zone id, bare (no /hostedzone/). */
  id: string;
}

/** A client and the zone id: the configured one, or looked up by dns.zoneName when the config has none. */
async function open(dns: DnsConfig, baseDir: string): Promise<Zone> {
  const client = route53Client(dns, baseDir);
  if (dns.hostedZoneId) return { client, dns, id: bareZoneId(dns.hostedZoneId) };
  const name = fqdn(dns.zoneName);
  try {
    const out = await call({ dns, id: '' }, 'ListHostedZonesByName', `zone name ${name}`, () =>
      client.send(new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 })),
    );
    const zone = out.HostedZones?.find((h) => sameName(h.Name ?? '', name));
    if (!zone?.Id) throw new DnsError(`no hosted zone named ${name} at ${where(dns)} (set dns.hostedZoneId, or create the zone)`);
    return { client, dns, id: bareZoneId(zone.Id) };
  } catch (err) {
    client.destroy();
    throw err;
  }
}

function zoneLabel(z: Pick<Zone, 'dns' | 'id'>): string {
  return z.id ? `hosted zone ${z.id} (${z.dns.zoneName})` : `hosted zone ${z.dns.zoneName}`;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describe).join('; ');
  const e = err as Error & { code?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const parts = [e.name && e.name !== 'Error' ? e.name : '', e.message || e.code || String(err)].filter(Boolean);
  let s = parts.join(': ');
  if (e.code && !s.includes(e.code)) s += ` (${e.code})`;
  if (e.$metadata?.httpStatusCode) s += ` [HTTP ${e.$metadata.httpStatusCode}]`;
  if (e.$metadata?.attempts && e.$metadata.attempts > 1) s += ` after ${e.$metadata.attempts} attempts`;
  return s;
}

function where(dns: DnsConfig): string {
  return dns.endpoint ? `endpoint ${dns.endpoint}` : `AWS Route 53 (region ${dns.region})`;
}

function bareZoneId(id: string): string {
  return id.replace(/^\/?hostedzone\//, '');
}

function bareChangeId(id: string | undefined): string {
  if (!id) throw new DnsError('Route 53 returned no change id');
  return id.replace(/^\/?change\//, '');
}

function comment(s: string): string {
  return s.length > 256 ? `${s.slice(0, 255)}…` : s;
}

/** Route 53 names: case-insensitive, trailing dot optional, `*` etc. returned as octal escapes. */
function canonical(name: string): string {
  return fqdn(name.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))).toLowerCase();
}

function fqdn(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

function sameName(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

/**
 * Changes are submitted without the trailing dot. Route 53 treats both forms alike; moto 5.2.5 only lets a
 * later DELETE match a record whose UPSERT was sent without it.
 */
function submitName(name: string): string {
  return name.replace(/\.$/, '');
}

function sameValue(type: RecordType, a: string, b: string): boolean {
  return type === 'CNAME' ? canonical(a) === canonical(b) : a === b;
}

function checkInZone(dns: DnsConfig, name: string): void {
  const n = canonical(name);
  const z = canonical(dns.zoneName);
  if (n !== z && !n.endsWith(`.${z}`)) {
    throw new DnsError(
      `record ${name} is not inside hosted zone ${dns.hostedZoneId ? `${bareZoneId(dns.hostedZoneId)} (${dns.zoneName})` : dns.zoneName}; use a fully-qualified name ending in ${dns.zoneName}`,
    );
  }
}

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Inside an activity, a sleep that ends early with CancelledFailure when the activity is cancelled. */
export function pause(ctx: Context | undefined, ms: number): Promise<void> {
  return ctx ? ctx.sleep(ms) : new Promise((r) => setTimeout(r, ms));
}
