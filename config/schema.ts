// The runbook config: one YAML file describing N sites with roles, the services and DNS records that
// follow the primary, objectives, approval policy and notices. Secrets are references only.
import { z } from 'zod';

export const SECRET_REF = /^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/;

/** `env:NAME` or `file:path`; resolved only inside activities, so workflow histories never hold secrets. */
export const secretRef = z
  .string({ error: 'a secret reference is required (env:NAME or file:path)' })
  .regex(SECRET_REF, { error: 'must be a secret reference: env:NAME or file:path, never the secret itself' });

const DURATION = /^(\d+)(ms|s|m|h)$/;
export const duration = z.string().regex(DURATION, { error: "must be a duration such as '500ms', '5s', '2m' or '1h'" });

export function durationMs(d: string): number {
  const m = DURATION.exec(d);
  if (!m) throw new Error(`bad duration '${d}'`);
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

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

const kubernetes = z.strictObject({
  kubeconfig: z.string().min(1),
  context: z.string().optional(),
  namespace: z.string().min(1),
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
  /** Incremental sync interval (overlap SKIP). */
  every: duration,
  /** Nightly full sync + check, in the site's time zone (overlap BUFFER_ONE). */
  nightlyAt: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { error: "must be a time of day HH:MM (00:00 to 23:59), e.g. '02:00'" }),
  /** How late a missed run may still start (after the scheduler or server was down). */
  catchupWindow: duration,
});

const rclone = z.strictObject({
  /** rclone remote spec, e.g. ':s3,provider=Other,endpoint=http://...:' or a named remote 'b2:'. */
  remote: z.string().min(1),
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
  deployment: z.string().min(1),
  hpa: z.string().optional(),
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
  .refine((a) => a.policy === 'auto' || a.approvers.length > 0, {
    error: 'a manual or auto-after policy needs at least one approver',
    path: ['approvers'],
  });

const webhookTarget = z.strictObject({
  name: z.string().min(1),
  /** Slack incoming-webhook URLs are secrets: a reference, or a plain URL for a local receiver. */
  url: z.union([secretRef, z.url()]),
});

const emailTarget = z.strictObject({
  name: z.string().min(1),
  host: z.string().min(1),
  port,
  secure: z.boolean().default(false),
  user: z.string().optional(),
  password: secretRef.optional(),
  from: z.string().min(3),
  to: z.array(z.string().min(3)).min(1),
});

const notifications = z.strictObject({
  webhooks: z.array(webhookTarget).default([]),
  email: z.array(emailTarget).default([]),
  /** Where repeated failures escalate to (target names). */
  escalateTo: z.array(z.string()).default([]),
});

const timeouts = z.strictObject({
  /** How long a site's worker may take to pick up a task before the site counts as unreachable. */
  siteScheduleToStart: duration.default('5s'),
  activity: duration.default('30s'),
  /** Start-to-close of a step that takes milliseconds (inspect, fence, promote, route, verify, DNS upsert): a lost attempt is retried within this. */
  shortStep: duration.default('5s'),
  /** Heartbeat timeout of a long step (catch up, scale and wait, re-seed, sync): a lost attempt is retried within this. */
  heartbeat: duration.default('10s'),
  catchUp: duration.default('60s'),
  dnsInsync: duration.default('120s'),
  scaleReady: duration.default('180s'),
});

const temporal = z.strictObject({
  address: z.string().default('127.0.0.1:7233'),
  namespace: z.string().default('default'),
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

/**
 * Cross-references between sections. Runs on the raw document even when the shapes are wrong, so that
 * one pass reports every problem rather than the first layer of them.
 */
export function crossCheck(raw: unknown): Problem[] {
  const out: Problem[] = [];
  const c = (raw ?? {}) as Record<string, any>;
  const sites: any[] = Array.isArray(c.sites) ? c.sites : [];
  const ids: string[] = sites.map((s) => s?.id).filter((x): x is string => typeof x === 'string');
  const known = () => `known sites: ${[...new Set(ids)].join(', ') || 'none'}`;
  sites.forEach((s, i) => {
    // Positions in `sites`, not in `ids`: a site without an id must not shift which one is the duplicate.
    if (typeof s?.id === 'string' && sites.findIndex((x) => x?.id === s.id) !== i) {
      out.push({ path: ['sites', i, 'id'], message: `duplicate site id '${s.id}'` });
    }
  });
  if (sites.length > 0 && !sites.some((s) => s?.role === 'primary')) out.push({ path: ['sites'], message: "no site has role 'primary'" });
  const groups: any[] = Array.isArray(c.groups) ? c.groups : [];
  groups.forEach((g, gi) => {
    const members: unknown[] = Array.isArray(g?.sites) ? g.sites : [];
    members.forEach((sid, si) => {
      if (typeof sid === 'string' && !ids.includes(sid))
        out.push({ path: ['groups', gi, 'sites', si], message: `unknown site '${sid}' (${known()})` });
    });
    if (groups.findIndex((o) => o?.id === g?.id) !== gi) out.push({ path: ['groups', gi, 'id'], message: `duplicate group id '${g?.id}'` });
    if (Array.isArray(g?.services) && g.services.length > 0) {
      members.forEach((sid, si) => {
        const s = sites.find((x) => x?.id === sid);
        if (s && !s.kubernetes)
          out.push({ path: ['groups', gi, 'sites', si], message: `site '${String(sid)}' has services to scale but no kubernetes section` });
      });
    }
  });
  const records: any[] = Array.isArray(c.dns?.records) ? c.dns.records : [];
  records.forEach((r, ri) => {
    for (const sid of Object.keys(r?.values ?? {})) {
      if (!ids.includes(sid))
        out.push({ path: ['dns', 'records', ri, 'values', sid], message: `record points at unknown site '${sid}' (${known()})` });
    }
  });
  const n = c.notifications ?? {};
  const targets = [...(Array.isArray(n.webhooks) ? n.webhooks : []), ...(Array.isArray(n.email) ? n.email : [])].map((t: any) => t?.name);
  (Array.isArray(n.escalateTo) ? n.escalateTo : []).forEach((t: unknown, i: number) => {
    if (!targets.includes(t))
      out.push({
        path: ['notifications', 'escalateTo', i],
        message: `unknown notification target '${String(t)}' (known: ${targets.join(', ') || 'none'})`,
      });
  });
  const ports = new Map<string, string>();
  sites.forEach((s, si) => {
    for (const what of ['mysql', 'proxysql'] as const) {
      const ep = s?.[what];
      if (!ep?.host || !ep?.port) continue;
      const key = `${ep.host}:${ep.port}`;
      if (ports.has(key)) out.push({ path: ['sites', si, what, 'port'], message: `${key} is also used by ${ports.get(key)}` });
      else ports.set(key, `sites[${si}].${what}`);
    }
  });
  return out;
}

export type Config = z.infer<typeof config>;
export type Site = z.infer<typeof site>;
export type Service = z.infer<typeof service>;
export type Group = z.infer<typeof group>;
