// The runbook config: one YAML file describing N sites with roles, the services and DNS records that
// follow the primary, objectives, approval policy and notices. Secrets are references only.
import { isIP, isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';

export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** `env:NAME` or `file:path`; resolved only inside activities, so workflow histories never hold secrets. */
export const secretRef = z
  .string({ error: 'a secret reference is required (env:NAME or file:path)' })
  .regex(SECRET_REF, { error: 'must be a secret reference: env:NAME or file:path, never the secret itself' });

const DURATION = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : null;
}

export function durationMs(d: string): number {
  const ms = parseDuration(d);
  if (ms === null) throw new Error(`bad duration '${d}'`);
  return ms;
}

/** A limit on a duration, in milliseconds, and what to tell someone who crosses it. */
interface Bound {
  ms: number;
  error: string;
}

/** A duration from min to max. A malformed one is reported by the pattern alone, not by the bounds too. */
function durationWithin(min: Bound, max: Bound) {
  return z
    .string()
    .regex(DURATION, { error: "must be a duration such as '500ms', '5s', '2m' or '1h'" })
    .refine((text) => (parseDuration(text) ?? min.ms) >= min.ms, { error: min.error })
    .refine((text) => (parseDuration(text) ?? max.ms) <= max.ms, { error: max.error });
}

const aboveZero: Bound = { ms: 1, error: 'must be longer than 0' };
const atMost30Days: Bound = { ms: 30 * 24 * UNIT_MS.h, error: 'must be at most 720h (30 days)' };

/** Every duration of the config is more than 0 and at most 30 days, unless its field says otherwise. */
export const duration = durationWithin(aboveZero, atMost30Days);

/** Temporal reads a schedule-to-start of 0 as none: a dead site would never count as unreachable. */
const siteScheduleToStart = durationWithin(
  { ms: 1, error: 'must be longer than 0: Temporal reads 0 as no timeout, so a dead site would never count as unreachable' },
  { ms: 5 * UNIT_MS.m, error: 'must be at most 5m: a dead site counts as unreachable only after this long, and every runbook waits for it' },
);

const port = z.number().int().min(1).max(65535);
const id = z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, { error: 'must be lower-case letters, digits and dashes, starting with a letter' });

const mysql = z.strictObject({
  host: z.string().min(1),
  port,
  user: z.string().min(1),
  password: secretRef,
  /** 'auto' asks the server; set it to skip detection. */
  dialect: z.enum(['auto', 'mysql', 'mariadb']).default('auto'),
  replicationUser: z.string().min(1).optional(),
  replicationPassword: secretRef.optional(),
  /** Client users whose connections survive a fence (replication, monitoring). */
  systemUsers: z.array(z.string()).default([]),
});

const proxysql = z.strictObject({
  host: z.string().min(1),
  port,
  user: z.string().min(1),
  password: secretRef,
  writerHostgroup: z.number().int().min(0),
  readerHostgroup: z.number().int().min(0),
});

/** Kubernetes names: a namespace is a DNS label, a Deployment or an HPA a DNS subdomain (RFC 1123). */
const KUBE_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const kubeNamespace = z.string().refine((name) => name.length <= 63 && KUBE_LABEL.test(name), {
  error: "must be a Kubernetes namespace name: lower-case letters, digits and '-', at most 63 characters",
});
const kubeObjectName = z.string().refine((name) => name.length <= 253 && name.split('.').every((part) => KUBE_LABEL.test(part)), {
  error: "must be a Kubernetes object name: lower-case letters, digits, '-' and '.', at most 253 characters",
});

const kubernetes = z.strictObject({
  kubeconfig: z.string().min(1),
  context: z.string().optional(),
  namespace: kubeNamespace,
  /** How many Deployments are scaled and watched at once. */
  concurrency: z.number().int().min(1).max(64).default(8),
});

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const relPath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split('/').includes('..'), {
    error: "must be a folder inside the share ('.' for all of it), without '..'",
  });

const syncSchedule = z.strictObject({
  /** Incremental sync interval (overlap SKIP). Temporal rounds a schedule's interval to whole seconds. */
  every: durationWithin({ ms: 1000, error: 'must be at least 1s: a schedule counts in whole seconds' }, atMost30Days),
  /** Nightly full sync + check, in the site's time zone (overlap BUFFER_ONE). */
  nightlyAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day HH:MM (00:00 to 23:59), e.g. '02:00'" }),
  /** How late a missed run may still start (after the scheduler or server was down). */
  catchupWindow: duration,
});

const rclone = z.strictObject({
  /** rclone remote spec, e.g. ':s3,provider=Other,endpoint=http://...:' or a named remote 'b2:'. */
  remote: z.string().refine((remote) => remote.endsWith(':'), {
    error: "must end with ':', as in 'b2:' or ':s3,provider=Other,endpoint=...:'; without it rclone writes to a local folder",
  }),
  bucket: z.string().min(1),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  /** The local share: CephFS mount on a primary, NFS export on a DR site. */
  sharePath: z.string().min(1),
  /** Prefix inside the bucket. */
  prefix: z.string().default(''),
  maxDeleteShare: z.number().min(0).max(1).default(0.1),
  /** Sub-folders of the share synced (and RPO-tracked) separately; '.' is the whole share. */
  paths: z.array(relPath).min(1).default(['.']),
  /** Tuning; the defaults are rclone's, which won bench:sync on loopback (docs/file-sync.md). */
  checkers: z.number().int().min(1).max(256).default(8),
  transfers: z.number().int().min(1).max(256).default(4),
  fastList: z.boolean().default(false),
  /** 'download' compares the bytes; 'hash' trusts the checksums the store reports (cheaper, weaker). */
  fullCheck: z.enum(['download', 'hash']).default('download'),
  schedule: syncSchedule.default({ every: '5m', nightlyAt: '02:00', catchupWindow: '1h' }),
});

export const site = z.strictObject({
  id,
  role: z.enum(['primary', 'standby', 'dr']),
  name: z.string().min(1),
  timezone: z.string().refine(validTimeZone, { error: "must be an IANA time zone such as 'Asia/Taipei'" }).default('UTC'),
  mysql,
  proxysql: proxysql.optional(),
  kubernetes: kubernetes.optional(),
  rclone: rclone.optional(),
});

const scaleProfile = z
  .strictObject({
    replicas: z.number().int().min(0),
    minReplicas: z.number().int().min(1).optional(),
    maxReplicas: z.number().int().min(1).optional(),
  })
  .refine((p) => p.minReplicas === undefined || p.maxReplicas === undefined || p.minReplicas <= p.maxReplicas, {
    error: 'minReplicas must not exceed maxReplicas',
    path: ['minReplicas'],
  });

const service = z.strictObject({
  name: z.string().min(1),
  deployment: kubeObjectName,
  hpa: kubeObjectName.optional(),
  production: scaleProfile,
  standby: scaleProfile,
});

const dnsRecord = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9._-]+\.?$/, { error: 'must be a DNS name' }),
  type: z.enum(['A', 'AAAA', 'CNAME']),
  ttl: z.number().int().min(1, { error: 'TTL must be at least 1 second' }).max(172800, { error: 'TTL must be at most 172800 seconds (2 days)' }),
  /** What the record holds while each site is primary: site id → value. */
  values: z.record(z.string(), z.string().min(1)),
});

const dns = z.strictObject({
  /** Omit to look the zone up by zoneName (an emulator such as moto makes up its own ids). */
  hostedZoneId: z.string().min(1).optional(),
  zoneName: z.string().min(1),
  /** For an emulator (moto) or a VPC endpoint; omit for AWS itself. */
  endpoint: z.url().optional(),
  region: z.string().default('us-east-1'),
  accessKeyId: secretRef.optional(),
  secretAccessKey: secretRef.optional(),
  records: z.array(dnsRecord).default([]),
});

const group = z.strictObject({
  id,
  /** Site ids taking part; the first primary-role site is the usual primary. */
  sites: z.array(z.string()).min(2, { error: 'a group needs at least two sites' }),
  services: z.array(service).default([]),
});

const approval = z
  .strictObject({
    policy: z.enum(['auto', 'manual', 'auto-after']),
    after: duration.optional(),
    approvers: z.array(z.string().min(1)).default([]),
  })
  .refine((a) => a.policy !== 'auto-after' || a.after !== undefined, {
    error: "policy 'auto-after' needs 'after', e.g. after: 2m",
    path: ['after'],
  })
  .refine((a) => a.policy === 'auto-after' || a.after === undefined, {
    error: "is used only by policy 'auto-after': remove it, or set policy: auto-after",
    path: ['after'],
  })
  .refine((a) => a.policy === 'auto' || a.approvers.length > 0, {
    error: 'a manual or auto-after policy needs at least one approver',
    path: ['approvers'],
  });

const webhookTarget = z.strictObject({
  name: z.string().min(1),
  /** Slack incoming-webhook URLs are secrets: a reference, or a plain URL for a local receiver. */
  url: z.union([secretRef, z.url({ protocol: /^https?$/ })], {
    error: 'must be a secret reference (env:NAME or file:path) or an http(s) URL for a local receiver',
  }),
});

/** An address with a local part and a domain, bare or as 'Name <address>'. */
const mailbox = z.string().regex(/[^\s@<>,]@[^\s@<>,]/, {
  error: "must be an e-mail address, e.g. 'sre@example.com' or 'DR bot <dr-bot@example.com>'",
});

const emailTarget = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: secretRef.optional(),
  from: mailbox,
  to: z.array(mailbox).min(1),
});

const notifications = z.strictObject({
  webhooks: z.array(webhookTarget).default([]),
  email: z.array(emailTarget).default([]),
  /** Where repeated failures escalate to (target names). */
  escalateTo: z.array(z.string()).default([]),
});

const timeouts = z.strictObject({
  /** How long a site's worker may take to pick up a task before the site counts as unreachable. */
  siteScheduleToStart: siteScheduleToStart.default('5s'),
  activity: duration.default('30s'),
  /** Start-to-close of a step that takes milliseconds (inspect, fence, promote, route, verify, DNS upsert): a lost attempt is retried within this. */
  shortStep: duration.default('5s'),
  /** Heartbeat timeout of a long step (catch up, scale and wait, re-seed, sync): a lost attempt is retried within this. */
  heartbeat: duration.default('10s'),
  catchUp: duration.default('60s'),
  dnsInsync: duration.default('120s'),
  scaleReady: duration.default('180s'),
});

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;
const hostPort = z.string().refine(
  (address) => {
    const port = Number(HOST_PORT.exec(address)?.[3] ?? 0);
    return port >= 1 && port <= 65535;
  },
  { error: "must be host:port with a port from 1 to 65535, e.g. 'temporal.example.internal:7233' or '[::1]:7233'" },
);

const temporal = z.strictObject({
  address: hostPort.default('127.0.0.1:7233'),
  namespace: z.string().min(1, { error: 'must not be empty' }).default('default'),
  /** The Temporal UI, for the links drctl prints; none when unset. */
  ui: z.url().optional(),
});

/** Failback: how far behind the returning site may be before the switch back, and how long each phase may take. */
const failback = z.strictObject({
  /** Replication lag (Seconds_Behind_Master) under which the reprotected site counts as caught up. */
  maxLagSeconds: z.number().min(0).default(5),
  /** How long to wait for a returning site that does not answer yet before failing clearly. */
  returnWait: duration.default('5m'),
  /** A re-seed (dump of the current primary, loaded into the returning site). */
  reseed: duration.default('2h'),
  /** Reprotect: from starting replication until the lag is under maxLagSeconds. */
  catchUp: duration.default('30m'),
});

export const config = z.strictObject({
  name: z.string().min(1),
  temporal: temporal.default({ address: '127.0.0.1:7233', namespace: 'default' }),
  objectives: z.strictObject({
    rtoSeconds: z.number().positive(),
    rpoSeconds: z.number().positive(),
  }),
  sites: z.array(site).min(2, { error: 'at least two sites are needed for disaster recovery' }),
  groups: z.array(group).min(1),
  dns: dns.optional(),
  approval,
  notifications: notifications.default({ webhooks: [], email: [], escalateTo: [] }),
  timeouts: timeouts.default({
    siteScheduleToStart: '5s',
    activity: '30s',
    shortStep: '5s',
    heartbeat: '10s',
    catchUp: '60s',
    dnsInsync: '120s',
    scaleReady: '180s',
  }),
  failback: failback.default({ maxLagSeconds: 5, returnWait: '5m', reseed: '2h', catchUp: '30m' }),
  /** Reports, errant exports and the file-sync state; relative to the config file. */
  stateDir: z.string().min(1).default('state'),
});

type Problem = { path: PropertyKey[]; message: string };
/** A section of the raw document: any shape at all, so each field's type is checked before it is used. */
type Raw = Record<string, any>;

const listOf = (value: unknown): any[] => (Array.isArray(value) ? value : []);
const sectionOf = (value: unknown): Raw => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Raw) : {});
const isText = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const siteIdsOf = (sites: any[]): string[] => sites.map((site) => site?.id).filter(isText);

/**
 * Cross-references between sections, and the rules that take more than one field. Runs on the raw document
 * even when the shapes are wrong, so that one pass reports every problem rather than the first layer of them.
 */
export function crossCheck(raw: unknown): Problem[] {
  const document = sectionOf(raw);
  const sites = listOf(document.sites);
  const groups = listOf(document.groups);
  return [
    ...checkSites(sites),
    ...sites.flatMap((site, index) => [...checkProxysql(sectionOf(site?.proxysql), index), ...checkRclone(sectionOf(site?.rclone), index)]),
    ...checkEndpoints(sites),
    ...checkGroups(groups, sites),
    ...groups.flatMap((group, index) => checkServices(listOf(group?.services), index)),
    ...checkDns(sectionOf(document.dns), sites, groups),
    ...checkNotifications(sectionOf(document.notifications)),
  ];
}

/** Site ids are unique, and exactly one site is the primary. */
function checkSites(sites: any[]): Problem[] {
  const out: Problem[] = [];
  sites.forEach((site, index) => {
    // Positions in `sites`, not in the ids: a site without an id must not shift which one is the duplicate.
    if (isText(site?.id) && sites.findIndex((other) => other?.id === site.id) !== index) {
      out.push({ path: ['sites', index, 'id'], message: `duplicate site id '${site.id}'` });
    }
  });
  const primaries = sites.flatMap((site, index) => (site?.role === 'primary' ? [index] : []));
  if (sites.length > 0 && primaries.length === 0) out.push({ path: ['sites'], message: "no site has role 'primary'" });
  for (const index of primaries.slice(1)) {
    out.push({ path: ['sites', index, 'role'], message: `a second primary: exactly one site has role 'primary', and sites[${primaries[0]}] has it` });
  }
  return out;
}

/** ProxySQL sends reads and writes to hostgroups of their own. */
function checkProxysql(proxysql: Raw, siteIndex: number): Problem[] {
  if (!isNumber(proxysql.writerHostgroup) || proxysql.writerHostgroup !== proxysql.readerHostgroup) return [];
  return [
    {
      path: ['sites', siteIndex, 'proxysql', 'readerHostgroup'],
      message: `is also the writer hostgroup (${proxysql.writerHostgroup}): reads and writes need hostgroups of their own`,
    },
  ];
}

/** The store's keys come as a pair, and each folder of the share is synced by one path only. */
function checkRclone(rclone: Raw, siteIndex: number): Problem[] {
  const at = (...rest: PropertyKey[]) => ['sites', siteIndex, 'rclone', ...rest];
  const out = pairProblems(rclone, 'accessKeyId', 'secretAccessKey', at(), "neither to use rclone's own credentials");
  const paths = listOf(rclone.paths).map((path) => (isText(path) ? folderOf(path) : null));
  paths.forEach((path, index) => {
    const earlier = path === null ? -1 : paths.findIndex((other, before) => before < index && other !== null && overlap(other, path));
    if (earlier < 0) return;
    const other = paths[earlier]!;
    const how = other === path ? 'is the same folder as' : isInside(path!, other) ? 'is inside' : 'holds';
    out.push({ path: at('paths', index), message: `${how} paths[${earlier}] '${other}': its files would be synced twice` });
  });
  return out;
}

/** A folder of the share as a comparable path: 'media/', './media' and 'media' are one folder. */
function folderOf(path: string): string | null {
  if (path.startsWith('/') || path.split('/').includes('..')) return null; // refused by the schema already
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  return parts.length === 0 ? '.' : parts.join('/');
}

const isInside = (inner: string, outer: string): boolean => outer === '.' || inner.startsWith(`${outer}/`);
const overlap = (a: string, b: string): boolean => a === b || isInside(a, b) || isInside(b, a);

/** Two fields set together or not at all; the problem names the one that is missing. */
function pairProblems(section: Raw, first: string, second: string, at: PropertyKey[], neither: string): Problem[] {
  if ((section[first] === undefined) === (section[second] === undefined)) return [];
  const missing = section[first] === undefined ? first : second;
  return [{ path: [...at, missing], message: `${first} and ${second} go together: set both, or ${neither}` }];
}

/** No two databases or ProxySQL admin interfaces share an address. */
function checkEndpoints(sites: any[]): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, string>();
  sites.forEach((site, index) => {
    for (const what of ['mysql', 'proxysql'] as const) {
      const endpoint = site?.[what];
      if (!endpoint?.host || !endpoint?.port) continue;
      const key = `${endpoint.host}:${endpoint.port}`;
      if (seen.has(key)) out.push({ path: ['sites', index, what, 'port'], message: `${key} is also used by ${seen.get(key)}` });
      else seen.set(key, `sites[${index}].${what}`);
    }
  });
  return out;
}

/** Each group names known sites, each once, the primary among them, and Kubernetes wherever it scales services. */
function checkGroups(groups: any[], sites: any[]): Problem[] {
  const out: Problem[] = [];
  const ids = siteIdsOf(sites);
  const known = `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  const primaries = sites.filter((site) => site?.role === 'primary' && isText(site.id));
  groups.forEach((group, groupIndex) => {
    const members = listOf(group?.sites);
    members.forEach((member, index) => {
      const at = ['groups', groupIndex, 'sites', index];
      if (!isText(member)) return;
      if (!ids.includes(member)) out.push({ path: at, message: `unknown site '${member}' (${known})` });
      else if (members.indexOf(member) !== index)
        out.push({ path: at, message: `site '${member}' is listed twice (first as groups[${groupIndex}].sites[${members.indexOf(member)}])` });
      else if (listOf(group.services).length > 0 && !sites.find((site) => site?.id === member)?.kubernetes) {
        out.push({ path: at, message: `site '${member}' has services to scale but no kubernetes section` });
      }
    });
    if (isText(group?.id) && groups.findIndex((other) => other?.id === group.id) !== groupIndex) {
      out.push({ path: ['groups', groupIndex, 'id'], message: `duplicate group id '${group.id}'` });
    }
    const primary = primaries.length === 1 ? primaries[0].id : undefined;
    if (primary !== undefined && members.length > 0 && members.every(isText) && !members.includes(primary)) {
      out.push({
        path: ['groups', groupIndex, 'sites'],
        message: `does not include the primary site '${primary}': a failover here would promote a second writer beside it`,
      });
    }
  });
  return out;
}

/** Each service of a group scales its own Deployment to sizes its HPA keeps. */
function checkServices(services: any[], groupIndex: number): Problem[] {
  const out: Problem[] = [];
  services.forEach((service, index) => {
    const at = (...rest: PropertyKey[]) => ['groups', groupIndex, 'services', index, ...rest];
    for (const field of ['name', 'deployment'] as const) {
      const earlier = isText(service?.[field]) ? services.findIndex((other) => other?.[field] === service[field]) : index;
      if (earlier === index) continue;
      const message =
        field === 'name'
          ? `duplicate service name '${service.name}' (first as groups[${groupIndex}].services[${earlier}])`
          : `Deployment '${service.deployment}' is also scaled by groups[${groupIndex}].services[${earlier}]: the two would fight over its size`;
      out.push({ path: at(field), message });
    }
    if (sectionOf(service?.production).replicas === 0) {
      out.push({ path: at('production', 'replicas'), message: 'a production size of 0 would leave the service without pods after a failover' });
    }
    for (const profile of ['production', 'standby'] as const) {
      out.push(...checkScale(sectionOf(service?.[profile]), isText(service?.hpa), at(profile)));
    }
  });
  return out;
}

/** minReplicas and maxReplicas set the HPA, so they need one; replicas within them, or the HPA undoes the scale at once. */
function checkScale(profile: Raw, hasHpa: boolean, at: PropertyKey[]): Problem[] {
  const { replicas, minReplicas: min, maxReplicas: max } = profile;
  if (!hasHpa) {
    return (['minReplicas', 'maxReplicas'] as const)
      .filter((field) => profile[field] !== undefined)
      .map((field) => ({ path: [...at, field], message: `sets the HPA's ${field}, but the service has no hpa` }));
  }
  if (!isNumber(replicas) || replicas === 0 || (isNumber(min) && isNumber(max) && min > max)) return [];
  if (isNumber(min) && replicas < min) {
    return [{ path: [...at, 'replicas'], message: `${replicas} is below minReplicas ${min}: the HPA would scale it up at once` }];
  }
  if (isNumber(max) && replicas > max) {
    return [{ path: [...at, 'replicas'], message: `${replicas} is above maxReplicas ${max}: the HPA would scale it down at once` }];
  }
  return [];
}

/** Route 53 names: case-insensitive, with the trailing dot optional. */
const dnsName = (name: string): string => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

/** What Route 53 (and a resolver) accepts as the value of a record of each type. */
const VALUE_RULES: Record<string, { ok: (value: string) => boolean; error: string }> = {
  A: { ok: (value) => isIPv4(value), error: 'must be an IPv4 address, as an A record holds' },
  AAAA: { ok: (value) => isIPv6(value), error: 'must be an IPv6 address, as an AAAA record holds' },
  CNAME: {
    ok: (value) => isIP(value) === 0 && /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(value),
    error: 'must be a host name, as a CNAME record holds (for an address use type A or AAAA)',
  },
};

/** Each record is a valid record of its zone, has one entry per name and type, and follows every site of its groups. */
function checkDns(dns: Raw, sites: any[], groups: any[]): Problem[] {
  const out: Problem[] = [];
  const ids = siteIdsOf(sites);
  const known = `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  const records = listOf(dns.records);
  records.forEach((record, index) => {
    const at = (...rest: PropertyKey[]) => ['dns', 'records', index, ...rest];
    const values = sectionOf(record?.values);
    for (const [site, value] of Object.entries(values)) {
      const rule = VALUE_RULES[String(record?.type)];
      if (!ids.includes(site)) out.push({ path: at('values', site), message: `record points at unknown site '${site}' (${known})` });
      else if (rule && isText(value) && value !== '' && !rule.ok(value)) out.push({ path: at('values', site), message: rule.error });
    }
    out.push(...checkRecordName(sectionOf(record), dns.zoneName, records.slice(0, index), at));
    out.push(...checkRecordSites(values, groups, ids, at('values')));
  });
  return out;
}

/** Route 53 refuses a record outside the zone, a CNAME at its apex, and one change that sets a record twice. */
function checkRecordName(record: Raw, zoneName: unknown, earlier: any[], at: (...rest: PropertyKey[]) => PropertyKey[]): Problem[] {
  if (!isText(record.name)) return [];
  const name = dnsName(record.name);
  if (isText(zoneName)) {
    const zone = dnsName(zoneName);
    if (name !== zone && !name.endsWith(`.${zone}`)) return [{ path: at('name'), message: `is not inside the zone ${zoneName}` }];
    if (name === zone && record.type === 'CNAME') return [{ path: at('type'), message: `a CNAME cannot be at the zone apex (${zoneName})` }];
  }
  const same = earlier.findIndex(
    (other) => isText(other?.name) && dnsName(other.name) === name && isText(record.type) && other?.type === record.type,
  );
  if (same >= 0) return [{ path: at('name'), message: `${record.name} ${record.type} is also records[${same}]: one change cannot set it twice` }];
  const clash = earlier.findIndex(
    (other) => isText(other?.name) && dnsName(other.name) === name && (other?.type === 'CNAME') !== (record.type === 'CNAME'),
  );
  if (clash >= 0)
    return [{ path: at('type'), message: `a CNAME cannot share its name with another record, and records[${clash}] is ${record.name} too` }];
  return [];
}

/**
 * Every failover points every record at its new primary, so a record needs a value for every site of every
 * group: a failover to a site without one would leave the record at the old site.
 */
function checkRecordSites(values: Raw, groups: any[], ids: string[], at: PropertyKey[]): Problem[] {
  const out: Problem[] = [];
  for (const group of groups) {
    const members = [...new Set(listOf(group?.sites).filter((member): member is string => isText(member) && ids.includes(member)))];
    const named = members.filter((member) => Object.hasOwn(values, member));
    for (const member of members.filter((member) => !named.includes(member))) {
      const has = named.length ? `it has ${named.join(', ')}` : 'it has none';
      out.push({
        path: at,
        message: `no value for site '${member}' of group '${String(group.id)}' (${has}): a failover to ${member} would leave it at the old site`,
      });
    }
  }
  return out;
}

/** Escalations name a target, targets have one name each, and each SMTP server is reached the way it listens. */
function checkNotifications(notifications: Raw): Problem[] {
  const out: Problem[] = [];
  const targets = (['webhooks', 'email'] as const).flatMap((section) =>
    listOf(notifications[section]).map((target, index) => ({ section, index, name: target?.name as unknown })),
  );
  const names = targets.map((target) => target.name);
  targets.forEach((target, position) => {
    const first = targets.findIndex((other) => isText(target.name) && other.name === target.name);
    if (first >= 0 && first < position) {
      const where = `notifications.${targets[first]!.section}[${targets[first]!.index}]`;
      out.push({ path: ['notifications', target.section, target.index, 'name'], message: `duplicate target name '${target.name}' (also ${where})` });
    }
  });
  listOf(notifications.escalateTo).forEach((name: unknown, index) => {
    if (isText(name) && !names.includes(name)) {
      out.push({
        path: ['notifications', 'escalateTo', index],
        message: `unknown notification target '${String(name)}' (known: ${names.filter(isText).join(', ') || 'none'})`,
      });
    }
  });
  listOf(notifications.email).forEach((mail, index) => out.push(...checkMailServer(sectionOf(mail), ['notifications', 'email', index])));
  return out;
}

/** Port 465 speaks TLS from the first byte; 25 and 587 start in plain text and upgrade with STARTTLS. */
function checkMailServer(mail: Raw, at: PropertyKey[]): Problem[] {
  const out = pairProblems(mail, 'user', 'password', at, 'neither for a server without login');
  if (mail.secure === true && (mail.port === 25 || mail.port === 587)) {
    out.push({
      path: [...at, 'secure'],
      message: `port ${mail.port} upgrades to TLS with STARTTLS: set secure: false (secure: true is for port 465)`,
    });
  }
  if (mail.secure !== true && mail.port === 465) {
    out.push({ path: [...at, 'secure'], message: 'port 465 speaks TLS from the first byte: set secure: true' });
  }
  return out;
}

export type Config = z.infer<typeof config>;
export type Site = z.infer<typeof site>;
export type Service = z.infer<typeof service>;
export type Group = z.infer<typeof group>;
